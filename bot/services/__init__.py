"""Domain services: what the bot decides and stores, free of Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import BroadcastConfig, Config, ModerationConfig, PostsConfig
from bot.matching import MatchIndex
from bot.services.broadcasts import BroadcastService
from bot.services.civil_servants import CivilServantService
from bot.services.dispatch import DispatchService
from bot.services.following import FollowingService
from bot.services.initiative_topics import InitiativeTopics
from bot.services.initiatives import InitiativeService
from bot.services.invites import InviteService
from bot.services.matching import MatchingService
from bot.services.meeting import MeetingService
from bot.services.moderation import ModerationService
from bot.services.polls import PollService
from bot.services.posts import PostService
from bot.services.privacy import PrivacyService
from bot.services.questions import QuestionService
from bot.services.staff import StaffService
from bot.services.stats import StatsService
from bot.services.users import UserService
from bot.workdays import WorkingCalendar


@dataclass(frozen=True)
class Services:
    users: UserService
    initiatives: InitiativeService
    matching: MatchingService
    meeting: MeetingService
    privacy: PrivacyService
    broadcasts: BroadcastService
    following: FollowingService
    questions: QuestionService
    civil_servants: CivilServantService
    invites: InviteService
    dispatch: DispatchService
    moderation: ModerationService
    stats: StatsService
    posts: PostService
    staff: StaffService
    polls: PollService

    @classmethod
    def create(
        cls, sessions: async_sessionmaker[AsyncSession], config: Config | None = None
    ) -> Services:
        index = MatchIndex()
        questions_config = config.questions if config else None
        calendar = WorkingCalendar(config.municipality.tz) if config else WorkingCalendar()
        questions = QuestionService(sessions, questions_config, calendar)
        users = UserService(sessions)
        moderation_config = config.moderation if config else ModerationConfig()
        broadcast_lease = timedelta(
            seconds=(config.broadcast if config else BroadcastConfig()).lease_s
        )
        return cls(
            users=users,
            initiatives=InitiativeService(
                sessions,
                index,
                topics=InitiativeTopics(questions.classifier),
                pre_moderation=moderation_config.mode == "pre",
            ),
            matching=MatchingService(sessions, index),
            meeting=MeetingService(sessions, moderation_config),
            privacy=PrivacyService(sessions, users, index, questions),
            broadcasts=BroadcastService(sessions, lease=broadcast_lease),
            following=FollowingService(sessions),
            questions=questions,
            civil_servants=CivilServantService(sessions, questions.config.moderators),
            invites=InviteService(sessions, questions.config.invite_days),
            dispatch=DispatchService(sessions, questions),
            moderation=ModerationService(sessions, index, moderation_config),
            stats=StatsService(sessions, calendar, questions.taxonomy),
            posts=PostService(
                sessions,
                config.posts if config else PostsConfig(),
                calendar.tz,
                frozenset(t.key for t in questions.taxonomy.main_topics),
                config.municipality.kernen if config else (),
            ),
            staff=StaffService(sessions, questions),
            polls=PollService(sessions),
        )
