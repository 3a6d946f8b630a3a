"""AVG/GDPR: everything the bot keeps about one person, as data they can take with them.

The tables are found from the schema (every table with a foreign key to users), so a new
feature's data is in the export without anyone having to remember to add it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.matching import MatchIndex
from bot.services.conversation_state import USER_DATA, forget_state
from bot.services.polls import forget_answers
from bot.services.questions import Offboarded, QuestionService
from bot.services.users import UserService
from bot.services.vectors import refresh_vectors, store_vector
from models import (
    AnnouncementMute,
    Base,
    BotState,
    BroadcastDelivery,
    CivilServant,
    Follow,
    Initiative,
    Introduction,
    MatchNotice,
    MeetingNote,
    MeetingPost,
    MeetingReport,
    ModerationLog,
    Report,
    Role,
    Supporter,
    User,
)
from models.base import utcnow

# Columns that hold internal keys or derived data, not information about the person.
_LEFT_OUT = {"normalized"}
# Tables that refer to users but hold no personal data of their own (the bot's scratch state
# is exported through `user_data`).
NOT_PERSONAL = {"bot_state"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def user_columns(table: Table) -> list[str]:
    """The columns of `table` that point at users.id."""
    return [
        column.name
        for column in table.columns
        for key in column.foreign_keys
        if key.column.table.name == "users"
    ]


def personal_tables() -> list[Table]:
    return [
        table
        for table in Base.metadata.sorted_tables
        if table.name not in NOT_PERSONAL and table.name != "users" and user_columns(table)
    ]


@dataclass(frozen=True)
class Erased:
    initiatives_deleted: int
    initiatives_kept: int  # others joined them: kept without the resident's own words
    offboarded: Offboarded | None = None  # they were a civil servant: what was handed over
    was_moderator: bool = False  # by role in the database (a configured one stays one)


class PrivacyService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        users: UserService,
        index: MatchIndex,
        questions: QuestionService,
    ) -> None:
        self._sessions = sessions
        self._users = users
        self._index = index
        self._questions = questions

    async def _servant_id(self, telegram_id: int) -> int | None:
        """The profile of the civil servant with this Telegram id, if they are one."""
        async with self._sessions() as session:
            return await session.scalar(
                select(CivilServant.id)
                .join(User)
                .where(User.telegram_id == telegram_id, User.role == Role.CIVIL_SERVANT)
            )

    async def erase(self, telegram_id: int) -> Erased | None:
        """Forget a resident (/vergeetmij); None if the bot does not know them.

        Their initiatives go, except those others joined: those keep title, kern and status for
        the people behind them, without the description, motivation, place or author. Links to
        other residents (supporters, introductions, notices), follows and saved conversation
        state go. Then the user row itself is emptied and their questions anonymised (see
        `UserService.erase`), which keeps the statistics whole. A civil servant is offboarded
        first, as `burgerbeest offboard` does: open questions to the backup or triage, the
        profile out of routing and /wie; any role goes with the rest.
        """
        servant_id = await self._servant_id(telegram_id)
        offboarded = await self._questions.offboard(servant_id) if servant_id else None
        async with self._sessions.begin() as session:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            if user is None:
                return None
            was_moderator = user.role is Role.MODERATOR
            own = list(
                await session.scalars(select(Initiative).where(Initiative.author_id == user.id))
            )
            supported = set(
                await session.scalars(
                    select(Supporter.initiative_id).where(
                        Supporter.initiative_id.in_([i.id for i in own])
                    )
                )
            )
            deleted: list[int] = []
            kept: list[int] = []
            for initiative in own:
                if initiative.id in supported:
                    kept.append(initiative.id)
                    # Its vector read the description too: it goes now, and comes back from
                    # the title alone after the commit.
                    await store_vector(session, initiative.id, None)
                    initiative.description = ""
                    initiative.motivation = ""
                    initiative.place = None
                    initiative.allow_introductions = False
                    initiative.author_id = None
                    initiative.draft_key = None
                else:
                    deleted.append(initiative.id)
                    await session.delete(initiative)
            for model, column in (
                (Supporter, Supporter.user_id),
                (MatchNotice, MatchNotice.recipient_id),
                (Follow, Follow.user_id),
                (AnnouncementMute, AnnouncementMute.user_id),
                (BroadcastDelivery, BroadcastDelivery.user_id),
                (Report, Report.reporter_id),  # a report's reason is the resident's own words
                # Their posts to initiatives' groups (what was not delivered yet stays so),
                # notes for initiators and reports of posts.
                (MeetingPost, MeetingPost.author_id),
                (MeetingNote, MeetingNote.user_id),
                (MeetingReport, MeetingReport.reporter_id),
            ):
                await session.execute(delete(model).where(column == user.id))
            await forget_answers(session, user.id)
            await session.execute(
                delete(Introduction).where(
                    (Introduction.requester_id == user.id) | (Introduction.initiator_id == user.id)
                )
            )
            # The audit log keeps that a moderator acted on a deleted initiative, not its
            # words (an edited title's old and new text).
            await session.execute(
                update(ModerationLog)
                .where(
                    ModerationLog.target_kind == "initiative",
                    ModerationLog.target_id.in_(deleted),
                )
                .values(detail={})
                .execution_options(synchronize_session=False)
            )
            await forget_state(session, telegram_id)
        for doc_id in deleted:
            if doc_id in self._index:
                self._index.remove(doc_id)
        for doc_id in deleted + kept:
            self._index.set_vector(doc_id, None)
        await refresh_vectors(self._sessions, kept, self._index)
        await self._users.erase(telegram_id)
        return Erased(
            initiatives_deleted=len(deleted),
            initiatives_kept=len(own) - len(deleted),
            offboarded=offboarded,
            was_moderator=was_moderator,
        )

    async def export(self, telegram_id: int) -> dict[str, Any] | None:
        """All rows about this person, table by table; None if the bot does not know them."""
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            if user is None:
                return None
            users = Base.metadata.tables["users"]
            me = (await session.execute(select(users).where(users.c.id == user.id))).one()
            data: dict[str, Any] = {
                "exported_at": utcnow().isoformat(),
                "you": {key: _plain(value) for key, value in me._mapping.items()},
            }
            for table in personal_tables():
                condition = None
                for name in user_columns(table):
                    clause = table.c[name] == user.id
                    condition = clause if condition is None else condition | clause
                rows = await session.execute(select(table).where(condition))
                data[table.name] = [
                    {k: _plain(v) for k, v in row._mapping.items() if k not in _LEFT_OUT}
                    for row in rows
                ]
            draft = await session.get(BotState, (USER_DATA, str(telegram_id)))
            data["conversation_in_progress"] = draft.value if draft is not None else None
            return data
