"""Two webhook instances on one database, a resident's updates alternating between them as a load
balancer without sticky routing sends them: each instance reloads the resident's conversation
state and drafts before an update and writes them back after it (handlers/persistence.py
SharedStateApplication), so it does not matter which instance hears which answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from telegram import Update
from telegram.ext import ConversationHandler

from bot.config import Config
from handlers import persistence
from handlers.persistence import (
    USER_DATA,
    SharedStateApplication,
    SqlPersistence,
    conversation_slot,
)
from handlers.residents import initiative as idee
from handlers.residents import question as vraag
from models import BotState, Initiative, Question
from tests import databases
from tests.flows import DESCRIPTION, onboard
from tests.harness import BotHarness, Person, make_config
from tests.questions_support import AFVAL

STALE = "Deze knop werkt niet meer"


def webhook_config(tmp_path: Path, database_url: str) -> Config:
    """Webhook mode (no HTTP server: the harness feeds updates itself)."""
    config = make_config(tmp_path, database_url)
    return replace(config, http=replace(config.http, webhook_url="https://bot.example.nl/tg"))


@pytest.fixture
async def pair(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    """Instances A and B: two Applications in webhook mode on one database."""
    instances = (BotHarness(webhook_config(tmp_path, database_url)) for _ in range(2))
    a, b = instances
    await a.start()
    await b.start()
    assert isinstance(a.app, SharedStateApplication)
    yield a, b
    for instance in (a, b):
        await instance.stop()
        assert not instance.errors, f"handlers raised: {instance.errors!r}"


async def press_offered(by: BotHarness, on: BotHarness, who: Person, label: str) -> list:
    """Press, on instance `on`, the newest button that instance `by` sent `who`."""
    for call in reversed(by.replies(who)):
        for text, data in call.buttons:
            if data == label or label in text:
                return await on.press_data(who, data, call.result["message_id"])
    raise AssertionError(f"{label!r} was not offered by that instance")


async def count(bot: BotHarness, model: type) -> int:
    async with bot.app.bot_data["sessions"]() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def stored_state(bot: BotHarness, who: Person) -> dict[str, object]:
    """Everything kept in bot_state for `who`: user_data and open conversations."""
    async with bot.app.bot_data["sessions"]() as session:
        rows = await session.scalars(select(BotState).where(BotState.namespace != "meta"))
        return {
            row.namespace: row.value
            for row in rows
            if row.key in (str(who.id), f"[{who.id}, {who.id}]")
        }


async def test_an_idea_answered_on_two_instances_in_turns_is_saved_once_and_whole(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    a, b = pair
    anna = a.person(1001, "Anna")
    await onboard(a, anna)
    assert "1/6" in (await a.send(anna, "/idee"))[-1].text
    assert "2/6" in (await b.send(anna, "Hondenspeeltuin"))[-1].text
    assert "3/6" in (await a.send(anna, DESCRIPTION))[-1].text
    [kern_question] = await b.send(anna, "Voor iedereen met een hond in de wijk.")
    assert "4/6" in kern_question.text
    # B asked for the kern; the press reaches A, which never saw the question.
    await press_offered(b, a, anna, "IJmuiden")
    assert "bepaalde plek in IJmuiden" in a.last_text(anna)
    # B's own kern question is old news now: pressed again there, it is a stale button.
    await press_offered(b, b, anna, "Velsen-Noord")
    assert b.answers()[-1].startswith(STALE)
    assert "5/6" in (await b.send(anna, "Park Schoonenberg"))[-1].text
    await press_offered(b, a, anna, idee.NEED.build("helpers"))
    await press_offered(b, b, anna, idee.NEED.build("permission"))
    await press_offered(b, a, anna, idee.NEEDS_DONE.build())
    assert "6/6" in a.last_text(anna)
    await press_offered(a, b, anna, idee.INTRO.build("yes"))

    summary = b.last_text(anna)
    assert "<b>Hondenspeeltuin</b>" in summary and DESCRIPTION in summary
    assert "IJmuiden — Park Schoonenberg" in summary
    assert "Mensen die meehelpen, Toestemming of een vergunning" in summary
    await press_offered(b, a, anna, "Opslaan")
    assert "Opgeslagen! Je idee <b>Hondenspeeltuin</b> heeft nummer 1" in a.last_text(anna)
    # The summary's button again, on B: the conversation is over there too.
    await press_offered(b, b, anna, "Opslaan")
    assert b.answers()[-1].startswith(STALE)

    async with a.app.bot_data["sessions"]() as session:
        [row] = await session.scalars(select(Initiative))
    assert (row.title, row.description, row.kern, row.place, row.needs) == (
        "Hondenspeeltuin",
        DESCRIPTION,
        "IJmuiden",
        "Park Schoonenberg",
        ["helpers", "permission"],
    )
    assert row.motivation == "Voor iedereen met een hond in de wijk."
    assert await stored_state(a, anna) == {}
    # Neither instance still thinks an idea is half written.
    assert "/idee" in (await b.send(anna, "Nog een bankje erbij")).pop().text
    assert "/idee" in (await a.send(anna, "Nog een bankje erbij")).pop().text


async def test_a_question_asked_on_two_instances_in_turns_is_sent_once(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    a, b = pair
    anna = a.person(1001, "Anna")
    await onboard(b, anna)
    await a.send(anna, "/vraag")
    assert "Over welke kern" in (await b.send(anna, AFVAL)).pop().text
    await press_offered(b, a, anna, "Velsen-Zuid")
    await press_offered(a, b, anna, vraag.SEND.build())
    assert "Je vraag is verstuurd" in b.last_text(anna)
    await press_offered(a, a, anna, vraag.SEND.build())
    assert a.answers()[-1].startswith(STALE)

    async with a.app.bot_data["sessions"]() as session:
        [question] = await session.scalars(select(Question))
    assert (question.text, question.kern) == (AFVAL, "Velsen-Zuid")
    assert await stored_state(a, anna) == {}


async def test_cancelled_on_one_instance_the_stale_state_on_the_other_does_not_come_back(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    a, b = pair
    anna = a.person(1001, "Anna")
    await onboard(a, anna)
    await a.send(anna, "/idee")
    assert "2/6" in (await a.send(anna, "Hondenspeeltuin"))[-1].text
    assert "Gestopt" in (await b.send(anna, "/annuleer")).pop().text
    # A last heard the title and would take this for the description; it must not.
    [answer] = await a.send(anna, DESCRIPTION)
    assert "/idee" in answer.text and "3/6" not in answer.text
    assert await stored_state(a, anna) == {}
    assert "niets om te annuleren" in (await a.send(anna, "/annuleer")).pop().text
    assert await count(a, Initiative) == 0


async def test_a_double_tap_that_reaches_both_instances_at_once_is_handled_once(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    """Saving an idea, pressed on both instances at the same moment. On PostgreSQL the second
    waits for the resident's turn and then finds the conversation over; SQLite has no lock
    between instances (docs/operations.md), so there both presses are handled: the outcome must
    still be sane, with no error and no conversation left open."""
    a, b = pair
    anna = a.person(1001, "Anna")
    await onboard(a, anna)
    await a.send(anna, "/idee")
    await a.send(anna, "Hondenspeeltuin")
    await a.send(anna, DESCRIPTION)
    await a.send(anna, "Voor iedereen met een hond in de wijk.")
    await a.press(anna, "IJmuiden")
    await a.press(anna, idee.PLACE_SKIP.build())
    await a.press(anna, idee.NEEDS_DONE.build())
    await a.press(anna, idee.INTRO.build("no"))
    await asyncio.gather(press_offered(a, a, anna, "Opslaan"), press_offered(a, b, anna, "Opslaan"))
    saved = [
        c.text
        for bot in (a, b)
        for c in bot.replies(anna)
        if c.text.startswith("Opgeslagen! Je idee <b>Hondenspeeltuin</b>")
    ]
    if databases.dialect() == "postgresql":
        assert len(saved) == 1
        assert await count(a, Initiative) == 1
        assert [t for bot in (a, b) for t in bot.answers() if t.startswith(STALE)]
    else:
        assert 1 <= len(saved) == await count(a, Initiative) <= 2
    assert await stored_state(a, anna) == {}


async def test_what_shared_state_relies_on_in_ptb(bot: BotHarness) -> None:
    """conversation_slot() reaches into ConversationHandler; this fails when PTB changes that."""
    anna = bot.person(1001, "Anna")
    [conversation] = [
        h
        for group in bot.app.handlers.values()
        for h in group
        if isinstance(h, ConversationHandler) and h.name == "initiative"
    ]
    update = Update.de_json(bot.updates.text(anna.payload, "Hondenspeeltuin"), bot.app.bot)
    states, key = conversation_slot(conversation, update)
    assert key == (1001, 1001)
    # The same dict the Application writes back to persistence from.
    assert states is bot.app._conversation_handler_conversations["initiative"]
    assert conversation.check_update(update) is None
    states.data[key] = idee.TITLE
    state, checked_key, handler, _ = conversation.check_update(update)
    assert (state, checked_key) == (idee.TITLE, key)
    assert handler in conversation.states[idee.TITLE]
    assert states.pop_accessed_keys() == set()  # a reloaded state is not written back
    del states.data[key]
    # An update without a user has no key: passed by, not an error.
    channel = Update.de_json(
        {
            "update_id": 1,
            "channel_post": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": -100123, "type": "channel"},
                "text": "hallo",
            },
        },
        bot.app.bot,
    )
    assert conversation_slot(conversation, channel) is None


async def test_user_data_is_written_by_the_update_that_changed_it(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    """PTB marks user_data for writing only after the last handler; B, hearing Anna for the
    first time, must still store the title before the next update, which A handles."""
    a, b = pair
    anna = a.person(1001, "Anna")
    await onboard(a, anna)
    await a.send(anna, "/idee")
    await b.send(anna, "Hondenspeeltuin")
    stored = await stored_state(a, anna)
    assert stored[USER_DATA]["draft"]["title"] == "Hondenspeeltuin"
    assert stored["conversation:initiative"] == idee.DESCRIPTION


async def test_a_database_that_fails_before_the_handlers_is_an_error_like_any_other(
    pair: tuple[BotHarness, BotHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told to the resident and logged, not raised: PTB's update loop would end with it."""
    a, _ = pair
    anna = a.person(1001, "Anna")
    await onboard(a, anna)

    @asynccontextmanager
    async def gone(*args: object) -> AsyncIterator[None]:
        raise ConnectionResetError("database gone")
        yield

    monkeypatch.setattr(SqlPersistence, "turn", gone)
    [sorry] = await a.send(anna, "/idee")
    assert sorry.text.startswith("Sorry, er ging bij mij iets mis")
    assert [type(e) for e in a.errors] == [ConnectionResetError]
    a.errors.clear()
    monkeypatch.undo()
    assert "1/6" in (await a.send(anna, "/idee"))[-1].text


async def test_an_update_that_waited_too_long_for_its_turn_goes_ahead(
    pair: tuple[BotHarness, BotHarness], monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """On PostgreSQL another instance holds Anna's turn and does not let go; after
    TURN_WAIT_MS her update is handled anyway, with a warning. SQLite has no turns."""
    a, _ = pair
    anna = a.person(1001, "Anna")
    await onboard(a, anna)
    monkeypatch.setattr(persistence, "TURN_WAIT_MS", 200)
    async with a.app.bot_data["engine"].connect() as other_instance:
        if databases.dialect() == "postgresql":
            await other_instance.execute(select(func.pg_advisory_lock(anna.id)))
        assert "1/6" in (await a.send(anna, "/idee"))[-1].text
    waited = [r for r in caplog.records if "took too long" in r.getMessage()]
    assert len(waited) == (databases.dialect() == "postgresql")


async def test_an_update_that_changes_nothing_writes_nothing(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    a, b = pair
    anna = a.person(1001, "Anna")
    await onboard(a, anna)
    await a.send(anna, "/idee")
    writes: list[str] = []

    def record(conn, cursor, statement: str, *args: object) -> None:
        if "bot_state" in statement and not statement.lstrip().startswith("SELECT"):
            writes.append(statement.split()[0])

    for instance in (a, b):
        event.listen(instance.app.bot_data["engine"].sync_engine, "before_cursor_execute", record)
    await b.send(anna, "Hondenspeeltuin")
    assert sorted(writes) == ["UPDATE", "UPDATE"]  # the draft and the step
    writes.clear()
    await a.send(anna, "/help")  # answered by the open conversation, which stays where it is
    await b.send(anna, "")
    assert writes == []


async def test_polling_keeps_ptbs_own_application(bot: BotHarness) -> None:
    """One poller per bot (Telegram refuses a second), so no reloading without a webhook."""
    assert not isinstance(bot.app, SharedStateApplication)
