"""`route FILE.csv -o topics.csv`: a round trip, and one clear line with exit 2 on bad input."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest

from bot.routing.cli import OUTPUT_COLUMNS, add_route_parser


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="burgerbeest")
    add_route_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["route", *argv])
    return args.handler(args)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_round_trip(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "questions.csv",
        [
            ["id", "text", "kern"],
            ["q1", "Mijn paspoort verloopt, hoe vraag ik een nieuwe aan?", "IJmuiden"],
            ["q2", "Er ligt grofvuil naast de container,\nal een week!", "Velserbroek"],
            ["q3", "", "Driehuis"],
            ["q4", "Wanneer wordt de WOZ-beschikking verstuurd?", ""],
        ],
    )
    target = tmp_path / "topics.csv"
    assert run(str(source), "-o", str(target)) == 0
    with target.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == OUTPUT_COLUMNS
    assert [r["id"] for r in rows] == ["q1", "q2", "q3", "q4"]
    assert rows[0]["topic"] == "burgerzaken/paspoort-id-kaart"
    assert rows[1]["topic"] == "openbare-ruimte/afval"
    assert rows[2]["topic"] == rows[2]["confidence"] == ""
    assert rows[3]["topic"].startswith("belastingen/")
    for row in rows:
        if row["confidence"]:
            assert 0 <= float(row["confidence"]) <= 1
        if row["second_confidence"]:
            assert float(row["second_confidence"]) <= float(row["confidence"])


def test_excel_bom_and_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "q.csv"
    source.write_bytes("id,text\n7,Er ligt grofvuil naast de container\n".encode("utf-8-sig"))
    assert run(str(source), "-o", "-") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ",".join(OUTPUT_COLUMNS)
    assert out[1].startswith("7,openbare-ruimte/afval,")


def test_custom_taxonomy_is_used(tmp_path: Path) -> None:
    taxonomy = tmp_path / "topics.toml"
    taxonomy.write_text(
        '[[topics]]\nkey = "x"\nname.nl = "X"\nname.en = "X"\ndeadline_days = 2\nurgent = false\n'
        '[[topics.subtopics]]\nkey = "x/pont"\nname.nl = "Pont"\nname.en = "Ferry"\n'
        'keywords.nl = ["pont"]\n',
        encoding="utf-8",
    )
    source = write_csv(tmp_path / "q.csv", [["id", "text"], ["1", "de pont vaart niet"]])
    target = tmp_path / "out.csv"
    assert run(str(source), "-o", str(target), "--taxonomy", str(taxonomy)) == 0
    assert "1,x/pont," in target.read_text(encoding="utf-8")


def bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = write_csv(tmp_path / "good.csv", [["id", "text"], ["1", "grofvuil"]])
    no_text = write_csv(tmp_path / "no_text.csv", [["id", "vraag"], ["1", "grofvuil"]])
    short = tmp_path / "short.csv"
    short.write_text("id,text\n1\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,text\n1,café\n".encode("latin-1"))
    broken_toml = tmp_path / "topics.toml"
    broken_toml.write_text("[[topics]\n", encoding="utf-8")
    out = str(tmp_path / "out.csv")
    return {
        "missing": ([str(tmp_path / "nope.csv"), "-o", out], "no such file"),
        "directory": ([str(tmp_path), "-o", out], "directory"),
        "no text column": ([str(no_text), "-o", out], "no column text"),
        "short row": ([str(short), "-o", out], "too few columns"),
        "empty": ([str(empty), "-o", out], "empty file"),
        "not utf-8": ([str(latin1), "-o", out], "not UTF-8"),
        "bad taxonomy": ([str(good), "-o", out, "--taxonomy", str(broken_toml)], "TOML"),
        "unwritable": ([str(good), "-o", str(tmp_path / "nodir" / "out.csv")], "cannot be written"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "directory",
        "no text column",
        "short row",
        "empty",
        "not utf-8",
        "bad taxonomy",
        "unwritable",
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    argv, message = bad_inputs(tmp_path)[case]
    assert run(*argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert message in lines[0]
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out.csv").exists()
    assert not list(tmp_path.glob(".out.csv.*"))  # no half-written temporary file left


def test_missing_output_option_is_an_argparse_error() -> None:
    with pytest.raises(SystemExit) as info:
        run("questions.csv")
    assert info.value.code == 2
