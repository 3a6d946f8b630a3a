"""AVG/GDPR: everything the bot keeps about one person, as data they can take with them.

The tables are found from the schema (every table with a foreign key to users), so a new
feature's data is in the export without anyone having to remember to add it.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.persistence import USER_DATA
from models import Base, BotState, User
from models.base import utcnow

# Columns that hold internal keys or derived data, not information about the person.
_LEFT_OUT = {"normalized"}
# Tables that refer to users but hold no personal data of their own (the bot's scratch state
# is exported through `user_data`).
NOT_PERSONAL = {"bot_state"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def user_columns(table: Table) -> list[str]:
    """The columns of `table` that point at users.id."""
    return [
        column.name
        for column in table.columns
        for key in column.foreign_keys
        if key.column.table.name == "users"
    ]


def personal_tables() -> list[Table]:
    return [
        table
        for table in Base.metadata.sorted_tables
        if table.name not in NOT_PERSONAL and table.name != "users" and user_columns(table)
    ]


class PrivacyService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def export(self, telegram_id: int) -> dict[str, Any] | None:
        """All rows about this person, table by table; None if the bot does not know them."""
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            if user is None:
                return None
            users = Base.metadata.tables["users"]
            me = (await session.execute(select(users).where(users.c.id == user.id))).one()
            data: dict[str, Any] = {
                "exported_at": utcnow().isoformat(),
                "you": {key: _plain(value) for key, value in me._mapping.items()},
            }
            for table in personal_tables():
                condition = None
                for name in user_columns(table):
                    clause = table.c[name] == user.id
                    condition = clause if condition is None else condition | clause
                rows = await session.execute(select(table).where(condition))
                data[table.name] = [
                    {k: _plain(v) for k, v in row._mapping.items() if k not in _LEFT_OUT}
                    for row in rows
                ]
            draft = await session.get(BotState, (USER_DATA, str(telegram_id)))
            data["conversation_in_progress"] = draft.value if draft is not None else None
            return data
