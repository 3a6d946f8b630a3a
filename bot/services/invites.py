"""Invite codes for civil servants and moderators: random, shown once, kept only as a hash,
single-use and expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Invite, Role
from models.base import utcnow

# No 0/O, 1/I/L: the code is read off a screen and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_LENGTH = 3, 4  # XXXX-XXXX-XXXX: 60 bits


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in ALPHABET)


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def new_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(chars[i : i + GROUP_LENGTH] for i in range(0, len(chars), GROUP_LENGTH))


class InviteService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], valid_days: int = 14) -> None:
        self._sessions = sessions
        self.valid_days = valid_days

    async def create(
        self,
        role: Role,
        *,
        handle: str | None = None,
        created_by_id: int | None = None,
        now: datetime | None = None,
    ) -> tuple[str, Invite]:
        """A new code (returned once, never stored) and its row."""
        if role is Role.RESIDENT:
            raise ValueError("residents need no invite")
        now = now or utcnow()
        code = new_code()
        async with self._sessions.begin() as session:
            invite = Invite(
                code_hash=hash_code(code),
                role=role,
                handle=handle or None,
                created_by_id=created_by_id,
                expires_at=now + timedelta(days=self.valid_days),
            )
            session.add(invite)
        return code, invite

    async def check(self, code: str, now: datetime | None = None) -> Invite | None:
        """The invite if `code` is usable now; nothing is consumed."""
        now = now or utcnow()
        async with self._sessions() as session:
            invite = await session.scalar(select(Invite).where(Invite.code_hash == hash_code(code)))
        if invite is None or invite.used_at is not None or invite.expires_at <= now:
            return None
        return invite

    @staticmethod
    async def consume(
        session: AsyncSession, invite_id: int, user_id: int, now: datetime
    ) -> Invite | None:
        """Use the invite (found with `check`) inside the caller's transaction; None if used
        or expired meanwhile. By its id, so that a conversation between the check and the use
        keeps the id, never the code.

        A conditional UPDATE, so two people racing with one code cannot both get in.
        """
        result = await session.execute(
            update(Invite)
            .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.expires_at > now)
            .values(used_at=now, used_by_id=user_id)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        return await session.get(Invite, invite_id)
