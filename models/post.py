"""The "Wist je dat…" posts of civil servants, and the weekly news editions that carry them.

A post waits for a moderator, is approved or rejected (with a reason for its author), and goes
out once, in the weekly news of the residents who follow its topic or kern. An edition row per
week is written in the same transaction as that week's messages, so a week is built once.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime


class PostState(enum.StrEnum):
    PENDING = "pending"  # waits in /wachtrij
    APPROVED = "approved"  # goes out with the next weekly news
    REJECTED = "rejected"
    PUBLISHED = "published"


class Post(Timestamped, Base):
    __tablename__ = "posts"
    # Every post is for someone: followers of a topic, of a kern, or of either.
    __table_args__ = (
        CheckConstraint("topic IS NOT NULL OR kern IS NOT NULL", name="audience"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The civil servant who wrote it; None once they left (published posts stay, unsigned).
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(64))  # a main topic key
    kern: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[PostState] = mapped_column(
        Enum(
            PostState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        ),
        default=PostState.PENDING,
        index=True,
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The edition (ISO week, "2026-W23") it went out in, and to how many residents.
    edition: Mapped[str | None] = mapped_column(String(16))
    recipients: Mapped[int | None] = mapped_column(Integer)


class NewsEdition(Base):
    """One row per week whose news was built; its primary key makes the build happen once."""

    __tablename__ = "news_editions"

    week: Mapped[str] = mapped_column(String(16), primary_key=True)  # "2026-W23"
    # The configured moment of this edition; the next edition's status changes start here.
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
