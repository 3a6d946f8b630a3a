"""`burgerbeest import FILE.csv`: an existing list of ideas (a citizens' summit's 300, a
spreadsheet) into the database, with a report of the duplicates in it.

Columns (header row; comma or semicolon, UTF-8 with or without BOM):
`title` (required), `id`, `description`, `kern` (optional). Rows are keyed by (source, id), so
running the same import again adds nothing twice.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.matching import DUPLICATE_THRESHOLD, find_duplicates, normalize
from bot.semantic import unpack
from bot.services.initiative_topics import InitiativeTopics, initiative_text
from bot.services.initiatives import DESCRIPTION_MAX, TITLE_MAX, matching_text
from bot.services.text_input import clean
from bot.services.vectors import refresh_vectors
from models import Initiative, InitiativeStatus, InitiativeStatusChange, InitiativeVector


class ImportInputError(Exception):
    """A problem with the file that the person running the import can fix."""


@dataclass(frozen=True)
class ImportRow:
    external_id: str
    title: str
    description: str
    kern: str


@dataclass
class ImportReport:
    imported: list[tuple[int, str]] = field(default_factory=list)  # (initiative id, title)
    already_there: int = 0
    unknown_kernen: set[str] = field(default_factory=set)
    # (id a, title a, id b, title b, score): at least one side imported now.
    duplicates: list[tuple[int, str, int, str, float]] = field(default_factory=list)
    # topic key stored (a subtopic or main topic; None: unsure) → how many imported rows got it
    topics: Counter[str | None] = field(default_factory=Counter)


def read_import_csv(path: Path, kernen: Iterable[str]) -> tuple[list[ImportRow], set[str]]:
    """The rows of `path`, with kernen matched to the configured names case-insensitively;
    also the kern values that matched none (kept as written)."""
    known = {k.casefold(): k for k in kernen}
    unknown: set[str] = set()
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.DictReader(fh, dialect=dialect)
            columns = {c.strip().lower() for c in reader.fieldnames or ()}
            if "title" not in columns:
                raise ImportInputError(f"{path}: missing column 'title' (found: {sorted(columns)})")
            rows: list[ImportRow] = []
            seen: set[str] = set()
            for number, raw in enumerate(reader, start=1):
                row = {(k or "").strip().lower(): (v or "") for k, v in raw.items()}
                title = clean(row.get("title"))[:TITLE_MAX]
                if not title:
                    continue  # an empty line in a spreadsheet, not an idea
                external_id = clean(row.get("id")) or str(number)
                if external_id in seen:
                    raise ImportInputError(f"{path}:{reader.line_num}: id {external_id} twice")
                seen.add(external_id)
                kern_raw = clean(row.get("kern"))
                kern = known.get(kern_raw.casefold(), kern_raw)
                if kern_raw and kern_raw.casefold() not in known:
                    unknown.add(kern_raw)
                description = clean(row.get("description"))[:DESCRIPTION_MAX]
                rows.append(ImportRow(external_id, title, description, kern))
            return rows, unknown
    except FileNotFoundError:
        raise ImportInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportInputError(f"{path}: cannot read: {exc}") from None


async def import_initiatives(
    sessions: async_sessionmaker[AsyncSession],
    rows: list[ImportRow],
    source: str,
    progress: Callable[[int], None] = lambda _: None,
    *,
    topics: InitiativeTopics | None = None,
) -> ImportReport:
    """Store the rows not imported before (one transaction), each with its main topic when
    `topics` is given and sure, then look for duplicates among everything stored.
    `progress(n)` is called after each row."""
    report = ImportReport()
    async with sessions.begin() as session:
        existing = set(
            await session.scalars(select(Initiative.external_id).where(Initiative.source == source))
        )
        for row in rows:
            if row.external_id in existing:
                report.already_there += 1
            else:
                initiative = Initiative(
                    author_id=None,
                    title=row.title,
                    description=row.description,
                    motivation="",
                    kern=row.kern,
                    topic=(
                        topics.classify(initiative_text(row.title, row.description, ""))
                        if topics is not None
                        else None
                    ),
                    needs=[],
                    allow_introductions=False,
                    status=InitiativeStatus.IDEA,
                    normalized=normalize(matching_text(row.title)),
                    source=source,
                    external_id=row.external_id,
                )
                session.add(initiative)
                await session.flush()
                session.add(
                    InitiativeStatusChange(initiative_id=initiative.id, status=initiative.status)
                )
                report.imported.append((initiative.id, initiative.title))
                report.topics[initiative.topic] += 1
            progress(1)
    # Their meaning, for the bot's blended matching (and the duplicates below).
    await refresh_vectors(sessions, [doc_id for doc_id, _ in report.imported])
    async with sessions() as session:
        everything = (
            await session.execute(
                select(
                    Initiative.id, Initiative.title, Initiative.kern, InitiativeVector.vector
                ).outerjoin(InitiativeVector)
            )
        ).all()
    titles = {doc_id: title for doc_id, title, _, _ in everything}
    new = {doc_id for doc_id, _ in report.imported}
    pairs = find_duplicates(
        ((str(doc_id), title, kern) for doc_id, title, kern, _ in everything),
        threshold=DUPLICATE_THRESHOLD,
        vectors=[None if v is None else unpack(v) for *_, v in everything],
    )
    for a, b, score in pairs:
        id_a, id_b = int(a), int(b)
        if id_a in new or id_b in new:
            report.duplicates.append((id_a, titles[id_a], id_b, titles[id_b], score))
    return report
