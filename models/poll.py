"""Polls (/peiling): a question from a moderator or civil servant to an audience, open until a
date, and the residents' answers.

A poll travels as a broadcast (models/broadcast.py): its delivery rows are who received it, so
sending it is as paced, resumable and exactly-once as an announcement. A shared result goes out
as a second broadcast to the people who answered.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime, utcnow

# Telegram's own polls allow 300 characters for a question and 100 for an option; an option here
# is a button label, which must stay short enough to read on a phone.
QUESTION_MAX = 300
CHOICE_MAX = 40
CHOICES_MIN, CHOICES_MAX = 2, 6
OPEN_ANSWER_MAX = 1000


class PollState(enum.StrEnum):
    """open → closed (by the closing job, once closes_at has passed)."""

    OPEN = "open"
    CLOSED = "closed"


class Poll(Timestamped, Base):
    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_state_closes_at", "state", "closes_at"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    question: Mapped[str] = mapped_column(Text)
    # The button labels in order; empty for an open question (a typed answer).
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    # As a broadcast's: {"kind": "everyone" | "kernen" | "topics", "values": [...]}
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Whether the people who answered get a short result when it closes.
    share_results: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[PollState] = mapped_column(
        Enum(
            PollState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        ),
        default=PollState.OPEN,
    )
    # The broadcast that carries the question to the audience, and the one with the result.
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), unique=True
    )
    result_broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), unique=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_open_question(self) -> bool:
        return not self.choices


class PollAnswer(Base):
    """One resident's answer. Erasure (/vergeetmij) deletes a typed answer and takes the person
    off a choice: the choice stays, without anyone behind it, so a count does not change."""

    __tablename__ = "poll_answers"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    choice: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
