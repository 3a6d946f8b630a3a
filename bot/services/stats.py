"""What Burgerbeest achieves, in figures for moderators and the council: free of Telegram.

Everything here is counted from rows without personal data: no names, no texts of residents.
`export_csv` writes the same as files a council can open in a spreadsheet.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.routing import Taxonomy
from bot.routing.keys import main_topic
from bot.workdays import WorkingCalendar
from models import (
    EventKind,
    Initiative,
    Introduction,
    IntroductionStatus,
    Question,
    QuestionEvent,
    Supporter,
    Visibility,
)
from models.base import utcnow

Table = tuple[tuple[str, ...], list[tuple[object, ...]]]

# The topic of an initiative or question the classifier was unsure of (a key no taxonomy has).
UNKNOWN = "onbekend"
# Rejected by a moderator (spam, abuse): not an initiative the figures should count.
_NOT_COUNTED = Visibility.REJECTED


@dataclass
class Stats:
    initiatives_by_kern: Counter[str] = field(default_factory=Counter)
    initiatives_by_status: Counter[str] = field(default_factory=Counter)
    # main topic key (UNKNOWN when unsure) → count
    initiatives_by_topic: Counter[str] = field(default_factory=Counter)
    # main topic key → the keys stored under it → count: a subtopic key, or the main topic's
    # own key for initiatives the classifier (or resident) was sure of no further than that
    initiatives_by_subtopic: dict[str, Counter[str]] = field(default_factory=dict)
    # month ("2026-11") → kern → count, for the chart over time
    initiatives_by_month: dict[str, Counter[str]] = field(default_factory=dict)
    # month → main topic key → count
    initiatives_by_month_topic: dict[str, Counter[str]] = field(default_factory=dict)
    supporters: int = 0
    introductions_asked: int = 0
    introductions_accepted: int = 0
    questions_by_topic: Counter[str] = field(default_factory=Counter)
    questions_open: int = 0
    median_response_working_days: float | None = None
    deadlines_missed: int = 0

    @property
    def initiatives(self) -> int:
        return sum(self.initiatives_by_kern.values())

    @property
    def questions(self) -> int:
        return sum(self.questions_by_topic.values())


def _main_topic(key: str | None) -> str:
    return main_topic(key) or UNKNOWN


def _subtopic(key: str | None) -> str:
    """The subtopic part of a stored key: "initiatieven/groen" for itself, "" for a main topic
    or none."""
    return key if key and "/" in key else ""


class StatsService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        calendar: WorkingCalendar,
        taxonomy: Taxonomy | None = None,
    ):
        self._sessions = sessions
        self._calendar = calendar
        # For the Dutch topic names in the export; without it the export has keys only.
        self._taxonomy = taxonomy

    def _topic_name(self, key: str) -> str:
        if not key:
            return ""
        topic = self._taxonomy.get(key) if self._taxonomy else None
        return topic.name("nl") if topic else ""

    async def compute(self) -> Stats:
        stats = Stats()
        tz = self._calendar.tz
        async with self._sessions() as session:
            for kern, topic, status, created in await session.execute(
                select(
                    Initiative.kern, Initiative.topic, Initiative.status, Initiative.created_at
                ).where(Initiative.visibility != _NOT_COUNTED)
            ):
                # Counted per main topic (what residents follow), and within it per subtopic.
                main = _main_topic(topic)
                stats.initiatives_by_kern[kern] += 1
                stats.initiatives_by_topic[main] += 1
                stats.initiatives_by_subtopic.setdefault(main, Counter())[topic or UNKNOWN] += 1
                stats.initiatives_by_status[status.value] += 1
                month = created.astimezone(tz).strftime("%Y-%m")
                stats.initiatives_by_month.setdefault(month, Counter())[kern] += 1
                stats.initiatives_by_month_topic.setdefault(month, Counter())[main] += 1
            stats.initiatives_by_month = dict(sorted(stats.initiatives_by_month.items()))
            stats.initiatives_by_month_topic = dict(
                sorted(stats.initiatives_by_month_topic.items())
            )
            stats.supporters = await _count(session, select(func.count(Supporter.id)))
            stats.introductions_asked = await _count(session, select(func.count(Introduction.id)))
            stats.introductions_accepted = await _count(
                session,
                select(func.count(Introduction.id)).where(
                    Introduction.status == IntroductionStatus.ACCEPTED
                ),
            )
            await self._questions(session, stats)
        return stats

    async def _questions(self, session: AsyncSession, stats: Stats) -> None:
        first_answer, escalated = await _answers_and_escalations(session)
        response_days = []
        now = utcnow()
        for question in await session.scalars(select(Question)):
            stats.questions_by_topic[_main_topic(question.topic_key)] += 1
            stats.questions_open += question.status.is_open
            answered = first_answer.get(question.id)
            if answered is not None:
                response_days.append(
                    self._calendar.working_days_between(question.created_at, answered)
                )
            stats.deadlines_missed += _missed(question, answered, escalated, now)
        if response_days:
            stats.median_response_working_days = round(statistics.median(response_days), 2)

    async def export_tables(self) -> dict[str, Table]:
        """Anonymised tables for the council (file name → header and rows): no names, no
        residents' words, no ids of people. `write_csv` puts them on disk."""
        tz = self._calendar.tz
        async with self._sessions() as session:
            joined = dict(
                (
                    await session.execute(
                        select(Supporter.initiative_id, func.count()).group_by(
                            Supporter.initiative_id
                        )
                    )
                ).all()
            )
            initiatives = [
                (
                    i.id,
                    # Only a title others can already read; one a moderator has yet to see
                    # (pending, hidden) may hold what should not reach the council.
                    i.title if i.visibility is Visibility.VISIBLE else "",
                    i.kern,
                    # The main topic, then the subtopic when one is stored ("" if not).
                    _main_topic(i.topic),
                    _subtopic(i.topic),
                    i.status.value,
                    i.created_at.astimezone(tz).date(),
                    1 + joined.get(i.id, 0),
                )
                for i in await session.scalars(
                    select(Initiative)
                    .where(Initiative.visibility != _NOT_COUNTED)
                    .order_by(Initiative.id)
                )
            ]
            per_subtopic = Counter(
                (created.strftime("%Y-%m"), topic, sub)
                for _, _, _, topic, sub, _, created, _ in initiatives
            )
            per_topic: Counter[tuple[str, str]] = Counter()
            for (month, topic, _), n in per_subtopic.items():
                per_topic[month, topic] += n
            answered, escalated = await _answers_and_escalations(session)
            questions = []
            now = utcnow()
            for q in await session.scalars(select(Question).order_by(Question.id)):
                first = answered.get(q.id)
                days = (
                    round(self._calendar.working_days_between(q.created_at, first), 2)
                    if first is not None
                    else ""
                )
                questions.append(
                    (
                        q.id,
                        q.created_at.astimezone(tz).date(),
                        q.topic_key or "",
                        q.kern or "",
                        q.status.value,
                        days,
                        "ja" if _missed(q, first, escalated, now) else "nee",
                    )
                )
            introductions = Counter(
                (i.created_at.astimezone(tz).strftime("%Y-%m"), i.status.value)
                for i in await session.scalars(select(Introduction))
            )
        return {
            "initiatieven.csv": (
                (
                    "nummer",
                    "titel",
                    "kern",
                    "onderwerp",
                    "subonderwerp",
                    "status",
                    "ingediend",
                    "mensen",
                ),
                initiatives,
            ),
            "initiatieven_per_onderwerp.csv": (
                ("maand", "onderwerp", "naam", "aantal"),
                sorted(
                    (month, topic, self._topic_name(topic), n)
                    for (month, topic), n in per_topic.items()
                ),
            ),
            # The same per subtopic; "" where only the main topic is known.
            "initiatieven_per_subonderwerp.csv": (
                ("maand", "onderwerp", "subonderwerp", "naam", "aantal"),
                sorted(
                    (month, topic, sub, self._topic_name(sub), n)
                    for (month, topic, sub), n in per_subtopic.items()
                ),
            ),
            "vragen.csv": (
                (
                    "nummer",
                    "ingediend",
                    "onderwerp",
                    "kern",
                    "status",
                    "werkdagen_tot_antwoord",
                    "deadline_gemist",
                ),
                questions,
            ),
            "kennismakingen.csv": (
                ("maand", "status", "aantal"),
                sorted((month, status, n) for (month, status), n in introductions.items()),
            ),
        }


async def _answers_and_escalations(
    session: AsyncSession,
) -> tuple[dict[int, datetime], set[int]]:
    """When each question was first answered, and which ones passed their deadline."""
    first_answer: dict[int, datetime] = {}
    escalated: set[int] = set()
    for question_id, kind, at in await session.execute(
        select(QuestionEvent.question_id, QuestionEvent.kind, QuestionEvent.at)
        .where(QuestionEvent.kind.in_([EventKind.ANSWERED, EventKind.ESCALATED]))
        .order_by(QuestionEvent.at)
    ):
        if kind is EventKind.ANSWERED:
            first_answer.setdefault(question_id, at)
        else:
            escalated.add(question_id)
    return first_answer, escalated


def _missed(
    question: Question, answered: datetime | None, escalated: set[int], now: datetime
) -> bool:
    """Past its deadline: escalated, or answered after it, or still with the civil servant
    after it. Escalation alone misses the question answered (or not yet escalated) between
    the deadline and the next dispatch time, when the escalation is due."""
    if question.id in escalated:
        return True
    deadline = question.deadline_at
    if deadline is None:
        return False
    if answered is not None:
        return answered > deadline
    return question.status.awaits_civil_servant and now > deadline


async def _count(session: AsyncSession, query: object) -> int:
    return int(await session.scalar(query) or 0)  # type: ignore[arg-type]


def write_csv(directory: Path, tables: dict[str, Table]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (header, rows) in tables.items():
        path = directory / name
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(path)
    return written


def monthly_series(
    by_month: dict[str, Counter[str]],
) -> tuple[list[str], dict[str, list[int]]]:
    """Months in order and, per kern or topic, the number of initiatives in each: the chart's
    data (`Stats.initiatives_by_month` or `initiatives_by_month_topic`)."""
    months = list(by_month)
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for n, month in enumerate(months):
        for key, count in by_month[month].items():
            series[key][n] = count
    return months, dict(series)
