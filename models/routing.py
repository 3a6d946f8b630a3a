"""What routing learned from people: one labelled example per question (bot/services/
routing_examples.py)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSED, Base, UTCDateTime, utcnow


class ExampleSource(enum.StrEnum):
    """Who gave the topic, and how."""

    ASKED = "asked"  # the resident picked it because the bot was unsure
    CORRECTED = "corrected"  # the resident corrected a topic the bot was sure of
    FORWARDED = "forwarded"  # a civil servant forwarded the question to this topic
    TRIAGE = "triage"  # a moderator assigned it from triage to someone with this topic
    IMPORTED = "imported"  # `burgerbeest routing import`


class RoutingExample(Base):
    """A question's sentence vector and the topic a person gave it. No words: see the module
    docstring of bot/services/routing_examples.py for what happens at erasure and retention."""

    __tablename__ = "routing_examples"
    # Ids travel in undo buttons.
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_key: Mapped[str] = mapped_column(String(100))
    source: Mapped[ExampleSource] = mapped_column(
        Enum(
            ExampleSource,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # One example per question: the latest label wins. NULL for imported examples.
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"), unique=True
    )
    # float16 bytes (bot.semantic.pack); NULL when no model was loaded when it was learned.
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    # bot.semantic.fingerprint of the model that made `vector` ("" without one).
    model: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
