"""Taking a role away (`burgerbeest revoke`, /intrekken): a civil servant is offboarded as
`burgerbeest offboard` does (questions handed over, profile out of routing and /wie), a
moderator stops being one; the person stays, as a resident. A moderator from the config stays
one until their Telegram id leaves `[moderators] telegram_ids`: the database cannot overrule it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.audit import record_action
from bot.services.conversation_state import forget_state
from bot.services.questions import Offboarded, QuestionService
from models import CivilServant, ModerationAction, Role, User


@dataclass(frozen=True)
class StaffMember:
    """Someone with a role in the database."""

    user: User
    name: str  # the profile's name, else their Telegram name, else ""


@dataclass(frozen=True)
class Revoked:
    user: User
    role: Role  # the role they had
    offboarded: Offboarded | None = None  # a civil servant: what was handed over


class StaffService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], questions: QuestionService):
        self._sessions = sessions
        self._questions = questions

    async def member(self, telegram_id: int) -> StaffMember | None:
        """The civil servant or moderator (by role) with this Telegram id; None for anyone
        else."""
        async with self._sessions() as session:
            user = await _staff_user(session, telegram_id)
            if user is None:
                return None
            profile = await session.scalar(
                select(CivilServant.name).where(CivilServant.user_id == user.id)
            )
            return StaffMember(user, profile or user.display_name or "")

    async def revoke(
        self, telegram_id: int, by: int | None = None, now: datetime | None = None
    ) -> Revoked | None:
        """Take the role away, logged for the moderator `by` (None: the command line); None
        if the person has no role (any more). Their conversation state goes too: an open
        /profiel edit or a half-written answer belongs to the role."""
        async with self._sessions() as session:
            user = await _staff_user(session, telegram_id)
            if user is None:
                return None
            servant_id = await session.scalar(
                select(CivilServant.id).where(CivilServant.user_id == user.id)
            )
        role = user.role
        offboarded = await self._questions.offboard(servant_id, now) if servant_id else None
        async with self._sessions.begin() as session:
            # Conditional: of two moderators confirming at once, one revokes and logs it.
            # (Offboarding has already set a civil servant's role.)
            taken = await session.execute(
                update(User)
                .where(User.id == user.id, User.role == role)
                .values(role=Role.RESIDENT)
                .execution_options(synchronize_session=False)
            )
            if not taken.rowcount and offboarded is None:
                return None
            record_action(
                session,
                by,
                ModerationAction.REVOKE,
                "user",
                user.id,
                old=role.value,
                new=Role.RESIDENT.value,
            )
            await forget_state(session, telegram_id)
            user = await session.get(User, user.id, populate_existing=True)
        return Revoked(user, role, offboarded)


async def _staff_user(session: AsyncSession, telegram_id: int) -> User | None:
    return await session.scalar(
        select(User).where(User.telegram_id == telegram_id, User.role != Role.RESIDENT)
    )
