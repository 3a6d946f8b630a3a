"""Typed SQLAlchemy models. Importing this package registers every table on `Base.metadata`."""

from models.base import Base
from models.bot_state import BotState
from models.initiative import Initiative, InitiativeStatus, InitiativeStatusChange, Need
from models.matching import Introduction, IntroductionStatus, MatchNotice, Supporter
from models.user import ContactMethod, User

__all__ = [
    "Base",
    "BotState",
    "ContactMethod",
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
