"""Moderation of initiatives and "Wist je dat…" posts: the review queue, residents' reports,
bans, and the audit log.

Every moderator action changes its target and appends a `ModerationLog` row in one transaction,
so the log cannot miss an action nor record one that did not happen. Each action also checks
that its target is still in the state the moderator saw (a stale or forged button changes
nothing). The match index follows visibility: only visible initiatives can be found or matched.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import ModerationConfig
from bot.matching import MatchIndex, normalize
from bot.services.audit import record_action
from bot.services.initiatives import TITLE_MAX, matching_text
from bot.services.text_input import parse_telegram_id
from bot.services.vectors import refresh_vectors, store_vector
from models import (
    CivilServant,
    Initiative,
    ModerationAction,
    ModerationLog,
    Post,
    PostState,
    Report,
    Role,
    User,
    Visibility,
)
from models.base import utcnow

# What the review queue holds: waiting for approval, or hidden after reports.
IN_QUEUE = (Visibility.PENDING, Visibility.HIDDEN)
REASON_MAX = 500


class ReportResult(enum.StrEnum):
    REPORTED = "reported"
    HIDDEN = "hidden"  # this report was the one that hid it
    ALREADY = "already"
    OWN = "own"
    GONE = "gone"  # unknown, or not visible to the reporter anyway


@dataclass(frozen=True)
class QueueItem:
    initiative: Initiative
    reports: int
    reasons: list[str]
    waiting: int  # items in the queue in all, this one included


@dataclass(frozen=True)
class PostItem:
    """A civil servant's post waiting for review; posts come after the initiatives."""

    post: Post
    author: CivilServant | None
    waiting: int  # items in the queue in all, this one included


@dataclass(frozen=True)
class PostDecision:
    post: Post
    author: User | None


@dataclass(frozen=True)
class Decision:
    """A moderator's decision on an initiative and who should hear of it."""

    initiative: Initiative
    author: User | None
    was: Visibility


class ModerationService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        index: MatchIndex,
        config: ModerationConfig | None = None,
    ) -> None:
        self._sessions = sessions
        self._index = index
        self.config = config or ModerationConfig()

    # --- the match index follows visibility ------------------------------------------------

    def _sync_index(self, initiative: Initiative) -> None:
        if initiative.visibility is Visibility.VISIBLE:
            put = self._index.update if initiative.id in self._index else self._index.add
            put(initiative.id, initiative.normalized, initiative.kern, initiative.status.is_open)
        elif initiative.id in self._index:
            self._index.remove(initiative.id)

    @staticmethod
    async def _claim(
        session: AsyncSession, initiative_id: int, froms: tuple[Visibility, ...], to: Visibility
    ) -> tuple[Initiative, Visibility] | None:
        """Move an initiative from one of `froms` to `to` with a conditional UPDATE, the first
        statement of the transaction: of two moderators deciding at once only one wins, on
        SQLite as on PostgreSQL. Returns the initiative and what it was."""
        for was in froms:
            result = await session.execute(
                update(Initiative)
                .where(Initiative.id == initiative_id, Initiative.visibility == was)
                .values(visibility=to)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                initiative = await session.get(Initiative, initiative_id)
                assert initiative is not None
                return initiative, was
        return None

    # --- residents report -----------------------------------------------------------------

    async def report(
        self, reporter_id: int, initiative_id: int, reason: str | None = None
    ) -> ReportResult:
        """Record one resident's report; enough open reports hide the initiative for review."""
        async with self._sessions.begin() as session:
            initiative = await session.get(Initiative, initiative_id)
            if initiative is None or initiative.visibility is not Visibility.VISIBLE:
                return ReportResult.GONE
            if initiative.author_id == reporter_id:
                return ReportResult.OWN
            try:
                async with session.begin_nested():
                    session.add(
                        Report(
                            initiative_id=initiative_id,
                            reporter_id=reporter_id,
                            reason=(reason or None) and reason[:REASON_MAX],
                        )
                    )
            except IntegrityError:
                return ReportResult.ALREADY
            open_reports = await self._open_reports(session, initiative_id)
            if open_reports < self.config.hide_after_reports:
                return ReportResult.REPORTED
            claimed = await self._claim(
                session, initiative_id, (Visibility.VISIBLE,), Visibility.HIDDEN
            )
            if claimed is None:  # hidden by a report or a moderator a moment ago
                return ReportResult.REPORTED
            initiative, _ = claimed
        self._sync_index(initiative)
        return ReportResult.HIDDEN

    @staticmethod
    async def _open_reports(session: AsyncSession, initiative_id: int) -> int:
        return (
            await session.scalar(
                select(func.count())
                .select_from(Report)
                .where(Report.initiative_id == initiative_id, Report.resolved_at.is_(None))
            )
        ) or 0

    # --- the review queue -----------------------------------------------------------------

    @staticmethod
    async def _waiting(session: AsyncSession) -> tuple[int, int]:
        """Initiatives and posts in the queue."""
        initiatives = await session.scalar(
            select(func.count()).select_from(Initiative).where(Initiative.visibility.in_(IN_QUEUE))
        )
        posts = await session.scalar(
            select(func.count()).select_from(Post).where(Post.state == PostState.PENDING)
        )
        return initiatives or 0, posts or 0

    async def next_item(self, after_id: int = 0, *, wrap: bool = True) -> QueueItem | None:
        """The oldest initiative in the queue after `after_id` (a skip), else (with `wrap`)
        from the start."""
        async with self._sessions() as session:
            initiatives, posts = await self._waiting(session)
            if not initiatives:
                return None
            query = select(Initiative).where(Initiative.visibility.in_(IN_QUEUE))
            initiative = await session.scalar(
                query.where(Initiative.id > after_id).order_by(Initiative.id).limit(1)
            )
            if initiative is None and wrap:
                initiative = await session.scalar(query.order_by(Initiative.id).limit(1))
            if initiative is None:
                return None
            reasons = await session.scalars(
                select(Report.reason).where(
                    Report.initiative_id == initiative.id,
                    Report.resolved_at.is_(None),
                    Report.reason.is_not(None),
                )
            )
            return QueueItem(
                initiative=initiative,
                reports=await self._open_reports(session, initiative.id),
                reasons=[r for r in reasons if r],
                waiting=initiatives + posts,
            )

    async def next_post(self, after_id: int = 0, *, wrap: bool = True) -> PostItem | None:
        """The oldest post waiting for review after `after_id`, else (with `wrap`) the first."""
        async with self._sessions() as session:
            initiatives, posts = await self._waiting(session)
            query = select(Post).where(Post.state == PostState.PENDING)
            post = await session.scalar(query.where(Post.id > after_id).order_by(Post.id).limit(1))
            if post is None and wrap:
                post = await session.scalar(query.order_by(Post.id).limit(1))
            if post is None:
                return None
            author = await session.scalar(
                select(CivilServant).where(CivilServant.user_id == post.author_id)
            )
            return PostItem(post, author, initiatives + posts)

    async def pending_post(self, post_id: int) -> Post | None:
        async with self._sessions() as session:
            post = await session.get(Post, post_id)
        return post if post is not None and post.state is PostState.PENDING else None

    async def _decide_post(
        self,
        moderator_id: int,
        post_id: int,
        to: PostState,
        action: ModerationAction,
        reason: str | None = None,
    ) -> PostDecision | None:
        """Approve or reject a pending post with a conditional UPDATE, the first statement of
        the transaction (of two moderators only one wins), and log it in the same one."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Post)
                .where(Post.id == post_id, Post.state == PostState.PENDING)
                .values(
                    state=to,
                    reviewed_by_id=moderator_id,
                    reviewed_at=utcnow(),
                    reject_reason=reason,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            post = await session.get(Post, post_id)
            assert post is not None
            detail = {"reason": reason} if reason else {}
            record_action(session, moderator_id, action, "post", post_id, **detail)
            author = await session.get(User, post.author_id) if post.author_id else None
        return PostDecision(post, author)

    async def approve_post(self, moderator_id: int, post_id: int) -> PostDecision | None:
        """Approve a pending post: it goes out with the next weekly news."""
        return await self._decide_post(
            moderator_id, post_id, PostState.APPROVED, ModerationAction.APPROVE
        )

    async def reject_post(
        self, moderator_id: int, post_id: int, reason: str
    ) -> PostDecision | None:
        """Reject a pending post with a reason for its author."""
        return await self._decide_post(
            moderator_id, post_id, PostState.REJECTED, ModerationAction.REJECT, reason
        )

    async def in_queue(self, initiative_id: int) -> Initiative | None:
        async with self._sessions() as session:
            initiative = await session.get(Initiative, initiative_id)
        if initiative is None or initiative.visibility not in IN_QUEUE:
            return None
        return initiative

    async def approve(self, moderator_id: int, initiative_id: int) -> Decision | None:
        """Make a pending or hidden initiative visible; None if it is not in the queue (any
        more). A hidden one is restored: the reports that hid it are settled."""
        async with self._sessions.begin() as session:
            claimed = await self._claim(session, initiative_id, IN_QUEUE, Visibility.VISIBLE)
            if claimed is None:
                return None
            initiative, was = claimed
            await self._resolve_reports(session, initiative_id)
            action = (
                ModerationAction.APPROVE if was is Visibility.PENDING else ModerationAction.RESTORE
            )
            record_action(session, moderator_id, action, "initiative", initiative_id, was=was.value)
            author = await session.get(User, initiative.author_id) if initiative.author_id else None
        self._sync_index(initiative)
        return Decision(initiative, author, was)

    async def reject(self, moderator_id: int, initiative_id: int, reason: str) -> Decision | None:
        """Reject a pending or hidden initiative with a reason for its initiator."""
        async with self._sessions.begin() as session:
            claimed = await self._claim(session, initiative_id, IN_QUEUE, Visibility.REJECTED)
            if claimed is None:
                return None
            initiative, was = claimed
            await self._resolve_reports(session, initiative_id)
            record_action(
                session,
                moderator_id,
                ModerationAction.REJECT,
                "initiative",
                initiative_id,
                was=was.value,
                reason=reason,
            )
            author = await session.get(User, initiative.author_id) if initiative.author_id else None
        self._sync_index(initiative)
        return Decision(initiative, author, was)

    async def hide(self, moderator_id: int, initiative_id: int) -> Initiative | None:
        """Take a visible initiative out of sight and into the queue for a decision."""
        async with self._sessions.begin() as session:
            claimed = await self._claim(
                session, initiative_id, (Visibility.VISIBLE,), Visibility.HIDDEN
            )
            if claimed is None:
                return None
            initiative, _ = claimed
            record_action(session, moderator_id, ModerationAction.HIDE, "initiative", initiative_id)
        self._sync_index(initiative)
        return initiative

    async def edit_title(
        self, moderator_id: int, initiative_id: int, title: str
    ) -> Initiative | None:
        """Change the title of an initiative in the queue (it stays there for a decision)."""
        title = title.strip()[:TITLE_MAX]
        async with self._sessions.begin() as session:
            initiative = await session.get(Initiative, initiative_id)
            if initiative is None or initiative.visibility not in IN_QUEUE or not title:
                return None
            old = initiative.title
            initiative.title = title
            initiative.normalized = normalize(matching_text(title))
            # The vector of the old title goes with it; the new one follows the commit.
            await store_vector(session, initiative_id, None)
            record_action(
                session,
                moderator_id,
                ModerationAction.EDIT_TITLE,
                "initiative",
                initiative_id,
                old=old,
                new=title,
            )
        self._index.set_vector(initiative_id, None)
        await refresh_vectors(self._sessions, [initiative_id], self._index)
        self._sync_index(initiative)
        return initiative

    @staticmethod
    async def _resolve_reports(session: AsyncSession, initiative_id: int) -> None:
        await session.execute(
            update(Report)
            .where(Report.initiative_id == initiative_id, Report.resolved_at.is_(None))
            .values(resolved_at=utcnow())
        )

    # --- bans -----------------------------------------------------------------------------

    async def find_user(self, who: str) -> User | None:
        """A user by Telegram id or @username, as a moderator types it."""
        who = who.strip()
        async with self._sessions() as session:
            if (number := parse_telegram_id(who)) is not None:
                return await session.scalar(select(User).where(User.telegram_id == number))
            name = who.removeprefix("@")
            if not name:
                return None
            return await session.scalar(
                select(User).where(func.lower(User.username) == name.lower()).limit(1)
            )

    async def set_banned(
        self, moderator_id: int, user_id: int, banned: bool, *, reason: str | None = None
    ) -> User | None:
        """Ban or unban; None if nothing changes (already so, or a moderator, who cannot be
        banned by another). A ban's `reason` goes into the audit log."""
        async with self._sessions.begin() as session:
            # Conditional, like the decisions on initiatives: a ban is logged once.
            result = await session.execute(
                update(User)
                .where(
                    User.id == user_id,
                    User.id != moderator_id,
                    User.role != Role.MODERATOR,
                    User.banned_at.is_(None) if banned else User.banned_at.is_not(None),
                )
                .values(banned_at=utcnow() if banned else None)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            user = await session.get(User, user_id)
            action = ModerationAction.BAN if banned else ModerationAction.UNBAN
            detail = {"reason": reason[:REASON_MAX]} if reason else {}
            record_action(session, moderator_id, action, "user", user_id, **detail)
        return user

    async def is_banned(self, telegram_id: int) -> bool:
        async with self._sessions() as session:
            banned_at = await session.scalar(
                select(User.banned_at).where(User.telegram_id == telegram_id)
            )
        return banned_at is not None

    async def log(self, *, limit: int = 50, before: int | None = None) -> list[ModerationLog]:
        """The newest entries of the audit log (older than entry `before`), newest first."""
        query = select(ModerationLog).order_by(ModerationLog.id.desc()).limit(limit)
        if before is not None:
            query = query.where(ModerationLog.id < before)
        async with self._sessions() as session:
            return list(await session.scalars(query))
