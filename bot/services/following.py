"""What residents follow (kernen, topics) and whether they muted announcements. No Telegram here.

A resident's own kern always counts as followed: announcements for it reach them without a
follow row, so /volgen lists it as followed and cannot switch it off. /stil is the one switch
that silences all announcements.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import AnnouncementMute, Follow, FollowKind


@dataclass(frozen=True)
class Following:
    kernen: frozenset[str]
    topics: frozenset[str]
    muted: bool


class FollowingService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def of(self, user_id: int) -> Following:
        async with self._sessions() as session:
            rows = await session.execute(
                select(Follow.kind, Follow.value).where(Follow.user_id == user_id)
            )
            follows = rows.all()
            muted = await session.get(AnnouncementMute, user_id) is not None
        return Following(
            kernen=frozenset(v for k, v in follows if k is FollowKind.KERN),
            topics=frozenset(v for k, v in follows if k is FollowKind.TOPIC),
            muted=muted,
        )

    async def toggle(self, user_id: int, kind: FollowKind, value: str) -> bool:
        """Follow `value` if not yet followed, else stop; returns whether it is followed now."""
        async with self._sessions.begin() as session:
            removed = await session.execute(
                delete(Follow).where(
                    Follow.user_id == user_id, Follow.kind == kind, Follow.value == value
                )
            )
            if removed.rowcount:
                return False
        try:
            async with self._sessions.begin() as session:
                session.add(Follow(user_id=user_id, kind=kind, value=value))
        except IntegrityError:
            pass  # a double press raced us to it: followed either way
        return True

    async def set_muted(self, user_id: int, muted: bool) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(AnnouncementMute).where(AnnouncementMute.user_id == user_id)
            )
            if muted:
                session.add(AnnouncementMute(user_id=user_id))
