"""`burgerbeest route FILE.csv -o topics.csv`: classify a batch of questions offline.

Input: a CSV with a header and at least the columns `id` and `text` (UTF-8, a BOM from Excel is
fine; "-" reads stdin). Output: `id,topic,confidence,second_topic,second_confidence`, one row per
input row, empty topic when nothing matched ("-" writes stdout). A problem the user can fix ends
in one line on stderr and exit status 2; the output file is only replaced when all went well.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from bot.routing.classifier import TopicClassifier
from bot.routing.taxonomy import TaxonomyError, load_taxonomy

EXIT_USAGE = 2
OUTPUT_COLUMNS = ("id", "topic", "confidence", "second_topic", "second_confidence")


class RouteError(Exception):
    """A problem with the input or output, phrased for the person running the command."""


def add_route_parser(subparsers: Any) -> None:
    """Register `route` on the project CLI's sub-command parsers (argparse `add_subparsers`)."""
    route = subparsers.add_parser(
        "route",
        help="classify questions from a CSV (id,text) into topics",
        description="Classify each row of FILE (CSV with id,text) into the topic taxonomy.",
    )
    route.add_argument("file", metavar="FILE.csv", help='input CSV with id,text ("-" = stdin)')
    route.add_argument(
        "-o", "--output", required=True, metavar="topics.csv", help='output CSV ("-" = stdout)'
    )
    route.add_argument(
        "--taxonomy", type=Path, default=None, help="topics.toml (default: the shipped one)"
    )
    route.set_defaults(handler=cmd_route)


def cmd_route(args: argparse.Namespace) -> int:
    try:
        classifier = TopicClassifier(load_taxonomy(args.taxonomy))
        rows = _read(args.file)
        out = io.StringIO()
        _classify(classifier, rows, out)
        _write(args.output, out.getvalue())
    except (RouteError, TaxonomyError) as exc:
        print(f"burgerbeest route: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _read(name: str) -> list[tuple[str, str]]:
    try:
        if name == "-":
            return _rows(sys.stdin, "stdin")
        with Path(name).open(encoding="utf-8-sig", newline="") as f:
            return _rows(f, name)
    except FileNotFoundError:
        raise RouteError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise RouteError(f"{name}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise RouteError(f"{name}: not UTF-8 text (save the CSV as UTF-8)") from None
    except OSError as exc:
        raise RouteError(f"{name}: cannot be read ({exc.strerror})") from None


def _rows(f: TextIO, name: str) -> list[tuple[str, str]]:
    reader = csv.DictReader(f)
    try:
        header = reader.fieldnames
        if not header:
            raise RouteError(f"{name}: empty file, expected a header line with id,text")
        missing = [c for c in ("id", "text") if c not in header]
        if missing:
            raise RouteError(
                f"{name}: header has no column {' or '.join(missing)} (found: {', '.join(header)})"
            )
        rows = []
        for row in reader:
            if row["id"] is None or row["text"] is None:
                raise RouteError(f"{name}: line {reader.line_num} has too few columns")
            rows.append((row["id"], row["text"]))
        return rows
    except csv.Error as exc:
        raise RouteError(f"{name}: line {reader.line_num} is not valid CSV ({exc})") from None


def _classify(classifier: TopicClassifier, rows: list[tuple[str, str]], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for row_id, text in rows:
        scores = classifier.classify(text, limit=2)
        cells = [row_id]
        for i in range(2):
            if i < len(scores):
                cells += [scores[i].key, f"{scores[i].confidence:.3f}"]
            else:
                cells += ["", ""]
        writer.writerow(cells)


def _write(name: str, content: str) -> None:
    if name == "-":
        sys.stdout.write(content)
        return
    target = Path(name)
    tmp: Path | None = None
    try:
        # Write next to the target and rename: a failure never leaves half a file behind.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(content)
        tmp.replace(target)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise RouteError(f"{name}: cannot be written ({exc.strerror})") from None
