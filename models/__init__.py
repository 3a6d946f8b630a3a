"""Typed SQLAlchemy models. Importing this package registers every table on `Base.metadata`."""

from models.base import Base
from models.bot_state import BotState
from models.broadcast import Broadcast, BroadcastDelivery, BroadcastState, DeliveryState
from models.follow import AnnouncementMute, Follow, FollowKind
from models.initiative import Initiative, InitiativeStatus, InitiativeStatusChange, Need
from models.matching import Introduction, IntroductionStatus, MatchNotice, Supporter
from models.user import ContactMethod, User

__all__ = [
    "AnnouncementMute",
    "Base",
    "BotState",
    "Broadcast",
    "BroadcastDelivery",
    "BroadcastState",
    "ContactMethod",
    "DeliveryState",
    "Follow",
    "FollowKind",
    "Initiative",
    "InitiativeStatus",
    "InitiativeStatusChange",
    "Introduction",
    "IntroductionStatus",
    "MatchNotice",
    "Need",
    "Supporter",
    "User",
]
