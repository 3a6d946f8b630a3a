"""`burgerbeest routing import|examples|forget`: a municipality's own labelled questions in,
what was learned listed, one example undone (and logged)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.config import load_config
from models import ExampleSource, ModerationAction, ModerationLog, RoutingExample
from models.database import create_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path, empty_database_url: str) -> Path:
    path = tmp_path / "config.toml"
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    # The first `url = ""` is [database]'s.
    path.write_text(
        example.replace('url = ""', f'url = "{empty_database_url}"', 1), encoding="utf-8"
    )
    return path


def stored(config: Path) -> tuple[list[RoutingExample], list[ModerationLog]]:
    async def read() -> tuple[list[RoutingExample], list[ModerationLog]]:
        engine = create_engine(load_config(config, need_token=False).database_url)
        try:
            async with engine.connect() as connection:
                examples = (await connection.execute(select(RoutingExample))).all()
                logged = (await connection.execute(select(ModerationLog))).all()
                return list(examples), list(logged)  # type: ignore[arg-type]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_import_list_and_forget(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "labelled.csv"
    labelled.write_text(
        "text,topic\n"
        "Mag mijn hond los in het Velserbos?,overlast/dieren\n"
        "Waar kan ik mijn kerstboom kwijt?,openbare-ruimte/afval\n"
        "Iets over de haven,haven/pont\n"
        ",belastingen\n",
        encoding="utf-8",
    )
    assert main(["routing", "import", str(labelled), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "2 examples learned" in out
    assert "line 4: unknown topic 'haven/pont'" in out and "line 5: no text" in out
    examples, _ = stored(config)
    assert [(e.topic_key, e.source, e.question_id) for e in examples] == [
        ("overlast/dieren", ExampleSource.IMPORTED.value, None),
        ("openbare-ruimte/afval", ExampleSource.IMPORTED.value, None),
    ]
    assert all(e.vector for e in examples)  # vectors only: the CSV's words are not kept

    assert main(["routing", "examples", "--config", str(config)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2] for line in listing] == [
        "openbare-ruimte/afval",
        "overlast/dieren",
    ]

    assert main(["routing", "forget", "1", "--config", str(config)]) == 0
    assert "example #1 (overlast/dieren) forgotten" in capsys.readouterr().out
    examples, logged = stored(config)
    assert [e.topic_key for e in examples] == ["openbare-ruimte/afval"]
    assert [(entry.action, entry.target_id, entry.moderator_id) for entry in logged] == [
        (ModerationAction.FORGET_EXAMPLE.value, 1, None)
    ]
    assert main(["routing", "forget", "1", "--config", str(config)]) == 2
    assert "no example #1" in capsys.readouterr().err


def test_a_bad_file_gives_one_line(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("question,label\nx,y\n", encoding="utf-8")
    assert main(["routing", "import", str(wrong), "--config", str(config)]) == 2
    assert "needs the columns text and topic" in capsys.readouterr().err
    assert main(["routing", "import", str(tmp_path / "nope.csv"), "--config", str(config)]) == 2
