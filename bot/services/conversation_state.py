"""Where conversation state lives in the database, and how one person's is forgotten.

The Telegram side (handlers/persistence.py) reads and writes these rows for PTB; services need
them only to forget a person: their erasure, or a role taken away, possibly by another process
(the CLI) than the bot's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from models import BotState

USER_DATA = "user_data"


def conversation_namespace(name: str) -> str:
    return f"conversation:{name}"


def conversation_key(key: Sequence[int | str]) -> str:
    return json.dumps(list(key))


async def forget_state(session: AsyncSession, telegram_id: int) -> None:
    """Delete one person's stored conversation states and user_data, inside the caller's
    transaction. Conversation keys are [chat id, user id]; in a private chat both are theirs."""
    await session.execute(
        delete(BotState).where(
            ((BotState.namespace == USER_DATA) & (BotState.key == str(telegram_id)))
            | (
                BotState.namespace.startswith("conversation:")
                & (BotState.key == conversation_key((telegram_id, telegram_id)))
            )
        )
    )
