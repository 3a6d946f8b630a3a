"""PTB persistence in the bot's own database: conversation states and per-user scratch data.

Only JSON-able data is stored (drafts are plain dicts), so a row can be read and erased by hand.
The application flushes after every update (see `handlers.register`), so a conversation in
progress survives a restart, even a crash, not only a clean stop.

A row is written only when its value changed since this process last read or wrote it.

In webhook mode, where several instances may serve one bot, the database rather than an
instance's memory is the truth about a conversation: `SharedStateApplication` reloads a
resident's conversation states and user_data before each of their updates and writes them back
right after it, so instances can serve one resident in turns (/idee on one, the title on
another). On PostgreSQL a per-resident advisory lock makes two updates of one resident (a double
tap that reaches two instances) run one after the other, as they do within one instance; SQLite
has no such lock between processes (see docs/operations.md).

A state that cannot be written (a full disk, a database gone) is not passed over: the update
that changed it fails visibly (`persist_update` raises StateNotSaved, and the person is asked to
try again), it is counted in /metrics, and /healthz is unhealthy until a write succeeds again.
What the update changed in memory is put back to what is stored, as if the process had
restarted there, so that trying again means doing that step again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from copy import deepcopy
from typing import Any

from prometheus_client import Counter
from sqlalchemy import and_, delete, func, insert, or_, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, BasePersistence, ConversationHandler, PersistenceInput
from telegram.ext._utils.trackingdict import TrackingDict
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.services.conversation_state import USER_DATA, conversation_key, conversation_namespace
from models import BotState

log = logging.getLogger(__name__)


class StateNotSaved(Exception):
    """The conversation state or user_data an update changed could not be written."""


# How long an update waits for another instance that is handling the same resident; after that
# it goes ahead without the lock (an update lost would be worse than one handled twice).
TURN_WAIT_MS = 10_000


class SqlPersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        update_interval: float = 60,
        failures: Counter | None = None,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions
        # Each row as this process last read or wrote it (JSON; None: no row). PTB hands over
        # every state a handler returned and the user_data of every user it saw; what did not
        # change is not written again, which spares most updates a write.
        self._seen: dict[tuple[str, str], str | None] = {}
        # Writes that failed, ever (persist_update compares), and whether the last one did.
        self.write_failures = 0
        self.writes_failing = False
        self._failures = failures

    def _remember(self, namespace: str, key: str, value: Any) -> None:
        self._seen[namespace, key] = None if value is None else json.dumps(value, sort_keys=True)

    async def _rows(self, namespace: str) -> Iterable[BotState]:
        async with self._sessions() as session:
            rows = list(
                await session.scalars(select(BotState).where(BotState.namespace == namespace))
            )
        for row in rows:
            self._remember(row.namespace, row.key, row.value)
        return rows

    async def _put(self, namespace: str, key: str, value: Any) -> None:
        encoded = None if value is None else json.dumps(value, sort_keys=True)
        if (namespace, key) in self._seen and self._seen[namespace, key] == encoded:
            return
        this = (BotState.namespace == namespace) & (BotState.key == key)
        # Statements, not ORM objects: two processes may write or delete the same row at once
        # (SQLite has no turns), and the write that starts second sees the first one's row.
        try:
            async with self._sessions.begin() as session:
                if value is None:
                    await session.execute(delete(BotState).where(this))
                elif not (
                    await session.execute(update(BotState).where(this).values(value=value))
                ).rowcount:
                    await session.execute(
                        insert(BotState).values(namespace=namespace, key=key, value=value)
                    )
        except (SQLAlchemyError, OSError) as exc:
            # Not raised: PTB would report it without the update (see persist_update). The
            # driver's message only; the statement's parameters hold the resident's words.
            log.error("state %s not written: %s", namespace, getattr(exc, "orig", None) or exc)
            self.write_failures += 1
            self.writes_failing = True
            if self._failures is not None:
                self._failures.inc()
            return
        self.writes_failing = False
        self._seen[namespace, key] = encoded

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
        rows = await self._rows(conversation_namespace(name))
        return {tuple(json.loads(row.key)): row.value for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self._put(conversation_namespace(name), conversation_key(key), new_state)

    # --- one resident's state, for shared-state instances ------------------------------------

    @asynccontextmanager
    async def turn(
        self, user_id: int, conversations: Iterable[tuple[str, ConversationKey]]
    ) -> AsyncIterator[tuple[dict[str, Any], dict[str, object]]]:
        """This resident's turn: their user_data and {conversation name: state} as stored (a
        conversation that is not open has no entry), and, on PostgreSQL, until the block ends,
        no other instance handles an update of theirs: a transaction-scoped advisory lock on the
        user id, let go when the session closes, also when the process dies. SQLite: no lock."""
        async with self._sessions() as session:
            locking = session.bind.dialect.name == "postgresql"
            # Usually free at once: one round trip; else wait, at most TURN_WAIT_MS.
            if locking and not await session.scalar(
                select(func.pg_try_advisory_xact_lock(user_id))
            ):
                try:
                    await session.execute(text(f"SET LOCAL lock_timeout = {TURN_WAIT_MS}"))
                    await session.execute(select(func.pg_advisory_xact_lock(user_id)))
                except DBAPIError:
                    log.warning("user %s: another instance took too long, going ahead", user_id)
                    await session.rollback()
            stored = await self._read(session, user_id, conversations)
            if not locking:
                await session.close()  # nothing to hold: let go of the read at once
            yield stored

    async def stored(
        self, user_id: int, conversations: Iterable[tuple[str, ConversationKey]]
    ) -> tuple[dict[str, Any], dict[str, object]]:
        """What turn() gives, without waiting for a turn."""
        async with self._sessions() as session:
            return await self._read(session, user_id, conversations)

    async def _read(
        self,
        session: AsyncSession,
        user_id: int,
        conversations: Iterable[tuple[str, ConversationKey]],
    ) -> tuple[dict[str, Any], dict[str, object]]:
        wanted = {
            (conversation_namespace(name), conversation_key(key)): name
            for name, key in conversations
        }
        pairs = [(USER_DATA, str(user_id)), *wanted]
        rows = await session.scalars(
            select(BotState).where(
                or_(*(and_(BotState.namespace == ns, BotState.key == k) for ns, k in pairs))
            )
        )
        found = {(row.namespace, row.key): row.value for row in rows}
        self._remember(USER_DATA, str(user_id), found.get((USER_DATA, str(user_id))))
        for pair in wanted:
            if pair in found:
                self._remember(*pair, found[pair])
            else:  # not open: forgotten, so that what is remembered stays as small as the table
                self._seen.pop(pair, None)
        user_data = found.pop((USER_DATA, str(user_id)), None) or {}
        return user_data, {wanted[pair]: state for pair, state in found.items()}

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


def conversation_slot(
    handler: ConversationHandler, update: Update
) -> tuple[TrackingDict[ConversationKey, object], ConversationKey] | None:
    """Where `handler` keeps the state `update` belongs to: its dict of states and the key.

    PTB 22 has no public way to change one conversation's state from outside (persistence is
    read once, at initialize()), so this is the one place that reaches into a ConversationHandler:
    `_conversations` (the TrackingDict that check_update() reads and update_persistence() writes)
    and `_get_key()`. tests/test_shared_state.py::test_what_shared_state_relies_on_in_ptb fails
    when PTB changes either. None: the update has no key here (no chat or no user).
    """
    try:
        key = handler._get_key(update)
    except RuntimeError:
        return None
    return handler._conversations, key  # type: ignore[return-value]


def end_conversations(
    application: Application[Any, Any, Any, Any, Any, Any], update: Update
) -> None:
    """End every conversation the person of `update` has open in this chat (their erasure):
    the next persistence update deletes the stored states, keyed by their Telegram id."""
    for group in application.handlers.values():
        for handler in group:
            if isinstance(handler, ConversationHandler):
                slot = conversation_slot(handler, update)
                if slot is not None:
                    conversations, key = slot
                    conversations.pop(key, None)


_Slots = dict[str, tuple[TrackingDict[ConversationKey, object], ConversationKey]]


def _persistent_slots(
    application: Application[Any, Any, Any, Any, Any, Any], update: Update
) -> _Slots:
    """{conversation name: where its state for `update` is kept}, of the persistent ones."""
    return {
        handler.name: slot
        for group in application.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler) and handler.persistent and handler.name
        if (slot := conversation_slot(handler, update)) is not None
    }


def _load(
    application: Application[Any, Any, Any, Any, Any, Any],
    user_id: int,
    slots: _Slots,
    user_data: dict[str, Any],
    states: dict[str, object],
) -> None:
    """Make one person's user_data and conversation states in memory what is stored."""
    mine = application.user_data[user_id]
    mine.clear()
    mine.update(user_data)
    for name, (conversation, key) in slots.items():
        # Past the tracking: a state read is not a change to write back.
        state = states.get(name)
        if state is None or state == ConversationHandler.END:
            conversation.data.pop(key, None)
        else:
            conversation.data[key] = state


async def persist_update(
    application: Application[Any, Any, Any, Any, Any, Any], update: object
) -> None:
    """Write what `update` changed; when a write fails, put the person's state in memory back
    to what is stored and raise StateNotSaved, for the error handler to tell them."""
    persistence = application.persistence
    if not isinstance(persistence, SqlPersistence):
        await application.update_persistence()
        return
    failures = persistence.write_failures
    await application.update_persistence()
    if persistence.write_failures == failures:
        return
    user = update.effective_user if isinstance(update, Update) else None
    if user is not None:
        slots = _persistent_slots(application, update)
        try:
            user_data, states = await persistence.stored(
                user.id, [(name, key) for name, (_, key) in slots.items()]
            )
        except (SQLAlchemyError, OSError) as exc:  # nothing to read either: memory stays ahead
            log.error("state of user %s not read back: %s", user.id, type(exc).__name__)
        else:
            _load(application, user.id, slots, user_data, states)
    raise StateNotSaved


class SharedStateApplication(
    Application[Any, Any, dict[str, Any], dict[str, Any], dict[str, Any], Any]
):
    """The Application in webhook mode, where several instances may share the residents: for
    each update, the database is the truth about its resident's conversations (see the module
    docstring). Updates without a user (none of the flows take them) pass straight through."""

    async def process_update(self, update: object) -> None:
        persistence = self.persistence
        user = update.effective_user if isinstance(update, Update) else None
        if user is None or not isinstance(persistence, SqlPersistence):
            await super().process_update(update)
            return
        slots = _persistent_slots(self, update)
        try:
            async with persistence.turn(
                user.id, [(name, key) for name, (_, key) in slots.items()]
            ) as (user_data, states):
                _load(self, user.id, slots, user_data, states)
                # PTB marks user_data for writing only after the last handler group, too late
                # for the flush in that group (handlers.PERSIST_GROUP): mark it now, so that it
                # is written with the states, inside the turn, and not later over what another
                # instance may have written since.
                self.mark_data_for_update_persistence(user_ids=user.id)
                await super().process_update(update)
                # What no flush wrote because a handler stopped the update early (a flood or
                # ban guard); usually nothing, as unchanged rows are not written.
                await persist_update(self, update)
        except Exception as exc:
            # The database failed while taking or leaving the turn (the handlers' own errors
            # are PTB's). Told like any handler error, and never raised: PTB's update loop,
            # one update at a time, would end with it.
            await self.process_error(update=update, error=exc)
