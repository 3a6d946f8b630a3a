"""Residents finding each other: supporters who joined an initiative, introductions between
initiators (double opt-in), and late-match notices waiting for the daily batch."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime


class Supporter(Timestamped, Base):
    """A resident who said "this is the same — I'll join" about someone else's initiative.

    `told_at`: when its initiator was told of the join (with the joiner's note, or without one
    when they skipped it or never answered), claimed before the send so it goes out once."""

    __tablename__ = "supporters"
    __table_args__ = (UniqueConstraint("initiative_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IntroductionStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Introduction(Timestamped, Base):
    """One request per pair of residents: the requester asked, the initiator decides once."""

    __tablename__ = "introductions"
    __table_args__ = (UniqueConstraint("requester_id", "initiator_id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    initiator_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The initiative that brought them together, and the requester's own one if they saved it.
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    requester_initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="SET NULL")
    )
    status: Mapped[IntroductionStatus] = mapped_column(
        Enum(
            IntroductionStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=IntroductionStatus.PENDING,
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MatchNotice(Timestamped, Base):
    """A newer initiative resembles an older one whose initiator welcomes introductions.

    Notices wait here until the batch job sends them, at most one message a day per person.
    """

    __tablename__ = "match_notices"
    __table_args__ = (UniqueConstraint("recipient_id", "new_initiative_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    own_initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    new_initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
