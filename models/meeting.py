"""An initiative's meeting place: its initiator and everyone who joined post to each other
through the bot. Membership is the initiative's author and its supporters (models/matching.py);
what a member wrote is kept here, and delivered as scheduled work (models/work.py) that holds
the post's id, never its words."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime


class MeetingPost(Timestamped, Base):
    """One message to the group of an initiative, stored before anyone receives it."""

    __tablename__ = "meeting_posts"
    # Ids travel in buttons and in scheduled work: never handed out twice.
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # The Telegram message it came from ("<chat>:<message>"): the same update handled twice
    # (a webhook retried) stores and sends the post once.
    source: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Set by a moderator, or by enough reports: what was not delivered yet is not delivered.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MeetingNote(Timestamped, Base):
    """A member's few words for the initiator ("I can help on Saturdays"); one per member."""

    __tablename__ = "meeting_notes"
    __table_args__ = (UniqueConstraint("initiative_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(300))


class MeetingReport(Timestamped, Base):
    """A member's report of a post they received; one per member per post, so a single person
    cannot hide a post on their own."""

    __tablename__ = "meeting_reports"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_posts.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
