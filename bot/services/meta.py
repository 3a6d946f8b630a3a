"""The bot's own bookkeeping rows (namespace "meta" of bot_state): fingerprints of the rules a
start-up pass last ran with (the normaliser, the topic classifier), so the pass runs once per
change and not at every start."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import BotState
from models.database import insert_for

META = "meta"


async def read_fingerprint(session: AsyncSession, key: str) -> str | None:
    row = await session.get(BotState, (META, key))
    return None if row is None else row.value


async def write_fingerprint(session: AsyncSession, key: str, value: str) -> None:
    """Insert or overwrite: two instances that start at once and both ran the pass both
    write it, and neither fails on the other's row."""
    statement = insert_for(session, BotState).values(namespace=META, key=key, value=value)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[BotState.namespace, BotState.key], set_={"value": value}
        )
    )
