"""Civil servants and moderators: joining with an invite, the profile, being away."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.invites import InviteService
from bot.services.text_input import parse_telegram_id
from bot.services.users import Profile
from models import CivilServant, Role, User
from models.base import utcnow

NAME_MAX = 128
DEPARTMENT_MAX = 128
INTRODUCTION_MAX = 600


@dataclass
class ProfileDraft:
    """What /aanmelden and /profiel collect; plain data for the conversation's storage."""

    name: str = ""
    department: str = ""
    topics: list[str] = field(default_factory=list)
    kernen: list[str] = field(default_factory=list)
    introduction: str = ""
    backup_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ProfileDraft:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    @classmethod
    def of(cls, servant: CivilServant) -> ProfileDraft:
        return cls(
            servant.name,
            servant.department,
            list(servant.topics),
            list(servant.kernen),
            servant.introduction,
            servant.backup_id,
        )

    @property
    def complete(self) -> bool:
        return bool(self.name and self.department and self.topics and self.introduction)


@dataclass(frozen=True)
class Joined:
    role: Role
    servant: CivilServant | None  # None for a moderator


class CivilServantService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], moderator_ids: tuple[int, ...] = ()
    ) -> None:
        self._sessions = sessions
        self._moderator_ids = frozenset(moderator_ids)

    def is_configured_moderator(self, telegram_id: int) -> bool:
        return telegram_id in self._moderator_ids

    def is_moderator(self, user: User | None) -> bool:
        return user is not None and (
            user.role is Role.MODERATOR or user.telegram_id in self._moderator_ids
        )

    async def moderators(self) -> list[User]:
        """Every moderator who can be written to."""
        async with self._sessions.begin() as session:
            return await moderator_users(session, self._moderator_ids)

    async def get(self, servant_id: int) -> CivilServant | None:
        async with self._sessions() as session:
            return await session.get(CivilServant, servant_id)

    async def of_user(self, user_id: int) -> CivilServant | None:
        async with self._sessions() as session:
            return await session.scalar(select(CivilServant).where(CivilServant.user_id == user_id))

    async def find(self, who: str) -> CivilServant | None:
        """A civil servant by handle, or by Telegram id when `who` is a number."""
        async with self._sessions() as session:
            if (number := parse_telegram_id(who)) is not None:
                return await session.scalar(
                    select(CivilServant).join(User).where(User.telegram_id == number)
                )
            return await session.scalar(select(CivilServant).where(CivilServant.handle == who))

    async def all(self) -> list[CivilServant]:
        async with self._sessions() as session:
            return list(await session.scalars(select(CivilServant).order_by(CivilServant.name)))

    async def join(
        self,
        invite_id: int,
        profile: Profile,
        language: str,
        draft: ProfileDraft | None,
        now: datetime | None = None,
    ) -> Joined | None:
        """Use the invite (`InviteService.check` found it) and give the person their role (and
        profile); None if it is used or expired by now. Joining with an invite is the consent to
        keep the profile."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            user = await session.scalar(select(User).where(User.telegram_id == profile.telegram_id))
            if user is None:
                user = User(telegram_id=profile.telegram_id)
                session.add(user)
                await session.flush()
            invite = await InviteService.consume(session, invite_id, user.id, now)
            if invite is None:
                return None
            user.consent_at = user.consent_at or now
            user.language = user.language or language
            user.display_name = profile.display_name
            user.username = profile.username
            user.active = True
            user.role = invite.role
            if invite.role is not Role.CIVIL_SERVANT:
                return Joined(invite.role, None)
            if draft is None or not draft.complete:
                raise ValueError("a civil servant joins with a complete profile")
            # A handle another profile already has stays with that profile.
            taken = invite.handle and await session.scalar(
                select(CivilServant.id).where(CivilServant.handle == invite.handle)
            )
            servant = await session.scalar(
                select(CivilServant).where(CivilServant.user_id == user.id)
            )
            if servant is None:
                servant = CivilServant(user_id=user.id)
            self._apply(servant, draft)
            if invite.handle and not taken:
                servant.handle = invite.handle
            session.add(servant)
            await session.flush()
            servant.user = user
            return Joined(invite.role, servant)

    @staticmethod
    def _apply(servant: CivilServant, draft: ProfileDraft) -> None:
        servant.name = draft.name
        servant.department = draft.department
        servant.topics = list(draft.topics)
        servant.kernen = list(draft.kernen)
        servant.introduction = draft.introduction
        servant.backup_id = draft.backup_id if draft.backup_id != servant.id else None

    async def save_profile(self, servant_id: int, draft: ProfileDraft) -> CivilServant | None:
        async with self._sessions.begin() as session:
            servant = await session.get(CivilServant, servant_id)
            # Offboarded or revoked meanwhile (perhaps by another process): nothing comes back.
            if servant is None or servant.user.role is not Role.CIVIL_SERVANT or not draft.complete:
                return None
            if (
                draft.backup_id is not None
                and await session.get(CivilServant, draft.backup_id) is None
            ):
                draft.backup_id = None
            self._apply(servant, draft)
            return servant

    async def set_away(self, servant_id: int, until: date | None) -> CivilServant | None:
        async with self._sessions.begin() as session:
            servant = await session.get(CivilServant, servant_id)
            if servant is not None:
                servant.away_until = until
            return servant


async def moderator_users(
    session: AsyncSession, configured: frozenset[int] | set[int]
) -> list[User]:
    """Moderators by role or from the config; a configured one without a row gets a bare one."""
    known = set(
        await session.scalars(select(User.telegram_id).where(User.telegram_id.in_(configured)))
    )
    for telegram_id in sorted(set(configured) - known):
        session.add(User(telegram_id=telegram_id))
    await session.flush()
    rows = await session.scalars(
        select(User)
        .where(or_(User.role == Role.MODERATOR, User.telegram_id.in_(configured)))
        .order_by(User.id)
    )
    return list(rows)
