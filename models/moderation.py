"""Moderation: residents' reports of initiatives and the append-only log of moderator actions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Report(Base):
    """A resident's report of an initiative; one per resident per initiative, so a single person
    cannot hide an initiative on their own."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("initiative_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str | None] = mapped_column(String(500))
    # Set when a moderator decided on the initiative: later reports count afresh.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModerationAction(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RESTORE = "restore"
    HIDE = "hide"
    EDIT_TITLE = "edit_title"
    BAN = "ban"
    UNBAN = "unban"
    STATUS = "status"  # an initiative moved on by a moderator who did not write it
    ANNOUNCE = "announce"  # an announcement scheduled or sent
    STOP_ANNOUNCE = "stop_announce"
    REVOKE = "revoke"  # a civil servant's or moderator's role taken away
    FORGET_EXAMPLE = "forget_example"  # routing unlearned an example (/geleerd)


class ModerationLog(Base):
    """One row per moderator action, written in the same transaction as the action itself;
    rows are never edited or deleted by the bot."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[ModerationAction] = mapped_column(
        Enum(
            ModerationAction,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # "initiative", "user", "post" or "broadcast", and its id; no foreign key, so the log
    # outlives what it names.
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
