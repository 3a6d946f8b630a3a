"""Questions of residents to the municipality and their append-only history."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime, utcnow


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class QuestionStatus(enum.StrEnum):
    """submitted → (triage →) delivered ⇄ info_requested → answered → closed (→ submitted)."""

    SUBMITTED = "ingediend"  # routed, waiting for the next digest
    TRIAGE = "triage"  # no rule matched: a moderator assigns it
    DELIVERED = "bij_ambtenaar"
    INFO_REQUESTED = "info_gevraagd"  # waiting for the resident
    ANSWERED = "beantwoord"
    CLOSED = "gesloten"

    @property
    def is_open(self) -> bool:
        return self is not QuestionStatus.CLOSED

    @property
    def awaits_civil_servant(self) -> bool:
        """The deadline runs: the next move is the civil servant's."""
        return self in (QuestionStatus.SUBMITTED, QuestionStatus.DELIVERED)


class EventKind(enum.StrEnum):
    CREATED = "created"
    ASSIGNED = "assigned"
    TRIAGED = "triaged"
    DELIVERED = "delivered"
    INFO_REQUESTED = "info_requested"
    RESIDENT_REPLIED = "resident_replied"
    ANSWERED = "answered"
    FORWARDED = "forwarded"
    CLOSED = "closed"
    FEEDBACK = "feedback"
    REOPENED = "reopened"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    BLOCKED = "blocked"  # the assignee blocked the bot; rerouted
    ERASED = "erased"  # the resident erased their data
    SERVANT_LEFT = "servant_left"  # the assignee left the municipality; rerouted


class Question(Timestamped, Base):
    __tablename__ = "questions"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the resident erased their data; the question stays for statistics.
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    topic_key: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None] = mapped_column(Float)
    kern: Mapped[str | None] = mapped_column(String(64))
    # Answers to the topic's follow-up questions: follow-up key → answer.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[QuestionStatus] = mapped_column(
        _enum(QuestionStatus), default=QuestionStatus.SUBMITTED, index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("civil_servants.id", ondelete="SET NULL"), index=True
    )
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_score: Mapped[int | None] = mapped_column(Integer)
    feedback_text: Mapped[str | None] = mapped_column(Text)
    # The key of the /vraag draft it was sent from: "Versturen" again finds this row.
    draft_key: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)

    @property
    def number(self) -> str:
        """The ticket number residents and civil servants quote: V-2026-0042."""
        return f"V-{self.created_at.year}-{self.id:04d}"


class QuestionEvent(Base):
    """One row per thing that happened to a question; never edited (erasure blanks `text`)."""

    __tablename__ = "question_events"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind))
    status: Mapped[QuestionStatus | None] = mapped_column(_enum(QuestionStatus))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    civil_servant_id: Mapped[int | None] = mapped_column(
        ForeignKey("civil_servants.id", ondelete="SET NULL")
    )
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
