"""Announcements of moderators to an audience, and one delivery row per recipient.

The delivery rows are the durable record of who got what (DESIGN "Durable scheduling"): they are
materialised once, when sending starts, and each is claimed before its send and resolved after
it, so a crash or a second instance never sends anyone a second copy.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class BroadcastState(enum.StrEnum):
    """draft → scheduled → sending → done; scheduled or sending → cancelled."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"  # waits for due_at ("now" is a due_at in the past)
    SENDING = "sending"
    CANCELLED = "cancelled"
    DONE = "done"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # a sender took it and is sending right now
    SENT = "sent"
    BLOCKED = "blocked"  # Telegram said Forbidden: the resident blocked the bot
    FAILED = "failed"  # gave up after retries, or Telegram refused the message
    # Was claimed by a sender that died: the message may or may not have gone out. Never resent.
    UNKNOWN = "unknown"


class Broadcast(Timestamped, Base):
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_state_due_at", "state", "due_at"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # HTML as Telegram rendered the moderator's message (their formatting kept, the rest escaped).
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    # {"kind": "everyone" | "kernen" | "topics" | "civil_servants", "values": [...]}
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[BroadcastState] = mapped_column(
        _enum(BroadcastState), default=BroadcastState.DRAFT
    )
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The one message in the author's chat that shows live progress.
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(Integer)
    # Only one sender at a time: the process that holds an unexpired lease sends; another may
    # take over when the lease ran out (the holder died).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BroadcastDelivery(Base):
    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id"),
        Index("ix_broadcast_deliveries_broadcast_id_state", "broadcast_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(200))
