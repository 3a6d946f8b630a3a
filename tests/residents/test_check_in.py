"""Weeks after an initiative is saved, the bot asks its initiator how it is going."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from handlers.residents import mine as mijn
from handlers.residents import question as vraag
from models import Question
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness
from tests.questions_support import local, qbot, tick

__all__ = ["qbot"]


async def test_the_initiator_is_asked_how_it_goes_six_weeks_later(qbot: BotHarness) -> None:
    bot = qbot
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
        await bot.press(anna, "Opslaan")
    await tick(bot, "2026-07-10 14:00")  # five and a half weeks: not yet
    assert "Hoe staat het" not in bot.last_text(anna)
    await tick(bot, "2026-07-13 14:00")
    check_in = bot.replies(anna)[-1]
    assert "Hoe staat het met je idee <b>Hondenspeeltuin in het park</b> (#1)?" in check_in.text
    assert [data for _, data in check_in.buttons] == [
        mijn.CHECK_IN.build(1, "good"),
        mijn.CHECK_IN.build(1, "stuck"),
        vraag.CHECK_IN_ASK.build(1, "ask"),
    ]
    await tick(bot, "2026-07-14 09:00")
    assert bot.replies(anna)[-1] is check_in  # asked once

    await bot.press_data(bram, mijn.CHECK_IN.build(1, "good"))  # not his initiative
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    [ask] = [
        c
        for c in await bot.press(anna, vraag.CHECK_IN_ASK.build(1, "ask"))
        if c.method == "sendMessage"
    ]
    assert (
        "Wat wil je de gemeente vragen over je idee <b>Hondenspeeltuin in het park</b>" in ask.text
    )
    # The question goes its usual way, and the initiative travels with it.
    await bot.send(anna, "Mag de hondenspeeltuin in het Velserbeekpark een hek krijgen?")
    while not any(data == vraag.SEND.build() for _, data in bot.replies(anna)[-1].buttons):
        await bot.press(anna, bot.replies(anna)[-1].buttons[0][1])
    summary = bot.last_text(anna)
    assert "• Over idee <b>#1 Hondenspeeltuin in het park</b>" in summary
    await bot.press(anna, vraag.SEND.build())
    async with bot.app.bot_data["sessions"]() as session:
        question = await session.scalar(select(Question).order_by(Question.id.desc()))
    assert question.details == {"initiative": "#1 Hondenspeeltuin in het park"}
    # Only the initiator's own check-in opens a question.
    await bot.press_data(bram, vraag.CHECK_IN_ASK.build(1, "ask"))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
