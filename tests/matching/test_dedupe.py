"""Dedupe: pairs of the same initiative, the CSV round trip and its errors."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest

from bot.matching import add_dedupe_parser, find_duplicates
from bot.semantic import get_encoder


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="burgerbeest")
    add_dedupe_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


ROWS = [
    ("a1", "Hondenspeeltuin in IJmuiden", "IJmuiden"),
    ("a2", "Kooklessen voor kinderen", None),
    ("a3", "Een speeltuin voor honden in IJmuiden", "IJmuiden"),
    ("a4", "Meer bankjes in het park", "Driehuis"),
    ("a5", "Meer bankje in het park!", "Driehuis"),
]


def test_find_duplicates_pairs_the_same_ideas() -> None:
    pairs = find_duplicates(ROWS)
    assert {(a, b) for a, b, _ in pairs} == {("a1", "a3"), ("a4", "a5")}
    assert all(0.0 < score <= 1.0 for _, _, score in pairs)
    assert [s for _, _, s in pairs] == sorted((s for _, _, s in pairs), reverse=True)


def test_find_duplicates_of_nothing() -> None:
    assert find_duplicates([]) == []
    assert find_duplicates([("x", "", None), ("y", "", None)]) == []


def test_csv_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "ideas.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "kern"])
        writer.writerows([(i, t, k or "") for i, t, k in ROWS])
    out = tmp_path / "pairs.csv"
    assert run(["dedupe", str(source), "-o", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["id_a", "id_b", "score"]
    assert {(r["id_a"], r["id_b"]) for r in rows} == {("a1", "a3"), ("a4", "a5")}
    # The command reads the texts' meaning too, as the bot does.
    vectors = get_encoder().embed([text for _, text, _ in ROWS])
    expected = {(a, b): s for a, b, s in find_duplicates(ROWS, vectors=vectors)}
    for r in rows:
        assert float(r["score"]) == pytest.approx(expected[r["id_a"], r["id_b"]], abs=1e-4)


def test_csv_without_kern_column(tmp_path: Path) -> None:
    source = tmp_path / "ideas.csv"
    source.write_text("id,text\n1,Meer bankjes in het park\n2,meer bankjes in 't park\n", "utf-8")
    out = tmp_path / "pairs.csv"
    assert run(["dedupe", str(source), "-o", str(out)]) == 0
    assert out.read_text("utf-8").splitlines()[1].startswith("1,2,")


def test_missing_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["dedupe", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_missing_column_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "ideas.csv"
    source.write_text("id,title\n1,Meer bankjes\n", "utf-8")
    assert run(["dedupe", str(source), "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing column(s) text" in err


def test_duplicate_id_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "ideas.csv"
    source.write_text("id,text\n1,Meer bankjes\n1,Meer bomen\n", "utf-8")
    assert run(["dedupe", str(source)]) == 2
    assert "duplicate id 1" in capsys.readouterr().err


def test_words_alone_suffice_for_a_duplicate() -> None:
    """A near copy stays a duplicate even when the vectors disagree (the blend alone would
    miss it): dedupe reports a pair that the words or the blend find."""
    import numpy as np

    rows = [("b1", "Meer bankjes in het park", None), ("b2", "Meer bankje in het park!", None)]
    vectors = [np.eye(8, dtype=np.float32)[0], np.eye(8, dtype=np.float32)[1]]
    assert [(a, b) for a, b, _ in find_duplicates(rows, vectors=vectors)] == [("b1", "b2")]
