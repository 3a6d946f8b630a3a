"""Weeks after an initiative is saved, the bot asks its initiator how it is going."""

from __future__ import annotations

import time_machine

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
        "checkin:1:good",
        "checkin:1:stuck",
        "checkin:1:ask",
    ]
    await tick(bot, "2026-07-14 09:00")
    assert bot.replies(anna)[-1] is check_in  # asked once

    await bot.press_data(bram, "checkin:1:good")  # not his initiative
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    await bot.press(anna, "checkin:1:ask")
    assert "/vraag" in bot.last_text(anna) and "#1" in bot.last_text(anna)
