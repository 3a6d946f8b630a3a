"""Residents: onboarding, consent, preferences. Knows nothing of Telegram's objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.text_input import clean, excerpt
from models import ContactMethod, ModerationLog, Role, ScheduledWork, User
from models.base import utcnow


@dataclass(frozen=True)
class Profile:
    """What a Telegram update says about its sender; stored only after consent."""

    telegram_id: int
    display_name: str | None = None
    username: str | None = None

    def __post_init__(self) -> None:
        # Anyone can put bidi overrides or invisible characters in a Telegram name, which
        # others then read (an introduction): cleaned as typed text is, on one line.
        object.__setattr__(self, "display_name", clean_name(self.display_name, NAME_LIMIT))
        object.__setattr__(self, "username", clean_name(self.username, USERNAME_LIMIT))


# The users columns; Telegram's first and last name together can be one longer.
NAME_LIMIT = 128
USERNAME_LIMIT = 64


def clean_name(name: str | None, limit: int) -> str | None:
    """A name as others may read it: cleaned, on one line, at most `limit` characters."""
    return excerpt(clean(name), limit) or None


class UserService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, telegram_id: int) -> User | None:
        async with self._sessions() as session:
            return await self._get(session, telegram_id)

    async def staff(self) -> list[User]:
        """Civil servants and moderators who can be written to."""
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(User).where(User.role != Role.RESIDENT, User.telegram_id > 0)
                )
            )

    async def by_id(self, user_id: int) -> User | None:
        async with self._sessions() as session:
            return await session.get(User, user_id)

    @staticmethod
    async def _get(session: AsyncSession, telegram_id: int) -> User | None:
        return await session.scalar(select(User).where(User.telegram_id == telegram_id))

    async def register(self, telegram_id: int) -> User:
        """The user as they are, created with nothing but their Telegram id if new."""
        async with self._sessions.begin() as session:
            user = await self._get(session, telegram_id)
            if user is None:
                user = User(telegram_id=telegram_id)
                session.add(user)
            return user

    async def give_consent(self, profile: Profile, language: str) -> User:
        async with self._sessions.begin() as session:
            user = await self._get(session, profile.telegram_id)
            if user is None:
                user = User(telegram_id=profile.telegram_id)
                session.add(user)
            if user.consent_at is None:
                user.consent_at = utcnow()
            user.language = language
            user.display_name = profile.display_name
            user.username = profile.username
            user.active = True
            return user

    async def update(self, telegram_id: int, **changes: object) -> User | None:
        """Change preferences of a consenting user; None when there is no such user."""
        allowed = {"kern", "language", "contact_method", "display_name", "username", "active"}
        if unknown := set(changes) - allowed:
            raise ValueError(f"not a user preference: {', '.join(sorted(unknown))}")
        async with self._sessions.begin() as session:
            user = await self._get(session, telegram_id)
            if user is None or user.consent_at is None:
                return None
            for name, value in changes.items():
                setattr(user, name, value)
            return user

    async def choose_contact(self, telegram_id: int, method: ContactMethod) -> User | None:
        return await self.update(telegram_id, contact_method=method)

    async def erase(self, telegram_id: int, now: datetime | None = None) -> bool:
        """Remove a resident's personal data; False if there was nobody to erase.

        Their questions stay for statistics without their words (open ones are closed and the
        civil servant is told); the row stays as an empty placeholder under a negative id, so
        what others built on it (an initiative, a supporter count) does not break. A banned
        person keeps a bare row: their Telegram id and the ban, nothing else.
        """
        from bot.services.posts import forget_author
        from bot.services.questions import anonymise_questions  # questions import this module

        now = now or utcnow()
        async with self._sessions.begin() as session:
            user = await self._get(session, telegram_id)
            if user is None or _bare_ban(user):
                return False
            await anonymise_questions(session, user, now)
            await forget_author(session, user.id)
            # Everything owed to them, sent or not, goes: nothing is for them any more, and a
            # key (check-in:<initiative>) must not outlive what it names.
            await session.execute(
                delete(ScheduledWork).where(ScheduledWork.recipient_id == user.id)
            )
            user.telegram_id = -user.id
            user.consent_at = None
            user.language = None
            user.kern = None
            user.display_name = None
            user.username = None
            user.contact_method = None
            user.active = False
            # A role ends with the person: a placeholder is nobody's moderator. (A moderator
            # from the config stays one by their Telegram id.)
            user.role = Role.RESIDENT
            if user.banned_at is not None:
                # A ban outlives erasure, or erasing would be the way around it: only the
                # Telegram id stays, with the ban (the privacy notice says so). Nothing may tie
                # that row to the placeholder: the ban moves, and so does its line in the log.
                banned_at, user.banned_at = user.banned_at, None
                await session.flush()
                bare = User(telegram_id=telegram_id, banned_at=banned_at, active=False)
                session.add(bare)
                await session.flush()
                await session.execute(
                    update(ModerationLog)
                    .where(ModerationLog.target_kind == "user", ModerationLog.target_id == user.id)
                    .values(target_id=bare.id)
                    .execution_options(synchronize_session=False)
                )
            return True


def _bare_ban(user: User) -> bool:
    """What erasing a banned person leaves: nothing more to erase."""
    return (
        user.banned_at is not None
        and user.consent_at is None
        and (user.display_name, user.username, user.kern) == (None, None, None)
    )
