"""A resident's question from /vraag to the answer in their chat, through the digest on working
days, with the time moved across a weekend and public holidays."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from models import EventKind, Question, QuestionEvent, QuestionStatus
from tests.flows import onboard
from tests.harness import BotHarness
from tests.questions_support import ask, join, local, qbot, texts, tick

__all__ = ["qbot"]


async def test_question_reaches_the_civil_servant_after_the_weekend_and_koningsdag(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    piet = bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    # Friday 24 April 2026, 16:00: after the last dispatch time of the day.
    with time_machine.travel(local("2026-04-24 16:00"), tick=False):
        confirmation = await ask(bot, anna)
    assert "V-2026-0001" in confirmation
    # Afval: 3 working days; Monday 27 April is Koningsdag: Tue, Wed, Thu.
    assert "donderdag 30 april 2026" in confirmation

    before = len(bot.replies(piet))
    await tick(bot, "2026-04-24 17:00")
    await tick(bot, "2026-04-25 09:00")  # Saturday
    await tick(bot, "2026-04-27 09:00")  # Koningsdag
    await tick(bot, "2026-04-27 14:00")
    assert len(bot.replies(piet)) == before

    await tick(bot, "2026-04-28 09:00")
    digest, card = texts(bot, piet, since=0)[-2:]
    assert "er is 1 nieuwe vraag" in digest
    assert "V-2026-0001" in card and "grofvuil" in card
    assert "Antwoord uiterlijk donderdag 30 april 2026" in card
    await tick(bot, "2026-04-28 09:01")
    assert len(bot.replies(piet)) == before + 2  # nothing twice

    with time_machine.travel(local("2026-04-28 10:00"), tick=False):
        await bot.press(piet, "Beantwoorden")
        await bot.send(piet, "We halen het morgen op. Dank voor je melding!")
        await bot.press(piet, "Versturen")
    answer = bot.last_text(anna)
    assert "Antwoord op je vraag V-2026-0001" in answer
    assert "Piet de Vries, Afval en Reiniging" in answer
    assert "We halen het morgen op." in answer
    assert "verstuurd" in bot.last_text(piet)

    # Answered: no reminder on Wednesday, no escalation on Friday.
    before = len(bot.replies(piet))
    await tick(bot, "2026-04-29 09:00")
    await tick(bot, "2026-05-01 09:00")
    assert len(bot.replies(piet)) == before

    async with bot.app.bot_data["sessions"]() as session:
        question = await session.scalar(select(Question))
        kinds = list(await session.scalars(select(QuestionEvent.kind).order_by(QuestionEvent.id)))
    assert question.status is QuestionStatus.ANSWERED
    assert kinds == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.DELIVERED,
        EventKind.ANSWERED,
    ]

    await bot.send(anna, "/mijn")
    assert "V-2026-0001" in bot.last_text(anna)
    assert "beantwoord" in bot.last_text(anna)
