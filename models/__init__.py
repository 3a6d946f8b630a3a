"""Typed SQLAlchemy models. Importing this package registers every table on `Base.metadata`."""

from models.base import Base
from models.bot_state import BotState
from models.broadcast import Broadcast, BroadcastDelivery, BroadcastState, DeliveryState
from models.civil_servant import CivilServant, Invite
from models.follow import AnnouncementMute, Follow, FollowKind
from models.initiative import (
    Initiative,
    InitiativeStatus,
    InitiativeStatusChange,
    Need,
    Visibility,
)
from models.matching import Introduction, IntroductionStatus, MatchNotice, Supporter
from models.meeting import MeetingNote, MeetingPost, MeetingReport
from models.moderation import ModerationAction, ModerationLog, Report
from models.poll import Poll, PollAnswer, PollState
from models.post import NewsEdition, Post, PostState
from models.question import EventKind, Question, QuestionEvent, QuestionStatus
from models.routing import ExampleSource, RoutingExample
from models.user import ContactMethod, Role, User
from models.vector import InitiativeVector
from models.work import ScheduledWork, WorkKind, WorkState

__all__ = [
    "AnnouncementMute",
    "Base",
    "BotState",
    "Broadcast",
    "BroadcastDelivery",
    "BroadcastState",
    "CivilServant",
    "ContactMethod",
    "DeliveryState",
    "EventKind",
    "ExampleSource",
    "Follow",
    "FollowKind",
    "Initiative",
    "InitiativeStatus",
    "InitiativeStatusChange",
    "InitiativeVector",
    "Introduction",
    "IntroductionStatus",
    "Invite",
    "MatchNotice",
    "MeetingNote",
    "MeetingPost",
    "MeetingReport",
    "ModerationAction",
    "ModerationLog",
    "Need",
    "NewsEdition",
    "Poll",
    "PollAnswer",
    "PollState",
    "Post",
    "PostState",
    "Question",
    "QuestionEvent",
    "QuestionStatus",
    "Report",
    "Role",
    "RoutingExample",
    "ScheduledWork",
    "Supporter",
    "User",
    "Visibility",
    "WorkKind",
    "WorkState",
]
