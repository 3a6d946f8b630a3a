"""PTB persistence in the bot's own database: conversation states and per-user scratch data.

Only JSON-able data is stored (drafts are plain dicts), so a row can be read and erased by hand.
The application flushes after every update (see `handlers.register`), so a conversation in
progress survives a restart, even a crash, not only a clean stop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from copy import deepcopy
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from models import BotState

USER_DATA = "user_data"


def _conversation_namespace(name: str) -> str:
    return f"conversation:{name}"


class SqlPersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], update_interval: float = 60
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions

    async def _rows(self, namespace: str) -> Iterable[BotState]:
        async with self._sessions() as session:
            return list(
                await session.scalars(select(BotState).where(BotState.namespace == namespace))
            )

    async def _put(self, namespace: str, key: str, value: Any) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(BotState, (namespace, key))
            if value is None:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(BotState(namespace=namespace, key=key, value=value))
            else:
                row.value = value

    # --- user data -------------------------------------------------------------------------

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        return {int(row.key): deepcopy(row.value) for row in await self._rows(USER_DATA)}

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await self._put(USER_DATA, str(user_id), data or None)

    async def drop_user_data(self, user_id: int) -> None:
        await self._put(USER_DATA, str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        pass

    # --- conversations ---------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self._rows(_conversation_namespace(name))
        return {tuple(json.loads(row.key)): row.value for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self._put(_conversation_namespace(name), json.dumps(list(key)), new_state)

    # --- what this bot does not keep -------------------------------------------------------

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {}

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        pass

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        pass

    async def update_callback_data(self, data: Any) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        pass

    async def flush(self) -> None:
        pass
