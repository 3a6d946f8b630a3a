"""Durable dispatch: reminders and escalations on working days (Hemelvaart skipped), a restart in
the middle of a dispatch, a civil servant who blocked the bot."""

from __future__ import annotations

import contextlib

import time_machine
from sqlalchemy import select
from telegram.error import TimedOut

from bot.services.delivery import Outcome, Result
from bot.services.dispatch import LEASE, Delivery
from handlers.delivery import outcome_of
from handlers.dispatch import TelegramSender
from models import EventKind, Question, QuestionEvent, QuestionStatus, ScheduledWork, WorkState
from tests.flows import onboard
from tests.harness import BotHarness
from tests.questions_support import (
    MODERATOR_ID,
    ask,
    join,
    local,
    qbot,
    services,
    texts,
    tick,
)

__all__ = ["qbot"]


async def test_reminder_before_the_deadline_and_escalation_after_it_skip_hemelvaart(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet, bep = bot.person(1001, "Anna"), bot.person(2001, "Piet"), bot.person(2002, "Bep")
    moderator = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, anna)
    await join(bot, bep, "Bep Jansen", "Afval en Reiniging")
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval", backup="Bep")
    # Tuesday 12 May 2026, 10:00. Afval: 3 working days; Thursday 14 May is Hemelvaart:
    # Wed 13, Fri 15, Mon 18 → due Monday 18 May.
    with time_machine.travel(local("2026-05-12 10:00"), tick=False):
        assert "maandag 18 mei 2026" in await ask(bot, anna)

    await tick(bot, "2026-05-12 14:00")
    assert "V-2026-0001" in bot.last_text(piet)
    delivered = len(bot.replies(piet))
    # Hemelvaart, and Thursday is not yet one working day before Monday.
    await tick(bot, "2026-05-14 09:00")
    assert len(bot.replies(piet)) == delivered
    # Friday 15 May is the working day before the deadline.
    await tick(bot, "2026-05-15 09:00")
    reminder = bot.last_text(piet)
    assert "Herinnering" in reminder and "V-2026-0001" in reminder
    assert [label for label, _ in bot.replies(piet)[-1].buttons][:1] == ["✍️ Beantwoorden"]
    await tick(bot, "2026-05-18 09:00")
    await tick(bot, "2026-05-18 14:00")
    assert len(bot.replies(piet)) == delivered + 1
    assert not bot.replies(moderator)

    # Past Monday's end: at Tuesday's first dispatch time, to the backup and the moderators.
    await tick(bot, "2026-05-19 09:00")
    escalated = bot.last_text(bep)
    assert "deadline van vraag V-2026-0001 is verstreken" in escalated
    assert "Piet de Vries" in escalated
    assert "V-2026-0001" in bot.last_text(moderator) and "niet op tijd beantwoord" in bot.last_text(
        moderator
    )
    escalations = len(bot.replies(bep))
    await tick(bot, "2026-05-19 14:00")
    assert len(bot.replies(bep)) == escalations  # escalated once

    # The backup may act on it; the answer carries the backup's name.
    with time_machine.travel(local("2026-05-19 10:00"), tick=False):
        await bot.press(bep, "Beantwoorden")
        await bot.send(bep, "Opgehaald, excuses voor het wachten.")
        await bot.press(bep, "Versturen")
    assert "Bep Jansen, Afval en Reiniging" in bot.last_text(anna)
    async with bot.app.bot_data["sessions"]() as session:
        kinds = list(await session.scalars(select(QuestionEvent.kind).order_by(QuestionEvent.id)))
    assert EventKind.REMINDED in kinds and EventKind.ESCALATED in kinds
    assert kinds.index(EventKind.REMINDED) < kinds.index(EventKind.ESCALATED)


class Crash(BaseException):
    """The process dies: not an Exception, so nothing in the bot catches it."""


async def test_a_restart_in_the_middle_of_a_dispatch_loses_nothing_and_sends_nothing_twice(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):  # Monday
        for n in range(3):
            text = f"Container nummer {n} bij de flat is vol, het afval ligt ernaast."
            await ask(bot, anna, text)

    real = TelegramSender(bot.context())
    sent_cards: list[int] = []

    async def dies_after_the_second_card(delivery: Delivery) -> Result:
        result = await real(delivery)
        if delivery.question is not None:
            sent_cards.append(delivery.question.id)
            if len(sent_cards) == 2:
                raise Crash  # the message went out; the process dies before recording it
        return result

    with time_machine.travel(local("2026-06-01 14:00"), tick=False), contextlib.suppress(Crash):
        await services(bot).dispatch.run_due(dies_after_the_second_card)
    cards = [t for t in texts(bot, piet) if t.startswith("📨")]
    assert len(cards) == 2
    assert sum("nieuwe vragen" in t for t in texts(bot, piet)) == 1

    await bot.restart()
    await tick(bot, "2026-06-01 14:01")
    await tick(bot, "2026-06-01 14:30")
    after = [c.text for c in bot.replies(piet) if c.text.startswith("📨")]
    # Only the third card came: no second digest header, no repeat of the first two.
    assert len(after) == 1 and "V-2026-0003" in after[0]
    assert not any("nieuwe vraag" in c.text for c in bot.replies(piet))

    # The claimed row whose outcome is unknown becomes `unknown` after the lease, never resent.
    await tick(bot, "2026-06-01 15:00")
    async with bot.app.bot_data["sessions"]() as session:
        states = {
            r.question_id: r.state
            for r in await session.scalars(
                select(ScheduledWork).where(ScheduledWork.kind == "deliver")
            )
        }
    assert sorted(states.values()) == [WorkState.DONE, WorkState.DONE, WorkState.UNKNOWN]
    async with bot.app.bot_data["sessions"]() as session:
        statuses = set(await session.scalars(select(Question.status)))
    assert statuses == {QuestionStatus.DELIVERED}  # the unknown one too: it is in /vragen
    assert LEASE.total_seconds() <= 3600
    # Nothing is lost: all three are with Piet and listed by /vragen.
    await bot.send(piet, "/vragen")
    assert "3 open vragen" in texts(bot, piet)[-4]


async def test_a_civil_servant_who_blocked_the_bot_is_replaced_by_the_backup(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet, bep = bot.person(1001, "Anna"), bot.person(2001, "Piet"), bot.person(2002, "Bep")
    await onboard(bot, anna)
    await join(bot, bep, "Bep Jansen", "Afval en Reiniging")
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval", backup="Bep")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    bot.request.block(piet.id)
    await tick(bot, "2026-06-01 14:00")
    assert "V-2026-0001" in bot.last_text(bep)
    assert next(label for label, _ in bot.replies(bep)[-1].buttons) == "✍️ Beantwoorden"
    piet_user = await services(bot).users.get(piet.id)
    assert piet_user is not None and not piet_user.active
    async with bot.app.bot_data["sessions"]() as session:
        question = await session.scalar(select(Question))
        kinds = list(await session.scalars(select(QuestionEvent.kind).order_by(QuestionEvent.id)))
    assert question.status is QuestionStatus.DELIVERED
    assert EventKind.BLOCKED in kinds

    # A later question skips Piet altogether (inactive), straight to Bep's digest.
    with time_machine.travel(local("2026-06-02 10:00"), tick=False):
        await ask(bot, anna, "Het grofvuil bij de flat is niet opgehaald.")
    before = len(bot.calls(since=0))
    await tick(bot, "2026-06-02 14:00")
    assert not [c for c in bot.calls(since=before) if c.chat_id == piet.id]
    assert "V-2026-0002" in bot.last_text(bep)


async def test_nobody_left_goes_to_the_moderators_who_assign_by_hand(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    moderator = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    bot.request.block(piet.id)
    await tick(bot, "2026-06-01 14:00")
    assert "Voor vraag V-2026-0001 is nog niemand gevonden" in bot.last_text(moderator)
    assert (await services(bot).questions.get(1)).status is QuestionStatus.TRIAGE

    # Piet unblocks; the moderator gives it to him, and he gets it at once.
    bot.request.failing_chats.clear()
    await bot.send(piet, "/vragen")  # writing again marks him active
    await bot.press(moderator, "Toewijzen")
    await bot.press(moderator, "Piet de Vries")
    assert "toegewezen aan Piet de Vries" in bot.last_text(moderator)
    assert bot.last_text(piet).startswith("📨")
    assert "ligt nu bij Piet de Vries, Afval en Reiniging" in bot.last_text(anna)


async def test_a_passing_failure_is_tried_again_later(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    calls = 0

    async def flaky(delivery: Delivery) -> Result:
        nonlocal calls
        calls += 1
        return Result(Outcome.RETRY, retry_after=5, error="timed out")

    with time_machine.travel(local("2026-06-01 14:00"), tick=False):
        report = await services(bot).dispatch.run_due(flaky)
    assert report.retried == 2 and calls == 2  # the digest header and the card
    await tick(bot, "2026-06-01 14:00")
    assert not bot.replies(piet)[-1].text.startswith("📨")
    await tick(bot, "2026-06-01 14:05")
    assert bot.last_text(piet).startswith("📨")


async def test_a_send_without_an_answer_is_unknown_not_sent_twice_and_the_question_stays(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):  # Monday; due Thursday
        await ask(bot, anna)
    real = TelegramSender(bot.context())

    async def no_answer_to_the_card(delivery: Delivery) -> Result:
        result = await real(delivery)
        # The card went out, but the answer timed out: the bot cannot know it did.
        return outcome_of(TimedOut()) if delivery.question is not None else result

    with time_machine.travel(local("2026-06-01 14:00"), tick=False):
        report = await services(bot).dispatch.run_due(no_answer_to_the_card)
    assert (report.sent, report.unknown, report.retried) == (1, 1, 0)  # the header; the card
    await tick(bot, "2026-06-01 14:30")
    await tick(bot, "2026-06-02 09:00")
    assert sum(t.startswith("📨") for t in texts(bot, piet)) == 1
    async with bot.app.bot_data["sessions"]() as session:
        card = await session.scalar(select(ScheduledWork).where(ScheduledWork.kind == "deliver"))
    assert card.state is WorkState.UNKNOWN and "maybe sent" in card.last_error
    async with bot.app.bot_data["sessions"]() as session:
        question = await session.get(Question, card.question_id)
    assert question.status is QuestionStatus.DELIVERED  # with Piet, as far as Anna can tell
    metrics = await bot.app.bot_data["metrics"].render(bot.app.bot_data["sessions"])
    assert 'burgerbeest_scheduled_messages{state="unknown"} 1.0' in metrics.decode()
    # Not stuck: with Piet in /vragen, and the reminder comes the day before the deadline.
    await bot.send(piet, "/vragen")
    assert any("V-2026-0001" in t for t in texts(bot, piet)[-3:])
    await tick(bot, "2026-06-03 09:00")
    assert "Herinnering" in bot.last_text(piet) and "V-2026-0001" in bot.last_text(piet)
