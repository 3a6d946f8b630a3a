"""A Telegram user of the bot: a resident now; civil servant and moderator roles build on it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Enum, String, true
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSED, Base, Timestamped, UTCDateTime


class ContactMethod(enum.StrEnum):
    """How a resident may be reached once both sides agreed to an introduction."""

    USERNAME = "username"
    PROFILE_LINK = "profile_link"


class Role(enum.StrEnum):
    RESIDENT = "resident"
    CIVIL_SERVANT = "ambtenaar"
    MODERATOR = "moderator"


role_type = Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    # Before consent this is the only thing kept of a person.
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    language: Mapped[str | None] = mapped_column(String(8))
    kern: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    contact_method: Mapped[ContactMethod | None] = mapped_column(
        Enum(
            ContactMethod,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # False once Telegram said the user blocked the bot: nothing is sent to them any more.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Moderators may also come from the config ([moderators] telegram_ids).
    role: Mapped[Role] = mapped_column(role_type, default=Role.RESIDENT, server_default="resident")
    # Set by a moderator's /ban: the bot then refuses everything this person sends.
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def onboarded(self) -> bool:
        return self.consent_at is not None and self.kern is not None
