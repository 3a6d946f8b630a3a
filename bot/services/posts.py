"""The "Wist je dat…" posts and the weekly news for followers. Free of Telegram.

A civil servant writes a post for a topic and/or a kern; a moderator approves or rejects it
(bot/services/moderation.py). Once a week, at the configured local moment, `build_news` writes
ONE news row per resident who follows something relevant: the approved posts for their topics
and kernen and what happened to initiatives there since the last edition. The edition row is
the first statement of that transaction, so of two instances (or two ticks) only one builds a
week; every row has the unique key news:<week>:<user>, and the posts are marked published in
the same transaction. The dispatch job sends the rows (bot/services/dispatch.py), rendering each
in its recipient's language at send time; `news_content` gives it what to render.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import PostsConfig
from bot.routing.keys import main_topic
from bot.services.broadcasts import KERNEN, TOPICS, Audience, audience_filter
from bot.services.text_input import excerpt
from models import (
    AnnouncementMute,
    CivilServant,
    Follow,
    FollowKind,
    Initiative,
    InitiativeStatus,
    InitiativeStatusChange,
    ModerationAction,
    ModerationLog,
    NewsEdition,
    Post,
    PostState,
    Role,
    ScheduledWork,
    Supporter,
    User,
    Visibility,
    WorkKind,
    WorkState,
)
from models.base import utcnow

log = logging.getLogger(__name__)

TEXT_MAX = 700
# Status changes listed by name in one resident's news; the rest are counted ("en N meer").
CHANGES_SHOWN = 8
EXCERPT = 60  # characters of a post quoted back to its author
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class NewsPost:
    text: str
    author: str | None  # None once the civil servant left: the post stays, unsigned
    department: str | None


@dataclass(frozen=True)
class NewsChange:
    number: int
    title: str
    kern: str
    status: InitiativeStatus
    new: bool  # first shared this week, rather than moved on


@dataclass(frozen=True)
class News:
    """What one resident's weekly news says, read from the database when it is sent."""

    week: int
    posts: list[NewsPost]
    changes: list[NewsChange]
    more: int  # changes left out


@dataclass(frozen=True)
class _Change:
    initiative_id: int
    kern: str
    topic: str | None  # the initiative's main topic: what residents follow
    status: InitiativeStatus


def week_label(day: datetime) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


class PostService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: PostsConfig,
        tz: ZoneInfo,
        topics: frozenset[str],
        kernen: tuple[str, ...],
    ) -> None:
        self._sessions = sessions
        self.config = config
        self._tz = tz
        self._topics = topics
        self._kernen = kernen

    # --- writing a post -------------------------------------------------------------------

    async def submit(
        self, author_id: int, text: str, topic: str | None, kern: str | None
    ) -> Post | None:
        """Store a post for review; None if the author is not a civil servant (any more) or
        the post is for nobody (no valid topic or kern) or empty or too long."""
        text = text.strip()
        if topic is not None and topic not in self._topics:
            return None
        if kern is not None and kern not in self._kernen:
            return None
        if not text or len(text) > TEXT_MAX or (topic is None and kern is None):
            return None
        async with self._sessions.begin() as session:
            author = await session.get(User, author_id)
            if author is None or author.role is not Role.CIVIL_SERVANT:
                return None
            post = Post(author_id=author_id, text=text, topic=topic, kern=kern)
            session.add(post)
        return post

    async def author_profile(self, user_id: int | None) -> CivilServant | None:
        if user_id is None:
            return None
        async with self._sessions() as session:
            return await session.scalar(select(CivilServant).where(CivilServant.user_id == user_id))

    # --- the weekly news ------------------------------------------------------------------

    def edition_at(self, now: datetime) -> tuple[str, datetime]:
        """The edition of the week `now` is in: its label and its configured moment (UTC)."""
        local = now.astimezone(self._tz)
        day = local.date() - timedelta(days=local.weekday()) + timedelta(days=self.config.weekday)
        moment = datetime.combine(day, self.config.at, tzinfo=self._tz)
        return week_label(moment), moment.astimezone(UTC)

    async def build_news(self, now: datetime | None = None) -> NewsEdition | None:
        """Write this week's news rows once its moment has come; None if it is not time yet or
        the week was built already (by this instance or another)."""
        now = now or utcnow()
        week, moment = self.edition_at(now)
        if now < moment:
            return None
        async with self._sessions() as session:
            if await session.get(NewsEdition, week) is not None:
                return None
        try:
            async with self._sessions.begin() as session:
                # First statement: of two builders the second waits here and then fails.
                edition = NewsEdition(week=week, scheduled_for=moment, built_at=now)
                session.add(edition)
                await session.flush()
                await self._build(session, edition, now)
        except IntegrityError:
            return None
        log.info(
            "news %s: %d residents, %d posts, %d status changes",
            week,
            edition.recipients,
            edition.posts,
            edition.changes,
        )
        return edition

    async def _build(self, session: AsyncSession, edition: NewsEdition, now: datetime) -> None:
        last = await session.scalar(
            select(func.max(NewsEdition.scheduled_for)).where(NewsEdition.week != edition.week)
        )
        since = last or edition.scheduled_for - WEEK
        posts = list(
            await session.scalars(
                select(Post)
                .where(Post.state == PostState.APPROVED)
                .order_by(Post.reviewed_at, Post.id)
            )
        )
        changes = await self._changes(session, since, edition.scheduled_for)
        involved = await self._involved(session, [c.initiative_id for c in changes])
        reach = await self._reach(
            session,
            kernen={p.kern for p in posts if p.kern} | {c.kern for c in changes},
            topics={p.topic for p in posts if p.topic} | {c.topic for c in changes if c.topic},
        )

        # Posts oldest first; one that would give someone more than per_week waits a week.
        given: Counter[int] = Counter()
        audiences: dict[int, set[int]] = {}
        for post in posts:
            audience = {
                user_id
                for user_id, (kernen, topics) in reach.items()
                if post.kern in kernen or post.topic in topics
            }
            if not audience:
                continue  # nobody follows its topic or kern yet: it waits for someone who does
            if any(given[user_id] >= self.config.per_week for user_id in audience):
                continue
            given.update(audience)
            audiences[post.id] = audience
        chosen = [p for p in posts if p.id in audiences]

        rows = []
        for user_id, (kernen, topics) in reach.items():
            mine = [p.id for p in chosen if user_id in audiences[p.id]]
            # Who started or joined an initiative heard of its change at once already.
            moved = [
                [c.initiative_id, c.status.value]
                for c in changes
                if (c.kern in kernen or c.topic in topics)
                and user_id not in involved[c.initiative_id]
            ]
            if not mine and not moved:
                continue
            rows.append(
                {
                    "kind": WorkKind.NEWS,
                    "state": WorkState.PENDING,
                    "due_at": now,
                    "recipient_id": user_id,
                    "payload": {
                        "week": edition.week,
                        "posts": mine,
                        "changes": moved[:CHANGES_SHOWN],
                        "more": max(0, len(moved) - CHANGES_SHOWN),
                    },
                    "key": f"news:{edition.week}:{user_id}",
                }
            )
        for post in chosen:
            post.state = PostState.PUBLISHED
            post.published_at = now
            post.edition = edition.week
            post.recipients = len(audiences[post.id])
            if post.author_id is not None:
                rows.append(
                    {
                        "kind": WorkKind.NOTICE,
                        "state": WorkState.PENDING,
                        "due_at": now,
                        "recipient_id": post.author_id,
                        "payload": {
                            "key": "post.published_author",
                            "values": {
                                "count": post.recipients,
                                "text": excerpt(post.text, EXCERPT),
                            },
                        },
                        "key": f"post-published:{post.id}",
                    }
                )
        if rows:
            await session.execute(insert(ScheduledWork), rows)
        edition.recipients = sum(1 for r in rows if r["kind"] is WorkKind.NEWS)
        edition.posts = len(chosen)
        edition.changes = len(changes)

    @staticmethod
    async def _changes(session: AsyncSession, since: datetime, until: datetime) -> list[_Change]:
        """The latest status change of each visible initiative in [since, until), newest
        first; an initiative shared in that time counts with status idee, and so does one a
        moderator approved in that time (pre-moderation: shared before, seen only now)."""
        latest = (
            select(
                InitiativeStatusChange.initiative_id,
                func.max(InitiativeStatusChange.id).label("last_id"),
            )
            .where(InitiativeStatusChange.at >= since, InitiativeStatusChange.at < until)
            .group_by(InitiativeStatusChange.initiative_id)
            .subquery()
        )
        visible = Initiative.visibility == Visibility.VISIBLE
        moved = await session.execute(
            select(
                InitiativeStatusChange.at,
                Initiative.id,
                Initiative.kern,
                Initiative.topic,
                InitiativeStatusChange.status,
            )
            .join(latest, latest.c.initiative_id == Initiative.id)
            .join(InitiativeStatusChange, InitiativeStatusChange.id == latest.c.last_id)
            .where(visible)
        )
        approved = await session.execute(
            select(
                ModerationLog.at,
                Initiative.id,
                Initiative.kern,
                Initiative.topic,
                Initiative.status,
            )
            .join(
                ModerationLog,
                (ModerationLog.target_kind == "initiative")
                & (ModerationLog.target_id == Initiative.id),
            )
            .where(
                visible,
                ModerationLog.action == ModerationAction.APPROVE,
                ModerationLog.at >= since,
                ModerationLog.at < until,
            )
        )
        newest: dict[int, tuple[datetime, str, str | None, InitiativeStatus]] = {}
        for at, initiative_id, kern, topic, status in [*moved, *approved]:
            if initiative_id not in newest or at > newest[initiative_id][0]:
                newest[initiative_id] = (at, kern, topic, status)
        ordered = sorted(newest.items(), key=lambda item: (item[1][0], item[0]), reverse=True)
        # An initiative may store a subtopic ("initiatieven/groen"); its followers follow the
        # main topic ("initiatieven").
        return [
            _Change(initiative_id, kern, main_topic(topic), status)
            for initiative_id, (_, kern, topic, status) in ordered
        ]

    @staticmethod
    async def _involved(session: AsyncSession, initiative_ids: list[int]) -> dict[int, set[int]]:
        """Per initiative: its initiator and supporters."""
        involved: dict[int, set[int]] = defaultdict(set)
        if not initiative_ids:
            return involved
        authors = await session.execute(
            select(Initiative.id, Initiative.author_id).where(Initiative.id.in_(initiative_ids))
        )
        supporters = await session.execute(
            select(Supporter.initiative_id, Supporter.user_id).where(
                Supporter.initiative_id.in_(initiative_ids)
            )
        )
        for initiative_id, user_id in [*authors, *supporters]:
            if user_id is not None:
                involved[initiative_id].add(user_id)
        return involved

    @staticmethod
    async def _reach(
        session: AsyncSession, kernen: set[str], topics: set[str]
    ) -> dict[int, tuple[set[str], set[str]]]:
        """Residents an announcement to these kernen or topics would reach (so not muted,
        banned or blocked), each with the kernen (their own included) and topics they follow."""
        clauses = []
        if kernen:
            clauses.append(audience_filter(Audience(KERNEN, tuple(sorted(kernen)))))
        if topics:
            clauses.append(audience_filter(Audience(TOPICS, tuple(sorted(topics)))))
        if not clauses:
            return {}
        reach: dict[int, tuple[set[str], set[str]]] = {}
        for user_id, own in await session.execute(select(User.id, User.kern).where(or_(*clauses))):
            reach[user_id] = ({own} if own else set(), set())
        follows = await session.execute(
            select(Follow.user_id, Follow.kind, Follow.value).where(
                or_(
                    and_(Follow.kind == FollowKind.KERN, Follow.value.in_(kernen)),
                    and_(Follow.kind == FollowKind.TOPIC, Follow.value.in_(topics)),
                )
            )
        )
        for user_id, kind, value in follows:
            if user_id in reach:
                reach[user_id][0 if kind is FollowKind.KERN else 1].add(value)
        return reach


async def news_content(
    session: AsyncSession, payload: dict[str, Any], recipient: User
) -> News | None:
    """One resident's news as it stands when it is sent: None if they muted announcements
    meanwhile, or nothing in it can still be shown (an initiative hidden since, …)."""
    if await session.get(AnnouncementMute, recipient.id) is not None:
        return None
    post_ids = [int(i) for i in payload.get("posts", [])]
    found = {
        p.id: p
        for p in await session.scalars(
            select(Post).where(Post.id.in_(post_ids), Post.state == PostState.PUBLISHED)
        )
    }
    authors = {
        s.user_id: s
        for s in await session.scalars(
            select(CivilServant).where(
                CivilServant.user_id.in_([p.author_id for p in found.values() if p.author_id])
            )
        )
    }
    posts = []
    for post_id in post_ids:
        if (post := found.get(post_id)) is None:
            continue
        author = authors.get(post.author_id) if post.author_id else None
        posts.append(
            NewsPost(post.text, author.name if author else None, author and author.department)
        )
    changed = [(int(i), InitiativeStatus(s)) for i, s in payload.get("changes", [])]
    initiatives = {
        i.id: i
        for i in await session.scalars(
            select(Initiative).where(
                Initiative.id.in_([i for i, _ in changed]),
                Initiative.visibility == Visibility.VISIBLE,
            )
        )
    }
    changes = [
        NewsChange(
            n, initiatives[n].title, initiatives[n].kern, status, status is InitiativeStatus.IDEA
        )
        for n, status in changed
        if n in initiatives
    ]
    if not posts and not changes:
        return None
    week = int(str(payload.get("week", "0-W0")).rpartition("W")[2] or 0)
    return News(week, posts, changes, int(payload.get("more", 0)))


async def forget_author(session: AsyncSession, user_id: int) -> None:
    """A civil servant is erased or leaves: their posts that never went out go with them;
    published ones stay, without their name."""
    await session.execute(
        delete(Post).where(Post.author_id == user_id, Post.state != PostState.PUBLISHED)
    )
    await session.execute(
        update(Post)
        .where(Post.author_id == user_id)
        .values(author_id=None)
        .execution_options(synchronize_session=False)
    )
