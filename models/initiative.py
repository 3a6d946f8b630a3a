"""Initiatives of residents and the append-only history of their status."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime, utcnow
from models.user import User


class InitiativeStatus(enum.StrEnum):
    """The lifecycle a resident sees: idee → in gesprek → experiment → gerealiseerd / gestopt."""

    IDEA = "idee"
    IN_TALKS = "in_gesprek"
    EXPERIMENT = "experiment"
    REALISED = "gerealiseerd"
    STOPPED = "gestopt"

    @property
    def is_open(self) -> bool:
        """Still going somewhere: a match with it can still make a difference."""
        return self not in (InitiativeStatus.REALISED, InitiativeStatus.STOPPED)


class Need(enum.StrEnum):
    """What an initiative needs to get going; several may apply."""

    HELPERS = "helpers"
    SPACE = "space"
    PERMISSION = "permission"
    MONEY = "money"
    ADVICE = "advice"


class Visibility(enum.StrEnum):
    """Who may see an initiative besides its initiator: moderation, apart from its status."""

    PENDING = "pending"  # pre-moderation: waits for a moderator
    VISIBLE = "visible"
    HIDDEN = "hidden"  # reported often enough, or hidden by a moderator: pending review
    REJECTED = "rejected"


_status_type = Enum(
    InitiativeStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
)


class Initiative(Timestamped, Base):
    __tablename__ = "initiatives"
    __table_args__ = (UniqueConstraint("source", "external_id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for initiatives imported from an existing list (a citizens' summit, a spreadsheet).
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    motivation: Mapped[str] = mapped_column(Text)
    kern: Mapped[str] = mapped_column(String(64), index=True)
    # The most specific routing-taxonomy key the classifier is sure of, a subtopic
    # ("initiatieven/groen") or a main topic ("initiatieven"), or the resident's pick; None when
    # unsure. Following compares its main topic; statistics count both levels.
    topic: Mapped[str | None] = mapped_column(String(64), index=True)
    place: Mapped[str | None] = mapped_column(String(200))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    allow_introductions: Mapped[bool] = mapped_column(Boolean)
    # normalize() of the text, computed once on save; the match index is rebuilt from it.
    normalized: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[InitiativeStatus] = mapped_column(_status_type, default=InitiativeStatus.IDEA)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    visibility: Mapped[Visibility] = mapped_column(
        Enum(
            Visibility, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        ),
        default=Visibility.VISIBLE,
        server_default=Visibility.VISIBLE.value,
    )

    # Where an imported initiative came from, and its id there, so an import can be re-run.
    source: Mapped[str | None] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(100))
    # The key of the /idee draft it was saved from: a second "Opslaan" of that draft (after a
    # crash lost the step, or a timeout froze it) finds this row instead of adding another.
    draft_key: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)

    author: Mapped[User | None] = relationship()


class InitiativeStatusChange(Base):
    """One row per change; rows are never edited, so the history stays complete."""

    __tablename__ = "initiative_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[InitiativeStatus] = mapped_column(_status_type)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
