"""What a resident follows (kernen, topics) and whether they muted announcements.

A resident's own kern is not stored here: it always counts as followed (see
bot/services/following.py). Muting lives in a table of its own rather than a column on users, so
this feature needs no change to the shared users table.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped, UTCDateTime, utcnow


class FollowKind(enum.StrEnum):
    KERN = "kern"
    TOPIC = "topic"  # a main topic key of the taxonomy (bot/data/topics.toml)


class Follow(Timestamped, Base):
    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "value"),
        # Audience resolution asks "who follows this kern/topic", not "what does X follow".
        Index("ix_follows_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[FollowKind] = mapped_column(
        Enum(
            FollowKind, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e]
        )
    )
    value: Mapped[str] = mapped_column(String(64))


class AnnouncementMute(Base):
    """A row means: this resident gets no announcements (/stil); deleting it unmutes."""

    __tablename__ = "announcement_mutes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
