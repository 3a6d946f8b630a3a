"""Prometheus metrics: counters kept as things happen, gauges read from the database at scrape.

Each Application has its own registry, so two in one process (tests, a second instance in a
benchmark) never mix their figures.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Initiative, User
from models.base import utcnow
from models.broadcast import Broadcast, BroadcastDelivery, BroadcastState, DeliveryState
from models.question import Question, QuestionStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# A gauge source: reads its figure from the database and sets it (features add their own).
GaugeSource = Callable[[AsyncSession], Awaitable[None]]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "burgerbeest_updates",
            "Updates received from Telegram, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.send_errors = Counter(
            "burgerbeest_send_errors",
            "Messages that could not be delivered, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.state_write_failures = Counter(
            "burgerbeest_state_write_failures",
            "Conversation states and user_data that could not be written to the database.",
            registry=self.registry,
        )
        self.residents = Gauge(
            "burgerbeest_residents",
            "Residents who gave consent, by whether they can still be reached.",
            ["state"],
            registry=self.registry,
        )
        self.initiatives = Gauge(
            "burgerbeest_initiatives",
            "Initiatives stored, by status.",
            ["status"],
            registry=self.registry,
        )
        self.questions = Gauge(
            "burgerbeest_questions",
            "Questions to the municipality, by status; overdue = open past their deadline.",
            ["status"],
            registry=self.registry,
        )
        self.questions_overdue = Gauge(
            "burgerbeest_questions_overdue",
            "Open questions whose deadline has passed.",
            registry=self.registry,
        )
        self.deliveries = Gauge(
            "burgerbeest_broadcast_deliveries",
            "Deliveries of announcements still sending or scheduled, by state.",
            ["state"],
            registry=self.registry,
        )
        self._sources: list[GaugeSource] = [
            self._people_and_initiatives,
            self._questions,
            self._broadcasts,
        ]

    def gauge(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
        """A gauge on this registry, for a feature that reports its own figures."""
        return Gauge(name, documentation, list(labels), registry=self.registry)

    def add_source(self, source: GaugeSource) -> None:
        self._sources.append(source)

    async def _people_and_initiatives(self, session: AsyncSession) -> None:
        rows = await session.execute(
            select(User.active, func.count())
            .where(User.consent_at.is_not(None))
            .group_by(User.active)
        )
        counts = dict(rows.all())
        self.residents.labels("active").set(counts.get(True, 0))
        self.residents.labels("blocked").set(counts.get(False, 0))
        statuses = await session.execute(
            select(Initiative.status, func.count()).group_by(Initiative.status)
        )
        for status, count in statuses:
            self.initiatives.labels(status.value).set(count)

    async def _questions(self, session: AsyncSession) -> None:
        for status, count in await session.execute(
            select(Question.status, func.count()).group_by(Question.status)
        ):
            self.questions.labels(status.value).set(count)
        overdue = await session.scalar(
            select(func.count())
            .select_from(Question)
            .where(Question.status != QuestionStatus.CLOSED, Question.deadline_at < utcnow())
        )
        self.questions_overdue.set(overdue or 0)

    async def _broadcasts(self, session: AsyncSession) -> None:
        """Progress of announcements in flight: how many of their deliveries are where."""
        for state in DeliveryState:
            self.deliveries.labels(state.value).set(0)
        rows = await session.execute(
            select(BroadcastDelivery.state, func.count())
            .join(Broadcast, Broadcast.id == BroadcastDelivery.broadcast_id)
            .where(Broadcast.state.in_([BroadcastState.SENDING, BroadcastState.SCHEDULED]))
            .group_by(BroadcastDelivery.state)
        )
        for state, count in rows:
            self.deliveries.labels(state.value).set(count)

    async def render(self, sessions: async_sessionmaker[AsyncSession]) -> bytes:
        """The exposition text, with every gauge read fresh from the database."""
        async with sessions() as session:
            for source in self._sources:
                await source(session)
        return generate_latest(self.registry)
