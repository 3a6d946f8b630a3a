"""Initiatives' sentence vectors in the database, kept in step with their texts as
`initiatives.normalized` is: computed when an initiative is saved, dropped in the same
transaction as a change of its words (a moderator's title, an erasure) and computed again right
after, and all computed again at start when the model changed. A vector missing for any reason
(no model at the time, a crash between the two steps) is computed at the next start; until
then that initiative is matched by its words alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.matching import MatchIndex
from bot.matching.vectors import initiative_texts, initiative_vector
from bot.semantic import embed_many, fingerprint, get_encoder, pack
from bot.services.meta import read_fingerprint, write_fingerprint
from models import Initiative, InitiativeVector
from models.base import utcnow

log = logging.getLogger(__name__)

# bot_state key of the fingerprint of the model the stored vectors come from.
ENCODER_KEY = "encoder"
# Texts per call to the model (and per transaction) when many are computed at once.
BATCH = 32


async def embed_texts(texts: Sequence[str]) -> np.ndarray | None:
    """Their vectors, one row each; None without a model, or when it failed (logged): a
    resident's save or search never fails for it, it is matched by words alone."""
    try:
        return await embed_many(texts)
    except Exception:
        log.exception("sentence model failed; matching by words alone")
        return None


async def embed_text(text: str) -> np.ndarray | None:
    vectors = await embed_texts([text])
    return None if vectors is None else vectors[0]


async def embed_initiative(title: str, description: str) -> np.ndarray | None:
    """The vector of an initiative with these texts; None without a model."""
    parts = await embed_texts(initiative_texts(title, description))
    return None if parts is None else initiative_vector(parts)


async def store_vector(
    session: AsyncSession, initiative_id: int, vector: np.ndarray | None
) -> None:
    """Write an initiative's vector, or with None, drop it."""
    if vector is None:
        await session.execute(
            delete(InitiativeVector).where(InitiativeVector.initiative_id == initiative_id)
        )
    else:
        await session.merge(InitiativeVector(initiative_id=initiative_id, vector=pack(vector)))


async def refresh_vectors(
    sessions: async_sessionmaker[AsyncSession],
    ids: Sequence[int],
    index: MatchIndex | None = None,
    *,
    touch: bool = True,
) -> int:
    """Compute the vectors of these initiatives from their stored texts and store them (and
    put them in `index`); returns how many were stored. With `touch`, their `updated_at` moves,
    so every instance's index takes the new vectors at its next refresh. Nothing without a
    model."""
    if get_encoder() is None:
        return 0
    stored = 0
    for start in range(0, len(ids), BATCH):
        batch = list(ids[start : start + BATCH])
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(Initiative.id, Initiative.title, Initiative.description).where(
                        Initiative.id.in_(batch)
                    )
                )
            ).all()
        texts = [initiative_texts(title, text) for _, title, text in rows]
        parts = await embed_texts([part for each in texts for part in each])
        if parts is None:
            return stored
        ends = np.cumsum([len(each) for each in texts])
        vectors = [
            initiative_vector(parts[end - len(each) : end])
            for each, end in zip(texts, ends, strict=True)
        ]
        async with sessions.begin() as session:
            for (initiative_id, _, _), vector in zip(rows, vectors, strict=True):
                await store_vector(session, initiative_id, vector)
            if touch:
                await session.execute(
                    update(Initiative)
                    .where(Initiative.id.in_([row[0] for row in rows]))
                    .values(updated_at=utcnow())
                )
        if index is not None:
            for (initiative_id, _, _), vector in zip(rows, vectors, strict=True):
                index.set_vector(initiative_id, vector)
        stored += len(rows)
    return stored


async def embed_stored(sessions: async_sessionmaker[AsyncSession]) -> int:
    """At start: every initiative's vector again when the model changed since they were
    computed, else those missing. Returns how many were computed."""
    encoder = get_encoder()
    if encoder is None:
        return 0  # the stored vectors wait for the model that made them
    model = fingerprint(encoder)
    async with sessions() as session:
        changed = await read_fingerprint(session, ENCODER_KEY) != model
        query = select(Initiative.id).order_by(Initiative.id)
        if not changed:
            query = query.outerjoin(InitiativeVector).where(
                InitiativeVector.initiative_id.is_(None)
            )
        ids = list(await session.scalars(query))
    if ids:
        log.info("computing the sentence vectors of %s initiatives", len(ids))
    # Untouched: this process loads them next, and an instance still running the old model
    # must keep comparing its queries with the vectors of that model.
    done = await refresh_vectors(sessions, ids, touch=False)
    if changed:
        async with sessions.begin() as session:
            await write_fingerprint(session, ENCODER_KEY, model)
    return done
