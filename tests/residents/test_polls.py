"""Answering a poll as a resident: forged presses refused, the answer in the data export, and
/vergeetmij: a typed answer goes, a choice stays in the count without the person."""

from __future__ import annotations

import json

from sqlalchemy import select

from handlers.residents import polls as answering
from handlers.residents import privacy
from models import PollAnswer
from tests.harness import BotHarness
from tests.moderators.test_polls import compose, moderator, pbot, residents, sent_out

__all__ = ["pbot"]


async def answers(bot: BotHarness) -> list[tuple[int | None, int | None, str | None]]:
    async with bot.app.bot_data["sessions"]() as session:
        rows = await session.scalars(select(PollAnswer).order_by(PollAnswer.id))
        return [(a.user_id, a.choice, a.text) for a in rows]


async def send_poll(bot: BotHarness, **options: object) -> None:
    await compose(bot, moderator(bot), **options)
    await bot.press(moderator(bot), "Versturen")
    await sent_out(bot)


async def test_forged_presses_are_refused(pbot: BotHarness) -> None:
    bot = pbot
    anna, cees = await residents(bot, ["IJmuiden", "Driehuis"])
    await send_poll(bot)
    # A choice the poll does not have (it has three).
    await bot.forge(anna, answering.CHOOSE.build(1, 7))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    # A poll that does not exist.
    await bot.forge(anna, answering.CHOOSE.build(99, 0))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    # Cees (Driehuis) never got it: a press built by hand does not count.
    await bot.forge(cees, answering.CHOOSE.build(1, 0))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    # "Antwoord geven" under a question with buttons.
    await bot.forge(anna, answering.WRITE.build(1))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    # Data that is no button of the bot at all.
    await bot.forge(anna, "poll:pick:1:-1")
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert await answers(bot) == []
    # The real button still works after all that.
    await bot.press(anna, "Meer groen")
    assert bot.answers()[-1] == "Dank je! Je antwoord: Meer groen"


async def test_export_holds_the_answer_and_erasure_keeps_only_the_count(
    pbot: BotHarness,
) -> None:
    bot = pbot
    anna, bram = await residents(bot, ["IJmuiden", "IJmuiden"])
    await send_poll(bot)
    await send_poll(bot, choices=None, share="Nee")
    await bot.press(anna, "Een speeltuin")
    await bot.press(bram, "Niets veranderen")
    await bot.press(anna, answering.WRITE.build(2))
    await bot.send(anna, "Meer bankjes bij het water")
    anna_id = (await bot.app.bot_data["services"].users.get(anna.id)).id

    await bot.send(anna, "/privacy")
    calls = await bot.press(anna, privacy.EXPORT.build())
    [document] = [c for c in calls if c.method == "sendDocument"]
    data = json.loads(document.files["document"][1])
    mine = sorted((a["poll_id"], a["choice"], a["text"]) for a in data["poll_answers"])
    assert mine == [(1, 0, None), (2, None, "Meer bankjes bij het water")]

    await bot.send(anna, "/privacy")
    await bot.press(anna, privacy.ERASE.build())
    await bot.press(anna, "Ja, wis alles")
    assert "ik ben je vergeten" in bot.last_text(anna)
    stored = await answers(bot)
    # Her typed words are gone; her choice counts on, belonging to nobody.
    assert (None, 0, None) in stored
    assert all(text is None for _, _, text in stored)
    assert all(user_id != anna_id for user_id, _, _ in stored)
    results = await bot.app.bot_data["services"].polls.results(1)
    assert results.counts == [1, 0, 1]
    assert (await bot.app.bot_data["services"].polls.results(2)).texts == []


async def test_a_sticker_while_writing_asks_for_text(pbot: BotHarness) -> None:
    bot = pbot
    [anna] = await residents(bot, ["IJmuiden"])
    await send_poll(bot, choices=None, share="Nee")
    await bot.press(anna, "Antwoord geven")
    [sticker] = await bot.send_sticker(anna)
    assert sticker.text == "Typ je antwoord als tekst, of stop met /annuleer."
    await bot.send(anna, "Meer bankjes bij het water")
    assert [text for _, _, text in await answers(bot)] == ["Meer bankjes bij het water"]
