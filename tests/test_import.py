"""`burgerbeest import`: an existing idea list in, duplicates reported, re-runs harmless."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.config import TOKEN_ENV, load_config
from models import Initiative
from models.database import create_engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_database_url: str) -> Path:
    monkeypatch.setenv(TOKEN_ENV, "123456:import-test-token")
    path = tmp_path / "config.toml"
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    # The first `url = ""` is [database]'s.
    database = example.replace('url = ""', f'url = "{empty_database_url}"', 1)
    path.write_text(database, encoding="utf-8")
    return path


def rows(config: Path) -> list[tuple]:
    async def read() -> list[tuple]:
        engine = create_engine(load_config(config).database_url)
        try:
            async with engine.connect() as connection:
                result = await connection.execute(
                    select(
                        Initiative.external_id,
                        Initiative.title,
                        Initiative.kern,
                        Initiative.author_id,
                        Initiative.source,
                    ).order_by(Initiative.id)
                )
                return [tuple(row) for row in result]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_import_loads_rows_and_reports_duplicates(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "burgertop.csv"
    csv_file.write_text(
        "id;title;description;kern\n"
        "1;Hondenspeeltuin in Zeewijk;Een plek om honden te laten rennen;ijmuiden\n"
        "2;Speeltuin voor honden in Zeewijk;;IJmuiden\n"
        "3;Openbare barbecueplek;;Velsen-Zuid\n"
        "4;Geveltuinen in de straat;;Atlantis\n"
        ";;;\n",
        encoding="utf-8-sig",
    )
    assert main(["import", str(csv_file), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "4 initiatives imported" in out
    assert "Kernen not in the config, kept as written: Atlantis" in out
    assert "#1 'Hondenspeeltuin in Zeewijk' ~ #2 'Speeltuin voor honden in Zeewijk'" in out
    assert "1 possible duplicates" in out
    stored = rows(config)
    assert stored[0] == ("1", "Hondenspeeltuin in Zeewijk", "IJmuiden", None, "burgertop.csv")
    assert [r[2] for r in stored] == ["IJmuiden", "IJmuiden", "Velsen-Zuid", "Atlantis"]

    # Running it again adds nothing.
    assert main(["import", str(csv_file), "--config", str(config)]) == 0
    assert "0 initiatives imported" in capsys.readouterr().out
    assert len(rows(config)) == 4


def test_imported_initiatives_are_found_by_the_running_bot(tmp_path: Path, config: Path) -> None:
    from bot.migrate import upgrade
    from bot.services import Services
    from models.database import create_sessionmaker

    csv_file = tmp_path / "list.csv"
    csv_file.write_text("title,kern\nBankjes langs het kanaal,Velsen-Noord\n", encoding="utf-8")

    cfg = load_config(config)
    engine = create_engine(cfg.database_url)
    services = Services.create(create_sessionmaker(engine))

    async def start() -> int:
        await upgrade(engine)
        return await services.matching.load_index()  # the bot at start: nothing yet

    async def refresh_and_search() -> list[str]:
        await services.matching.load_index()  # the periodic refresh
        found = await services.matching.search("bankje kanaal")
        await engine.dispose()
        return [f.title for f in found]

    runner = asyncio.Runner()
    with runner:
        assert runner.run(start()) == 0
        # The import runs as its own process would, while the bot keeps its index.
        assert main(["import", str(csv_file), "--config", str(config)]) == 0
        assert runner.run(refresh_and_search()) == ["Bankjes langs het kanaal"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,kern\nx,IJmuiden\n", "missing column 'title'"),
        ("id,title\n1,a\n1,b\n", "id 1 twice"),
    ],
)
def test_bad_import_files_give_one_line(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(content, encoding="utf-8")
    assert main(["import", str(csv_file), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_missing_import_file(tmp_path: Path, config: Path, capsys) -> None:
    assert main(["import", str(tmp_path / "nope.csv"), "--config", str(config)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_dedupe_is_on_the_command_line(tmp_path: Path, capsys) -> None:
    csv_file = tmp_path / "ideas.csv"
    csv_file.write_text(
        "id,text,kern\na,Hondenspeeltuin,IJmuiden\nb,Speeltuin voor honden,IJmuiden\n"
        "c,Repair café,Driehuis\n",
        encoding="utf-8",
    )
    out = tmp_path / "pairs.csv"
    assert main(["dedupe", str(csv_file), "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id_a,id_b,score" and lines[1].startswith("a,b,")
    assert len(lines) == 2
