"""Civil servants: their profile for residents and routing, and the invite codes they join with."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime
from models.user import Role, User, role_type


class CivilServant(Timestamped, Base):
    """The profile a civil servant fills in with /aanmelden; one per user."""

    __tablename__ = "civil_servants"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # The name routing rules in the config use for this person (given with the invite).
    handle: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(128))
    # Topic keys (main or sub) and kernen this person handles; empty kernen = all of them.
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    kernen: Mapped[list[str]] = mapped_column(JSON, default=list)
    introduction: Mapped[str] = mapped_column(Text, default="")
    backup_id: Mapped[int | None] = mapped_column(
        ForeignKey("civil_servants.id", ondelete="SET NULL")
    )
    # Away up to and including this local date; questions go to the backup meanwhile.
    away_until: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship(lazy="joined")

    def is_away(self, today: date) -> bool:
        return self.away_until is not None and today <= self.away_until

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "department": self.department}


class Invite(Timestamped, Base):
    """A single-use invite code; only its sha256 is kept, the code is shown once."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(role_type)
    handle: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
