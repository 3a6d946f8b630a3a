"""Scheduled work: every message the bot owes someone later is a row with a due time.

Periodic jobs claim due rows with a conditional UPDATE (only a pending row can be claimed, and
only once), act, and mark them done, so a restart or a second instance loses nothing and sends
nothing twice (DESIGN "Durable scheduling").
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped, UTCDateTime


class WorkKind(enum.StrEnum):
    DIGEST = "digest"  # the header of a civil servant's digest at a dispatch time
    DELIVER = "deliver"  # a question to its assignee (at a dispatch time, or at once if urgent)
    REMINDER = "reminder"  # one working day before the deadline, to the assignee
    ESCALATION = "escalation"  # at the deadline: to the backup and the moderators
    NOTICE = "notice"  # any other message: payload {"key": catalog key, "values": {...}}
    NEWS = "news"  # a resident's weekly news: payload {"week", "posts": [ids], "changes": [...]}


class WorkState(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # no longer needed (answered before the reminder, …)
    # No answer to the send (a timeout), or claimed by a run that stopped: the message may or
    # may not have arrived. Never sent again.
    UNKNOWN = "unknown"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class ScheduledWork(Timestamped, Base):
    __tablename__ = "scheduled_work"
    __table_args__ = (Index("ix_scheduled_work_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[WorkKind] = mapped_column(_enum(WorkKind))
    state: Mapped[WorkState] = mapped_column(_enum(WorkState), default=WorkState.PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Unique where set: one digest header per civil servant and dispatch time.
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
