"""/peiling through the offline harness: a moderator asks, confirms with the audience's size,
residents in the kern get it (paced by the announcements' sender), answer once, the closing job
closes it once and the author gets a chart; an open question's answers reach the author without
names; /peilingen; a restart sends nobody a second copy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from bot.config import BroadcastConfig, QuestionsConfig
from handlers.moderators.polls import RESULT, close_tick, parse_closing
from handlers.moderators.scheduled import STOP_BUTTON, broadcast_tick, running
from handlers.residents import polls as answering
from models import BroadcastDelivery, DeliveryState, FollowKind, Poll, PollState, User
from models.base import utcnow
from tests.flows import onboard
from tests.harness import BotHarness, Person, make_config

MODERATOR_ID = 9200
QUESTION = "Wat wilt u op het Plein 1945 in IJmuiden?"


@pytest.fixture
async def pbot(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    config = replace(
        make_config(tmp_path, database_url),
        questions=QuestionsConfig(moderators=(MODERATOR_ID,)),
        broadcast=BroadcastConfig(rate=200),
    )
    harness = BotHarness(config)
    await harness.start()
    yield harness
    for task in running(harness.app).values():
        task.cancel()
    await harness.stop()
    assert not harness.errors, f"handlers raised: {harness.errors!r}"


def moderator(bot: BotHarness) -> Person:
    return bot.person(MODERATOR_ID, "Mo")


async def residents(bot: BotHarness, kernen: list[str], first: int = 4000) -> list[Person]:
    people = []
    for n, kern in enumerate(kernen):
        person = bot.person(first + n, f"Inwoner{n}")
        await onboard(bot, person, kern)
        people.append(person)
    return people


async def sent_out(bot: BotHarness) -> None:
    await asyncio.gather(*running(bot.app).values())


def closing_date(days: int = 7) -> str:
    return (utcnow() + timedelta(days=days)).strftime("%d-%m-%Y")


def polls_received(bot: BotHarness, who: Person) -> list:
    return [c for c in bot.replies(who) if "Peiling · Burgerbeest" in c.text]


async def compose(
    bot: BotHarness,
    mo: Person,
    *,
    choices: str | None = "Een speeltuin\nMeer groen\nNiets veranderen",
    audience: str = "Inwoners van een kern",
    pick: str | None = "IJmuiden",
    share: str = "Ja, stuur de uitslag",
) -> str:
    """From /peiling to the confirmation; returns the confirmation's text."""
    [ask] = await bot.send(mo, "/peiling")
    assert "Nieuwe peiling" in ask.text
    await bot.send(mo, QUESTION)
    if choices is None:
        await bot.press(mo, "Met een eigen antwoord")
    else:
        await bot.press(mo, "Met knoppen")
        await bot.send(mo, choices)
    await bot.press(mo, audience)
    if pick is not None:
        await bot.press(mo, pick)
    [share_question] = await bot.send(mo, closing_date())
    assert "uitslag" in share_question.text
    await bot.press(mo, share)
    return bot.last_text(mo)


async def test_poll_to_a_kern_answered_once_closed_with_a_chart(pbot: BotHarness) -> None:
    bot = pbot
    anna, bram, cees = await residents(bot, ["IJmuiden", "IJmuiden", "Driehuis"])
    mo = moderator(bot)
    confirm = await compose(bot, mo)
    assert "Naar 2 inwoners in IJmuiden. Versturen?" in confirm
    assert "Een speeltuin · Meer groen · Niets veranderen" in confirm
    assert not polls_received(bot, anna)  # nothing goes out before the confirmation

    await bot.press(mo, "Versturen")
    await sent_out(bot)
    assert "Peiling #1 gaat nu op weg" in "".join(c.text for c in bot.replies(mo))
    # The residents of the kern got it once, with a button per choice; Driehuis did not.
    for person in (anna, bram):
        [poll] = polls_received(bot, person)
        assert QUESTION in poll.text
        assert [label for label, _ in poll.buttons] == [
            "Een speeltuin",
            "Meer groen",
            "Niets veranderen",
        ]
    assert polls_received(bot, cees) == []

    # Anna answers; her second press is refused and shows her first answer.
    await bot.press(anna, "Meer groen")
    assert bot.answers()[-1] == "Dank je! Je antwoord: Meer groen"
    assert bot.calls("editMessageReplyMarkup")[-1].buttons[1][0] == "✅ Meer groen"
    await bot.press(anna, answering.CHOOSE.build(1, 0))
    assert bot.answers()[-1] == "Je hebt al geantwoord. Je antwoord was: Meer groen"
    await bot.press(bram, "Een speeltuin")

    # Not yet due: the closing job closes nothing.
    assert await close_tick(bot.context()) == []
    with time_machine.travel(utcnow() + timedelta(days=9), tick=True):
        before = len(bot.request.calls)
        assert await close_tick(bot.context()) == [1]
        await sent_out(bot)
        # The author's chart: a PNG with the counts in the caption, no names anywhere.
        [chart] = [c for c in bot.replies(mo, since=before) if c.method == "sendPhoto"]
        name, content, _ = chart.files["photo"]
        assert content.startswith(b"\x89PNG") and name == "peiling-1.png"
        assert "2 antwoorden, van 2 inwoners" in chart.text and "gesloten" in chart.text
        assert "Inwoner" not in chart.text
        # The residents who answered get the short result; Driehuis nothing.
        for person in (anna, bram):
            result = bot.last_text(person)
            assert "Uitslag van de peiling" in result
            assert "Een speeltuin: 1 (50%)" in result and "Meer groen: 1 (50%)" in result
        assert bot.replies(cees, since=before) == []
        # A press after the closing still shows the answer; a second run closes nothing.
        await bot.press_data(bram, answering.CHOOSE.build(1, 2))
        assert bot.answers()[-1] == "Je hebt al geantwoord. Je antwoord was: Een speeltuin"
        assert await close_tick(bot.context()) == []
        assert len([c for c in bot.calls("sendPhoto") if c.chat_id == mo.id]) == 1


async def test_a_press_after_the_closing_date_says_it_is_closed(pbot: BotHarness) -> None:
    bot = pbot
    [anna] = await residents(bot, ["IJmuiden"])
    mo = moderator(bot)
    await compose(bot, mo, share="Nee")
    await bot.press(mo, "Versturen")
    await sent_out(bot)
    with time_machine.travel(utcnow() + timedelta(days=9), tick=True):
        # Past the date, even before the job ran: closed.
        await bot.press(anna, "Meer groen")
        assert bot.answers()[-1] == "Deze peiling is gesloten. Antwoorden kan niet meer."
        assert await close_tick(bot.context()) == [1]
        await sent_out(bot)
    async with bot.app.bot_data["sessions"]() as session:
        poll = await session.get(Poll, 1)
        assert poll.state is PollState.CLOSED and poll.result_broadcast_id is None
    # Nobody answered and the result was not to be shared: Anna got only the poll.
    assert not [c for c in bot.replies(anna) if "Uitslag" in c.text]
    assert len(polls_received(bot, anna)) == 1


async def test_audience_sizes_in_the_confirmation(pbot: BotHarness) -> None:
    bot = pbot
    anna, bram, cees, dirk = await residents(
        bot, ["IJmuiden", "IJmuiden", "Driehuis", "Velserbroek"]
    )
    following = bot.app.bot_data["services"].following
    users = bot.app.bot_data["services"].users
    cees_user = await users.get(cees.id)
    dirk_user = await users.get(dirk.id)
    await following.toggle(cees_user.id, FollowKind.KERN, "IJmuiden")  # follows IJmuiden
    await following.toggle(dirk_user.id, FollowKind.TOPIC, "openbare-ruimte")
    await following.set_muted((await users.get(bram.id)).id, True)  # wants no announcements
    mo = moderator(bot)

    confirm = await compose(bot, mo)
    # Anna lives there, Cees follows it; Bram muted announcements.
    assert "Naar 2 inwoners in IJmuiden. Versturen?" in confirm
    await bot.press(mo, "Weggooien")
    assert bot.last_text(mo) == "De peiling is weggegooid. Er is niets verstuurd."

    confirm = await compose(bot, mo, audience="Volgers van een onderwerp", pick="Melding openbare")
    assert "Naar 1 inwoner die Melding openbare ruimte volgt. Versturen?" in confirm
    await bot.send(mo, "/annuleer")

    confirm = await compose(bot, mo, audience="Iedereen", pick=None)
    assert "Naar 3 inwoners. Versturen?" in confirm
    await bot.press(mo, "Versturen")
    await sent_out(bot)
    assert [len(polls_received(bot, p)) for p in (anna, bram, cees, dirk)] == [1, 0, 1, 1]


async def test_open_question_answers_reach_the_author_without_names(pbot: BotHarness) -> None:
    bot = pbot
    anna, bram = await residents(bot, ["IJmuiden", "Velsen-Zuid"])
    mo = moderator(bot)
    confirm = await compose(bot, mo, choices=None, audience="Iedereen", pick=None, share="Nee")
    assert "Inwoners typen zelf een antwoord." in confirm
    await bot.press(mo, "Versturen")
    await sent_out(bot)
    [poll] = polls_received(bot, anna)
    assert [label for label, _ in poll.buttons] == ["✍️ Antwoord geven"]

    await bot.press(anna, "Antwoord geven")
    assert "Typ je antwoord" in bot.last_text(anna)
    await bot.send(anna, "Bankjes & schaduw <graag>")
    assert bot.last_text(anna) == "Dank je! Je antwoord is bewaard."
    await bot.press(anna, "Antwoord geven")
    assert bot.answers()[-1] == "Je hebt al geantwoord. Je antwoord was: Bankjes & schaduw <graag>"
    await bot.press(bram, "Antwoord geven")
    await bot.send(bram, "/annuleer")
    assert bot.last_text(bram) == "Gestopt. Je hebt nog niet geantwoord."
    await bot.press(bram, "Antwoord geven")
    await bot.send(bram, "Een fontein")

    # On demand, before it closes: /peilingen and its result button.
    [listing] = await bot.send(mo, "/peilingen")
    assert "#1" in listing.text and "2 antwoorden · open tot" in listing.text
    [result] = [c for c in await bot.press(mo, "Uitslag #1") if c.method == "sendMessage"]
    assert "Bankjes &amp; schaduw &lt;graag&gt;" in result.text and "Een fontein" in result.text
    assert "nog open" in result.text
    assert "Inwoner0" not in result.text and "Inwoner1" not in result.text


async def test_only_staff_make_polls_and_only_the_author_sees_the_result(
    pbot: BotHarness,
) -> None:
    bot = pbot
    [anna] = await residents(bot, ["IJmuiden"])
    await bot.send(anna, "/peiling")
    assert bot.last_text(anna) == "Peilingen zijn voor ambtenaren en moderatoren."
    mo = moderator(bot)
    await compose(bot, mo)
    await bot.press(mo, "Versturen")
    await sent_out(bot)
    await bot.press_data(anna, RESULT.build(1))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert not [c for c in bot.replies(anna) if c.method == "sendPhoto"]


async def test_a_restart_after_sending_sends_nobody_a_second_copy(pbot: BotHarness) -> None:
    bot = pbot
    people = await residents(bot, ["IJmuiden", "IJmuiden", "IJmuiden"])
    mo = moderator(bot)
    await compose(bot, mo)
    await bot.press(mo, "Versturen")
    await sent_out(bot)
    await bot.restart()
    await broadcast_tick(bot.context())
    await sent_out(bot)
    async with bot.app.bot_data["sessions"]() as session:
        sent = await session.scalar(
            select(func.count())
            .select_from(BroadcastDelivery)
            .where(BroadcastDelivery.state == DeliveryState.SENT)
        )
        assert sent == len(people)
    # After the restart no poll went out again (the harness records calls anew).
    assert all(polls_received(bot, p) == [] for p in people)


async def test_a_resident_who_blocked_the_bot_is_marked_as_broadcasts_do(
    pbot: BotHarness,
) -> None:
    bot = pbot
    anna, bram = await residents(bot, ["IJmuiden", "IJmuiden"])
    bot.request.block(bram.id)
    mo = moderator(bot)
    await compose(bot, mo)
    await bot.press(mo, "Versturen")
    await sent_out(bot)
    async with bot.app.bot_data["sessions"]() as session:
        user = await session.scalar(select(User).where(User.telegram_id == bram.id))
        assert user.active is False
        states = await session.scalars(select(BroadcastDelivery.state))
        assert sorted(states) == [DeliveryState.BLOCKED, DeliveryState.SENT]
    assert len(polls_received(bot, anna)) == 1


async def test_bad_input_while_composing(pbot: BotHarness) -> None:
    bot = pbot
    mo = moderator(bot)
    await bot.send(mo, "/peiling")
    [reply] = await bot.send(mo, "x" * 301)
    assert "te lang: 301 tekens" in reply.text
    await bot.send(mo, QUESTION)
    await bot.press(mo, "Met knoppen")
    [reply] = await bot.send(mo, "Alleen één keuze")
    assert "2 tot 6 verschillende keuzes" in reply.text
    [reply] = await bot.send(mo, "Ja\n" + "n" * 41)
    assert "te lang" in reply.text
    [reply] = await bot.send(mo, "\n".join(str(n) for n in range(7)))
    assert "2 tot 6" in reply.text
    await bot.send(mo, "Ja\nNee")
    await bot.press(mo, "Iedereen")
    [reply] = await bot.send(mo, "morgen")
    assert "Dat begrijp ik niet" in reply.text
    [reply] = await bot.send(mo, "01-01-2020")
    assert "al voorbij" in reply.text
    [reply] = await bot.send(mo, closing_date(200))
    assert "hoogstens 90 dagen" in reply.text


def test_parse_closing_takes_a_date_alone_as_the_end_of_that_day() -> None:
    from zoneinfo import ZoneInfo

    now = utcnow().astimezone(ZoneInfo("Europe/Amsterdam")).replace(year=2026, month=12, day=5)
    closes = parse_closing("12-12-2026", now)
    assert (closes.day, closes.hour, closes.minute) == (12, 23, 59)
    assert parse_closing("12-12 17:00", now).hour == 17
    assert parse_closing("31-02-2026", now) is None


async def test_a_civil_servant_asks_and_only_they_see_the_result(pbot: BotHarness) -> None:
    from tests.questions_support import join

    bot = pbot
    [anna] = await residents(bot, ["Velserbroek"])
    piet = bot.person(2001, "Piet")
    await join(bot, piet, "Piet de Vries", "Openbare ruimte")
    confirm = await compose(bot, piet, audience="Iedereen", pick=None, share="Nee")
    assert "Naar 1 inwoner. Versturen?" in confirm
    await bot.press(piet, "Versturen")
    await sent_out(bot)
    # The stop button under the progress is theirs as well as the moderators' (by now there
    # is nothing left to stop); another civil servant's press is refused.
    async with bot.app.bot_data["sessions"]() as session:
        poll = await session.get(Poll, 1)
    offered = [b for c in bot.replies(piet) for b in c.buttons]
    assert ("⏹ Stoppen", STOP_BUTTON.build(poll.broadcast_id)) in offered
    await bot.press_data(piet, STOP_BUTTON.build(poll.broadcast_id))
    assert bot.answers()[-1] == "Deze mededeling is al klaar of gestopt."
    klaas = bot.person(2002, "Klaas")
    await join(bot, klaas, "Klaas Bakker", "Openbare ruimte")
    await bot.press_data(klaas, STOP_BUTTON.build(poll.broadcast_id))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    await bot.press(anna, "Meer groen")
    [listing] = await bot.send(piet, "/peilingen")
    assert "1 antwoord · open tot" in listing.text
    # A moderator is not its author: the result button is refused, and their list is empty.
    mo = moderator(bot)
    await bot.press_data(mo, RESULT.build(1))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert (await bot.send(mo, "/peilingen"))[0].text.startswith("Je hebt nog geen peilingen")
    calls = await bot.press(piet, "Uitslag #1")
    [chart] = [c for c in calls if c.method == "sendPhoto"]
    assert "1 antwoord, van 1 inwoners" in chart.text
