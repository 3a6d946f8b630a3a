"""Find initiatives that are the same idea, in a list or a CSV file (`burgerbeest dedupe`)."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from bot.matching.index import MatchIndex
from bot.matching.normalize import normalize
from bot.matching.score import DUPLICATE_THRESHOLD
from bot.semantic import get_encoder

EXIT_USAGE = 2
# Duplicates looked for per row; a text with more near-copies than this is reported partly.
MAX_PER_ROW = 50


class DedupeInputError(Exception):
    """A problem with the input file that the person running the command can fix."""


def find_duplicates(
    rows: Iterable[tuple[str, str, str | None]],
    *,
    threshold: float = DUPLICATE_THRESHOLD,
    vectors: Sequence[np.ndarray | None] | None = None,
) -> list[tuple[str, str, float]]:
    """Pairs (id_a, id_b, score) of rows that are the same initiative, best first; id_a is the
    row that came first. The same kern counts for it, as in the bot's search. With `vectors`
    (the rows' sentence vectors, in order; None for a row without one), meaning counts too: a
    pair is reported when the blend or the words alone reach the threshold (on the Pabulib
    tuning pairs the words are the more precise at the very top, the blend finds others)."""
    ids: list[str] = []
    kerns: list[str | None] = []
    index = MatchIndex()
    normalized: list[str] = []
    for row_id, text, kern in rows:
        n = len(ids)
        ids.append(row_id)
        kerns.append(kern)
        normalized.append(normalize(text))
        index.add(n, normalized[n], kern)
        index.set_vector(n, None if vectors is None else vectors[n])
    pairs: dict[tuple[int, int], float] = {}
    for n, text in enumerate(normalized):
        matches = index.query_normalized(
            text,
            kern=kerns[n],
            limit=MAX_PER_ROW,
            exclude=(n,),
            min_score=threshold,
            vector=index.vector(n),
            words_suffice=True,
        )
        for match in matches:
            key = (min(n, match.doc_id), max(n, match.doc_id))
            pairs[key] = max(pairs.get(key, 0.0), match.score)
    ordered = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))
    return [(ids[a], ids[b], value) for (a, b), value in ordered]


def read_rows(path: Path) -> list[tuple[str, str, str | None]]:
    """`id,text[,kern]` with a header line; raises DedupeInputError with a readable message."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = set(reader.fieldnames or ())
            missing = [c for c in ("id", "text") if c not in columns]
            if missing:
                raise DedupeInputError(f"{path}: missing column(s) {', '.join(missing)}")
            has_kern = "kern" in columns
            rows: list[tuple[str, str, str | None]] = []
            seen: set[str] = set()
            for row in reader:
                row_id = (row["id"] or "").strip()
                if not row_id:
                    raise DedupeInputError(f"{path}:{reader.line_num}: empty id")
                if row_id in seen:
                    raise DedupeInputError(f"{path}:{reader.line_num}: duplicate id {row_id}")
                seen.add(row_id)
                kern = (row.get("kern") or "").strip() or None if has_kern else None
                rows.append((row_id, row["text"] or "", kern))
            return rows
    except FileNotFoundError:
        raise DedupeInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DedupeInputError(f"{path}: cannot read: {exc}") from None


def write_pairs(pairs: list[tuple[str, str, float]], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("id_a", "id_b", "score"))
    for id_a, id_b, value in pairs:
        writer.writerow((id_a, id_b, f"{value:.4f}"))


def cmd_dedupe(args: argparse.Namespace) -> int:
    try:
        rows = read_rows(args.file)
        encoder = get_encoder()
        if encoder is not None and rows:
            print(f"reading the meaning of {len(rows)} texts", file=sys.stderr)
        vectors = None if encoder is None else encoder.embed([text for _, text, _ in rows])
        pairs = find_duplicates(rows, vectors=vectors)
        if str(args.output) == "-":
            write_pairs(pairs, sys.stdout)
        else:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                write_pairs(pairs, out)
    except DedupeInputError as exc:
        print(f"burgerbeest dedupe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"burgerbeest dedupe: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{len(rows)} initiatives, {len(pairs)} duplicate pairs", file=sys.stderr)
    return 0


def add_dedupe_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dedupe FILE.csv -o pairs.csv` on the CLI's sub-command parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dedupe",
        help="list pairs of initiatives in a CSV file that are the same idea",
        description="Reads id,text[,kern] (with a header) and writes id_a,id_b,score.",
    )
    parser.add_argument("file", type=Path, metavar="FILE.csv")
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("-"), help="pairs CSV (default: stdout)"
    )
    parser.set_defaults(handler=cmd_dedupe)
