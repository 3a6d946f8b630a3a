"""An initiative's meeting place: the initiator and everyone who joined write to each other
through the bot, under the name each gave it, never with a phone number or @username.

A post is stored first, and in the same transaction one scheduled-work row per other member
(bot/services/dispatch.py sends them: claimed before the send, so a retry or a second instance
never sends one twice; a member who blocked the bot is marked inactive and skipped). The rows
hold the post's id, never its words: `post_words` reads them at the moment of sending, so a post
hidden by a moderator or erased with its author is not delivered any more, and a member who left
meanwhile gets nothing. Free of Telegram.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import ModerationConfig
from bot.services.audit import record_action
from bot.services.moderation import ReportResult
from models import (
    Initiative,
    MeetingNote,
    MeetingPost,
    MeetingReport,
    ModerationAction,
    ScheduledWork,
    Supporter,
    User,
    Visibility,
    WorkKind,
)
from models.base import utcnow

POST_MAX = 1000  # characters: with a name and a title well within Telegram's 4,096
NOTE_MAX = 300
# What a scheduled-work row of a post carries (the words are read when it is sent).
POST_KEY = "meeting_post_id"
RELAYED = "meeting.relayed"
BUTTONS = "meeting"  # the buttons under a relayed post: answer the group, report it


class Left(enum.Enum):
    """What leaving a group did: nothing (not in it, e.g. a second press), or left, with the
    initiator told of the join before or not (the joiner left before the note's wait was over:
    then they hear of neither)."""

    NOT_IN = "not_in"
    UNANNOUNCED = "unannounced"
    ANNOUNCED = "announced"


@dataclass(frozen=True)
class Group:
    """The meeting place of one initiative, as one of its members sees it."""

    initiative_id: int
    title: str
    initiator_id: int | None  # None once the initiator erased themselves
    people: int  # the initiator and everyone who joined
    led: bool  # the member asking is its initiator


@dataclass(frozen=True)
class Member:
    user: User
    since: datetime
    note: str | None


@dataclass(frozen=True)
class Posted:
    """A post stored and its deliveries written; or why not (`reason`)."""

    ok: bool
    reason: str = ""  # not_member, banned, too_long, empty, alone, already
    post_id: int | None = None
    work_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PostFacts:
    """A post as a moderator reads it."""

    post: MeetingPost
    author: User | None
    title: str


async def _load_group(session: AsyncSession, user_id: int, initiative_id: int) -> Group | None:
    """The group of `initiative_id` if `user_id` is in it and it can be seen at all."""
    initiative = await session.get(Initiative, initiative_id)
    if initiative is None or initiative.visibility is not Visibility.VISIBLE:
        return None
    supporters = set(
        await session.scalars(
            select(Supporter.user_id).where(Supporter.initiative_id == initiative_id)
        )
    )
    led = initiative.author_id == user_id
    if not led and user_id not in supporters:
        return None
    people = len(supporters) + (initiative.author_id is not None)
    return Group(initiative.id, initiative.title, initiative.author_id, people, led)


async def _member_ids(session: AsyncSession, initiative: Initiative) -> set[int]:
    supporters = await session.scalars(
        select(Supporter.user_id).where(Supporter.initiative_id == initiative.id)
    )
    ids = set(supporters)
    if initiative.author_id is not None:
        ids.add(initiative.author_id)
    return ids


class MeetingService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], moderation: ModerationConfig | None = None
    ) -> None:
        self._sessions = sessions
        self._moderation = moderation or ModerationConfig()

    # --- who is in ------------------------------------------------------------------------

    async def group(self, user_id: int, initiative_id: int) -> Group | None:
        async with self._sessions() as session:
            return await _load_group(session, user_id, initiative_id)

    async def groups_of(self, user_id: int) -> list[Group]:
        """The groups `user_id` is in, their own initiatives first, newest first."""
        async with self._sessions() as session:
            own = await session.scalars(
                select(Initiative.id)
                .where(Initiative.author_id == user_id)
                .order_by(Initiative.id.desc())
            )
            joined = await session.scalars(
                select(Supporter.initiative_id)
                .where(Supporter.user_id == user_id)
                .order_by(Supporter.initiative_id.desc())
            )
            groups = [await _load_group(session, user_id, i) for i in [*own, *joined]]
        return [g for g in groups if g is not None]

    async def members(self, user_id: int, initiative_id: int) -> list[Member] | None:
        """Who joined, in the order they did, with their notes: for the initiator only (None
        for anyone else)."""
        async with self._sessions() as session:
            group = await _load_group(session, user_id, initiative_id)
            if group is None or not group.led:
                return None
            rows = await session.execute(
                select(User, Supporter.created_at, MeetingNote.text)
                .join(Supporter, Supporter.user_id == User.id)
                .outerjoin(
                    MeetingNote,
                    (MeetingNote.user_id == User.id) & (MeetingNote.initiative_id == initiative_id),
                )
                .where(Supporter.initiative_id == initiative_id)
                .order_by(Supporter.created_at, Supporter.id)
            )
            return [Member(user, since, note) for user, since, note in rows]

    async def leave(self, user_id: int, initiative_id: int) -> Left:
        """Stop taking part: no longer a supporter, the note goes too. The initiator cannot
        leave their own initiative (they close it in /mijn). Says whether the initiator had
        heard of the join (the row's told_at, read as it is deleted, so a join notice claimed at
        the same moment is seen)."""
        async with self._sessions.begin() as session:
            told = await session.execute(
                delete(Supporter)
                .where(Supporter.initiative_id == initiative_id, Supporter.user_id == user_id)
                .returning(Supporter.told_at)
            )
            rows = told.all()
            await session.execute(
                delete(MeetingNote).where(
                    MeetingNote.initiative_id == initiative_id, MeetingNote.user_id == user_id
                )
            )
        if not rows:
            return Left.NOT_IN
        return Left.ANNOUNCED if rows[0].told_at is not None else Left.UNANNOUNCED

    async def set_note(self, user_id: int, initiative_id: int, text: str) -> bool:
        """A supporter's few words for the initiator, replacing earlier ones."""
        async with self._sessions.begin() as session:
            group = await _load_group(session, user_id, initiative_id)
            if group is None or group.led:
                return False
            note = await session.scalar(
                select(MeetingNote).where(
                    MeetingNote.initiative_id == initiative_id, MeetingNote.user_id == user_id
                )
            )
            if note is None:
                session.add(
                    MeetingNote(initiative_id=initiative_id, user_id=user_id, text=text[:NOTE_MAX])
                )
            else:
                note.text = text[:NOTE_MAX]
        return True

    # --- posting --------------------------------------------------------------------------

    async def post(
        self,
        user_id: int,
        initiative_id: int,
        text: str,
        *,
        source: str | None = None,
        now: datetime | None = None,
    ) -> Posted:
        """Store a post and one delivery per other member who can receive it, together."""
        now = now or utcnow()
        text = text.strip()
        if not text:
            return Posted(False, "empty")
        if len(text) > POST_MAX:
            return Posted(False, "too_long")
        async with self._sessions.begin() as session:
            author = await session.get(User, user_id)
            if author is None or author.banned_at is not None:
                return Posted(False, "banned")
            if await _load_group(session, user_id, initiative_id) is None:
                return Posted(False, "not_member")
            if source is not None:
                earlier = await session.scalar(
                    select(MeetingPost.id).where(MeetingPost.source == source)
                )
                if earlier is not None:
                    return Posted(False, "already", earlier)
            initiative = await session.get(Initiative, initiative_id)
            assert initiative is not None
            others = await self._receivers(session, initiative, user_id)
            if not others:
                return Posted(False, "alone")
            post = MeetingPost(
                initiative_id=initiative_id, author_id=user_id, text=text, source=source
            )
            try:
                async with session.begin_nested():
                    session.add(post)
                    await session.flush()
            except IntegrityError:  # the same message, handled twice at once
                return Posted(False, "already")
            rows = [
                ScheduledWork(
                    kind=WorkKind.NOTICE,
                    due_at=now,
                    recipient_id=recipient_id,
                    payload={
                        "key": RELAYED,
                        POST_KEY: post.id,
                        "initiative_id": initiative_id,
                        "buttons": BUTTONS,
                    },
                )
                for recipient_id in sorted(others)
            ]
            session.add_all(rows)
            await session.flush()
            return Posted(True, post_id=post.id, work_ids=tuple(r.id for r in rows))

    @staticmethod
    async def _receivers(session: AsyncSession, initiative: Initiative, author_id: int) -> set[int]:
        """The other members who can receive a post now: not blocked, not banned."""
        ids = await _member_ids(session, initiative) - {author_id}
        if not ids:
            return set()
        reachable = await session.scalars(
            select(User.id).where(User.id.in_(ids), User.active.is_(True), User.banned_at.is_(None))
        )
        return set(reachable)

    # --- moderation -----------------------------------------------------------------------

    async def received(self, user_id: int, post_id: int) -> MeetingPost | None:
        """A visible post of a group `user_id` is in, written by someone else."""
        async with self._sessions() as session:
            post = await session.get(MeetingPost, post_id)
            if post is None or post.hidden_at is not None or post.author_id == user_id:
                return None
            if await _load_group(session, user_id, post.initiative_id) is None:
                return None
            return post

    async def report(self, reporter_id: int, post_id: int) -> ReportResult:
        """One member's report of a post they received; enough reports by different members
        hide it (the same number as hides an initiative)."""
        async with self._sessions.begin() as session:
            post = await session.get(MeetingPost, post_id)
            if post is None or post.hidden_at is not None:
                return ReportResult.GONE
            if post.author_id == reporter_id:
                return ReportResult.OWN
            if await _load_group(session, reporter_id, post.initiative_id) is None:
                return ReportResult.GONE
            try:
                async with session.begin_nested():
                    session.add(MeetingReport(post_id=post_id, reporter_id=reporter_id))
            except IntegrityError:
                return ReportResult.ALREADY
            reports = await session.scalar(
                select(func.count())
                .select_from(MeetingReport)
                .where(MeetingReport.post_id == post_id)
            )
            if (reports or 0) < self._moderation.hide_after_reports:
                return ReportResult.REPORTED
            post.hidden_at = utcnow()
        return ReportResult.HIDDEN

    async def facts(self, post_id: int) -> PostFacts | None:
        async with self._sessions() as session:
            post = await session.get(MeetingPost, post_id)
            if post is None:
                return None
            initiative = await session.get(Initiative, post.initiative_id)
            author = await session.get(User, post.author_id)
            return PostFacts(post, author, initiative.title if initiative else "")

    async def hide(self, moderator_id: int, post_id: int) -> bool:
        """A moderator hides a post: what was not delivered yet is not delivered. Logged; False
        if it is gone or hidden already."""
        async with self._sessions.begin() as session:
            hidden = await session.execute(
                update(MeetingPost)
                .where(MeetingPost.id == post_id, MeetingPost.hidden_at.is_(None))
                .values(hidden_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if hidden.rowcount != 1:
                return False
            record_action(session, moderator_id, ModerationAction.HIDE, "meeting_post", post_id)
        return True


async def post_words(
    session: AsyncSession, payload: dict[str, Any], recipient: User
) -> dict[str, Any] | None:
    """For the dispatch loop, at the moment of sending: a relayed post's words and its author's
    name, or None when it should not go out any more (hidden, erased, the author banned, the
    recipient left the group)."""
    post = await session.get(MeetingPost, int(payload[POST_KEY]))
    if post is None or post.hidden_at is not None:
        return None
    author = await session.get(User, post.author_id)
    if author is None or author.banned_at is not None:
        return None
    if await _load_group(session, recipient.id, post.initiative_id) is None:
        return None
    values = {**(payload.get("values") or {}), "name": author.display_name or "", "text": post.text}
    key = RELAYED if author.display_name else f"{RELAYED}_nameless"
    return {**payload, "key": key, "values": values}
