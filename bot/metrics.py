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
        self._sources: list[GaugeSource] = [self._people_and_initiatives]

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

    async def render(self, sessions: async_sessionmaker[AsyncSession]) -> bytes:
        """The exposition text, with every gauge read fresh from the database."""
        async with sessions() as session:
            for source in self._sources:
                await source(session)
        return generate_latest(self.registry)
