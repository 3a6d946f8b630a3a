"""Saving an idea or sending a question, when the reply or the process fails right after: the
conversation moves on with what was stored (a timeout does not freeze the step), and pressing
again after a crash finds the first save instead of adding a copy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import time_machine
from sqlalchemy import delete, func, insert, select
from telegram.error import TimedOut

from handlers.residents import initiative as idee
from handlers.residents import privacy
from handlers.residents import question as vraag
from models import BotState, Initiative, Post, Question
from tests.civil_servants.test_posts import write
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness, Person
from tests.moderators.test_broadcast_flow import (
    AMS,
    compose_to_preview,
    mbot,
    moderator,
    residents,
    said,
)
from tests.questions_support import MODERATOR_ID, join, qbot
from tests.residents.test_matching_flows import save_idea

__all__ = ["mbot", "qbot"]

QUESTION = "Het grofvuil naast de ondergrondse container is al een week niet opgehaald."
NOT_UNDERSTOOD = "Ik weet niet goed wat ik hiermee moet"


def time_out_once(bot: BotHarness, fragment: str) -> list[str]:
    """The next sendMessage whose text holds `fragment` gets no answer in time (TimedOut);
    returns a list that records it when it happened."""
    request = bot.request
    original = request.do_request
    timed_out: list[str] = []

    async def do_request(url: str, method: str, request_data: Any = None, **kwargs: Any):
        text = str(request_data.parameters.get("text", "")) if request_data else ""
        if not timed_out and url.endswith("/sendMessage") and fragment in text:
            timed_out.append(text)
            raise TimedOut("Timed out")
        return await original(url, method, request_data, **kwargs)

    request.do_request = do_request  # type: ignore[method-assign]
    return timed_out


async def count(bot: BotHarness, model: type) -> int:
    async with bot.app.bot_data["engine"].connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model)) or 0


async def stored_state(bot: BotHarness) -> list[dict[str, Any]]:
    async with bot.app.bot_data["engine"].connect() as connection:
        rows = await connection.execute(select(BotState.namespace, BotState.key, BotState.value))
        return [row._asdict() for row in rows]


async def put_back(bot: BotHarness, rows: list[dict[str, Any]]) -> None:
    """The conversation state as it was stored before: what a kill -9 right after the commit
    of a save, before its state was written, leaves behind."""
    async with bot.app.bot_data["engine"].begin() as connection:
        await connection.execute(delete(BotState))
        await connection.execute(insert(BotState), rows)


async def ask_until_summary(bot: BotHarness, who: Person) -> None:
    await bot.send(who, "/vraag")
    await bot.send(who, QUESTION)
    await bot.press(who, "IJmuiden")
    assert vraag.SEND.build() in [data for _, data in bot.replies(who)[-1].buttons]


async def test_a_timeout_on_saved_ends_the_idea_conversation(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await answer_until_summary(bot, anna)
    timed_out = time_out_once(bot, "Opgeslagen!")
    await bot.press(anna, "Opslaan")
    assert timed_out and [type(e) for e in bot.errors] == [TimedOut]
    bot.errors.clear()
    assert await count(bot, Initiative) == 1
    # Out of /idee: a text is no answer to the summary any more.
    replies = await bot.send(anna, "Hallo")
    assert len(replies) == 1 and NOT_UNDERSTOOD in replies[0].text
    [intro, _] = await bot.send(anna, "/idee")
    assert "zes korte vragen" in intro.text


async def test_a_timeout_on_sent_ends_the_question_conversation(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await ask_until_summary(bot, anna)
    timed_out = time_out_once(bot, "Je vraag is verstuurd")
    await bot.press(anna, "Versturen")
    assert timed_out and [type(e) for e in bot.errors] == [TimedOut]
    bot.errors.clear()
    assert await count(bot, Question) == 1
    replies = await bot.send(anna, "Hallo")
    assert len(replies) == 1 and NOT_UNDERSTOOD in replies[0].text


async def test_opslaan_again_after_a_crash_finds_the_saved_idea(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await answer_until_summary(bot, anna)
    [summary] = [c for c in bot.replies(anna) if idee.SAVE.build() in dict(c.buttons).values()][-1:]
    before = await stored_state(bot)
    await bot.press(anna, "Opslaan")
    assert "Opgeslagen!" in bot.last_text(anna)
    await put_back(bot, before)

    survivor = type(bot)(bot.config)
    await survivor.start()
    try:
        await survivor.press_data(anna, idee.SAVE.build(), summary.result["message_id"])
        [again] = survivor.replies(anna)
        assert "Dit idee was al opgeslagen: <b>Hondenspeeltuin</b>, nummer 1" in again.text
        assert await count(survivor, Initiative) == 1
        # The conversation ended with it, as after a first save.
        assert NOT_UNDERSTOOD in (await survivor.send(anna, "Hallo"))[-1].text
    finally:
        await survivor.stop()
    assert not survivor.errors


async def test_versturen_again_after_a_crash_finds_the_sent_question(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await ask_until_summary(bot, anna)
    before = await stored_state(bot)
    await bot.press(anna, "Versturen")
    assert "Je vraag is verstuurd" in bot.last_text(anna)
    await put_back(bot, before)

    survivor = type(bot)(bot.config)
    await survivor.start()
    try:
        await survivor.press_data(anna, vraag.SEND.build())
        assert "Deze vraag was al verstuurd" in survivor.last_text(anna)
        assert await count(survivor, Question) == 1
    finally:
        await survivor.stop()
    assert not survivor.errors


async def test_erasure_leaves_no_draft_key_on_the_rows_that_stay(bot: BotHarness) -> None:
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await answer_until_summary(bot, anna)
    await bot.press(anna, "Opslaan")
    await ask_until_summary(bot, anna)
    await bot.press(anna, "Versturen")
    services = bot.app.bot_data["services"]
    bram_row = await services.users.get(bram.id)
    assert (await services.matching.join(bram_row.id, 1)).ok  # so Anna's idea stays
    await bot.send(anna, "/privacy")
    await bot.press(anna, privacy.ERASE.build())
    await bot.press(anna, "Ja, wis alles")
    async with bot.app.bot_data["engine"].connect() as connection:
        kept = (await connection.execute(select(Initiative.author_id, Initiative.draft_key))).all()
        asked = (await connection.execute(select(Question.resident_id, Question.draft_key))).all()
    assert kept == [(None, None)] and asked == [(None, None)]


async def test_a_timeout_on_relayed_ends_the_relay(bot: BotHarness) -> None:
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.MEET.build(1))
    await bot.press(bram, "Stuur een bericht")
    time_out_once(bot, "Doorgestuurd.")
    await bot.send(bram, "Hoi! Zullen we samen naar de gemeente stappen?")
    assert [type(e) for e in bot.errors] == [TimedOut]
    bot.errors.clear()
    assert "Zullen we samen" in bot.last_text(anna)
    replies = await bot.send(bram, "Hallo")
    assert len(replies) == 1 and NOT_UNDERSTOOD in replies[0].text


async def test_a_timeout_on_scheduled_ends_the_announcement(mbot: BotHarness) -> None:
    bot = mbot
    await residents(bot, ["IJmuiden"])
    mo = moderator(bot)
    with time_machine.travel(datetime(2026, 4, 20, 10, 0, tzinfo=AMS), tick=True):
        await compose_to_preview(bot, mo)
        await bot.press(mo, "Later")
        await bot.send(mo, "21-04 9:30")
        time_out_once(bot, "ingepland")
        await bot.press(mo, "Ja, naar 1 ontvanger")
        assert [type(e) for e in bot.errors] == [TimedOut]
        bot.errors.clear()
        [answer] = said(await bot.send(mo, "Hallo"))
    assert "Kies met de knoppen" not in answer.text


async def test_a_timeout_on_submitted_ends_the_post(qbot: BotHarness) -> None:
    bot = qbot
    piet, mo = bot.person(2001, "Piet"), bot.person(MODERATOR_ID, "Mo")
    await bot.send(mo, "/start")
    await join(bot, piet, "Piet de Vries", "Handhaving", topic="Overlast en veiligheid")
    await write(bot, piet, topic="Overlast en veiligheid")
    time_out_once(bot, "Ingestuurd")
    await bot.press(piet, "Insturen")
    assert [type(e) for e in bot.errors] == [TimedOut]
    bot.errors.clear()
    assert await count(bot, Post) == 1
    assert "/wachtrij" in bot.last_text(mo)  # the moderators still hear of it
    # Outside the flow: answered as anyone without a resident's profile is.
    replies = await bot.send(piet, "Hallo")
    assert len(replies) == 1 and "Stuur /start om te beginnen" in replies[0].text
