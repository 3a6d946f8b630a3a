"""Sentence vectors of initiatives, computed once when their text is stored (bot.semantic)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class InitiativeVector(Base):
    """The meaning of an initiative's title and description, kept in step with them as
    `initiatives.normalized` is: written with every change of the text, gone with the
    initiative, and all computed again when the model changes (its fingerprint is in
    bot_state, key "encoder")."""

    __tablename__ = "initiative_vectors"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    # float16, bot.semantic.pack(): 768 bytes for the 384 dimensions of multilingual-e5-small.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
