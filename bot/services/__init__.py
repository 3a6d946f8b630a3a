"""Domain services: what the bot decides and stores, free of Telegram."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.matching import MatchIndex
from bot.services.broadcasts import BroadcastService
from bot.services.following import FollowingService
from bot.services.initiatives import InitiativeService
from bot.services.matching import MatchingService
from bot.services.privacy import PrivacyService
from bot.services.users import UserService


@dataclass(frozen=True)
class Services:
    users: UserService
    initiatives: InitiativeService
    matching: MatchingService
    broadcasts: BroadcastService
    following: FollowingService
    privacy: PrivacyService

    @classmethod
    def create(cls, sessions: async_sessionmaker[AsyncSession]) -> Services:
        index = MatchIndex()
        return cls(
            users=UserService(sessions),
            initiatives=InitiativeService(sessions, index),
            matching=MatchingService(sessions, index),
            broadcasts=BroadcastService(sessions),
            following=FollowingService(sessions),
            privacy=PrivacyService(sessions),
        )
