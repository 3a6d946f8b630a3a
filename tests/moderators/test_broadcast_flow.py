"""/mededeling through the offline harness: a moderator composes, previews, sends now or later,
watches the progress and gets a report; residents who blocked the bot, forged buttons, a stop,
and a crash halfway with a restart, after which every resident has exactly one copy."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import TOKEN_ENV, BroadcastConfig, ConfigError, QuestionsConfig, load_config
from bot.services import Services
from handlers.moderators import announce
from handlers.moderators.announce import parse_when
from handlers.moderators.scheduled import STOP_BUTTON, broadcast_tick, running
from models import Broadcast, BroadcastDelivery, BroadcastState, DeliveryState, User
from models.base import utcnow
from tests.flows import onboard
from tests.harness import BotHarness, Person, make_config
from tests.recording_request import Call

AMS = ZoneInfo("Europe/Amsterdam")
MODERATOR_ID = 9100
TEXT = "Zaterdag is de <b>Kennemerlaan</b> dicht: werk aan de weg. Zie https://velsen.nl"


@pytest.fixture
async def mbot(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    config = replace(
        make_config(tmp_path, database_url),
        questions=QuestionsConfig(moderators=(MODERATOR_ID,)),
        # Fast enough for tests, paced all the same.
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
    return bot.person(MODERATOR_ID, "Mo", username="mo_velsen")


async def residents(bot: BotHarness, kernen: list[str], first: int = 3000) -> list[Person]:
    people = []
    for n, kern in enumerate(kernen):
        person = bot.person(first + n, f"Inwoner{n}")
        await onboard(bot, person, kern)
        people.append(person)
    return people


async def sent_out(bot: BotHarness) -> None:
    """Wait for the senders the bot started in the background."""
    await asyncio.gather(*running(bot.app).values())


def delivered(call: Call) -> bool:
    return isinstance(call.result, dict) and call.result.get("ok") is not False


def announcements(calls: list[Call]) -> Counter[int]:
    """Per chat, how many announcements arrived."""
    return Counter(
        c.chat_id
        for c in calls
        if c.method in ("sendMessage", "sendPhoto")
        and "Mededeling · Burgerbeest" in c.text
        and delivered(c)
    )


def said(calls: list[Call]) -> list[Call]:
    """The messages among the calls a press or a message caused."""
    return [c for c in calls if c.method in ("sendMessage", "sendPhoto")]


async def compose_to_preview(bot: BotHarness, mo: Person, text: str = TEXT) -> None:
    await bot.send(mo, "/mededeling")
    await bot.send(mo, text)
    await bot.press(mo, "Iedereen")


async def broadcast_rows(bot: BotHarness) -> list[BroadcastDelivery]:
    async with bot.app.bot_data["sessions"]() as session:
        return list(await session.scalars(select(BroadcastDelivery).order_by(BroadcastDelivery.id)))


# --- the moderator's flow ------------------------------------------------------------------


async def test_compose_preview_confirm_send_progress_and_report(mbot: BotHarness) -> None:
    bot = mbot
    people = await residents(bot, ["IJmuiden", "Driehuis", "Velserbroek"])
    mo = moderator(bot)
    [ask] = await bot.send(mo, "/mededeling")
    assert "Nieuwe mededeling" in ask.text
    [audience] = await bot.send(mo, TEXT)
    assert [label for label, _ in audience.buttons] == [
        "Iedereen",
        "Eén of meer kernen…",
        "Volgers van een onderwerp…",
        "Ambtenaren",
    ]
    intro, preview, question = said(await bot.press(mo, "Iedereen"))
    assert "Zo ziet de mededeling eruit" in intro.text
    assert "Kennemerlaan" in preview.text and "/stil" in preview.text
    assert "Voor iedereen: nu 3 ontvangers" in question.text
    [confirm] = said(await bot.press(mo, "Nu versturen"))
    assert "nu meteen naar 3 ontvangers" in confirm.text
    assert announcements(bot.calls()) == {mo.id: 1}  # only the preview, so far

    await bot.press(mo, "Ja, naar 3 ontvangers")
    await sent_out(bot)

    # Every resident got exactly what the preview showed, once.
    got = announcements(bot.calls())
    assert got == Counter({p.id: 1 for p in people} | {mo.id: 1})  # mo: the preview
    for person in people:
        assert bot.last_text(person) == preview.text
    # One progress message, edited to the final count, then a report.
    progress = [c for c in bot.replies(mo) if "wordt verstuurd" in c.text]
    assert len(progress) == 1
    edits = bot.calls("editMessageText")
    assert edits and "<b>3 van 3</b>" in edits[-1].text and edits[-1].buttons == []
    report = bot.last_text(mo)
    assert "Mededeling #1 is verstuurd" in report and "verstuurd: 3" in report
    async with bot.app.bot_data["sessions"]() as session:
        broadcast = await session.get(Broadcast, 1)
    assert broadcast.state is BroadcastState.DONE
    # Typed markup is shown as typed: the moderator's text cannot break the message's HTML.
    assert broadcast.text == (
        "Zaterdag is de &lt;b&gt;Kennemerlaan&lt;/b&gt; dicht: werk aan de weg. "
        "Zie https://velsen.nl"
    )


async def test_a_photo_to_two_kernen(mbot: BotHarness) -> None:
    bot = mbot
    ijm, drie, vb = await residents(bot, ["IJmuiden", "Driehuis", "Velserbroek"])
    mo = moderator(bot)
    await bot.send(mo, "/mededeling")
    [ask_text] = await bot.send_photo(mo)
    assert "tekst die bij de foto hoort" in ask_text.text
    await bot.send(mo, "Kijk wat er in het park gebeurt")
    await bot.press(mo, "Eén of meer kernen…")
    await bot.press(mo, "Driehuis")
    await bot.press(mo, "IJmuiden")
    await bot.press(mo, announce.PICK.build(1, 0))  # off again
    await bot.press(mo, announce.PICK.build(1, 0))  # and on
    _, preview, question = said(await bot.press(mo, "Klaar"))
    assert preview.method == "sendPhoto" and "Kijk wat er in het park" in preview.text
    assert "Voor kernen IJmuiden, Driehuis: nu 2 ontvangers" in question.text
    await bot.press(mo, "Nu versturen")
    await bot.press(mo, "Ja, naar 2 ontvangers")
    await sent_out(bot)
    got = announcements(bot.calls())
    assert got[ijm.id] == got[drie.id] == 1 and vb.id not in got
    photos = [c for c in bot.calls("sendPhoto") if c.chat_id == ijm.id]
    assert photos[0].params["photo"] == preview.params["photo"]


async def test_a_scheduled_announcement_waits_for_its_time(mbot: BotHarness) -> None:
    bot = mbot
    [anna] = await residents(bot, ["IJmuiden"])
    mo = moderator(bot)
    start = datetime(2026, 4, 20, 10, 0, tzinfo=AMS)
    with time_machine.travel(start, tick=True):
        await compose_to_preview(bot, mo)
        [ask] = said(await bot.press(mo, "Later"))
        assert "21-04-2026 09:00" in ask.text
        [wrong] = await bot.send(mo, "morgen vroeg")
        assert "lees ik niet" in wrong.text and "21-04-2026 09:00" in wrong.text
        [past] = await bot.send(mo, "20-04 09:00")
        assert "voorbij" in past.text
        [far] = await bot.send(mo, "20-06-2026 09:00")
        assert "hooguit 60 dagen" in far.text
        [confirm] = await bot.send(mo, "21-04 9:30")
        assert "op 21 april 2026, 09:30" in confirm.text
        [scheduled] = said(await bot.press(mo, "Ja, naar 1 ontvanger"))
        assert "ingepland voor 21 april 2026, 09:30" in scheduled.text
        assert await broadcast_tick(bot.context()) == []
    with time_machine.travel(start + timedelta(hours=23, minutes=29), tick=True):
        assert await broadcast_tick(bot.context()) == []  # a minute early
    with time_machine.travel(start + timedelta(hours=23, minutes=31), tick=True):
        await broadcast_tick(bot.context())
        await sent_out(bot)
    assert announcements(bot.calls())[anna.id] == 1


async def test_a_scheduled_announcement_can_be_cancelled(mbot: BotHarness) -> None:
    bot = mbot
    [anna] = await residents(bot, ["IJmuiden"])
    mo = moderator(bot)
    start = datetime(2026, 4, 20, 10, 0, tzinfo=AMS)
    with time_machine.travel(start, tick=True):
        await compose_to_preview(bot, mo)
        await bot.press(mo, "Later")
        await bot.send(mo, "21-04-2026 09:30")
        await bot.press(mo, "Ja, naar")
        [cancelled] = said(await bot.press(mo, "Inplanning annuleren"))
        assert "geannuleerd" in cancelled.text
    with time_machine.travel(start + timedelta(days=2), tick=True):
        assert await broadcast_tick(bot.context()) == []
    assert not announcements(bot.calls())[anna.id]


def test_dates_and_times_are_read_in_local_time() -> None:
    now = datetime(2026, 4, 20, 10, 0, tzinfo=AMS)
    assert parse_when("21-04 9:30", now) == datetime(2026, 4, 21, 9, 30, tzinfo=AMS)
    assert parse_when("1/5/2026 14.00", now) == datetime(2026, 5, 1, 14, 0, tzinfo=AMS)
    assert parse_when("16:15", now) == datetime(2026, 4, 20, 16, 15, tzinfo=AMS)
    assert parse_when("31-02 10:00", now) is None
    assert parse_when("25:00", now) is None
    assert parse_when("morgen", now) is None


async def test_discarding_sends_nothing(mbot: BotHarness) -> None:
    bot = mbot
    [anna] = await residents(bot, ["IJmuiden"])
    mo = moderator(bot)
    await compose_to_preview(bot, mo)
    [reply] = said(await bot.press(mo, "Weggooien"))
    assert "weggegooid" in reply.text
    await bot.send(mo, "/mededeling")
    await bot.send(mo, TEXT)
    [reply] = await bot.send(mo, "/annuleer")
    assert "weggegooid" in reply.text
    assert await broadcast_tick(bot.context()) == []
    assert set(announcements(bot.calls())) == {mo.id}  # the previews, nothing else
    assert not announcements(bot.calls())[anna.id]


async def test_what_a_step_does_not_take_is_answered_with_what_it_takes(
    mbot: BotHarness,
) -> None:
    bot = mbot
    await residents(bot, ["IJmuiden"])
    mo = moderator(bot)
    await bot.send(mo, "/mededeling")
    [reply] = await bot.send_sticker(mo)
    assert reply.text.startswith("Stuur de tekst van de mededeling")
    await bot.send(mo, TEXT)
    [reply] = await bot.send(mo, "Iedereen graag")
    assert reply.text == "Kies met de knoppen hierboven, of stop met /annuleer."
    # The step is still open: the audience's buttons work.
    [*_, question] = said(await bot.press(mo, "Iedereen"))
    assert "1 ontvanger" in question.text


# --- who may ---------------------------------------------------------------------------------


async def test_residents_cannot_broadcast_and_forged_buttons_are_refused(
    mbot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = mbot
    anna, bert = await residents(bot, ["IJmuiden", "Driehuis"])
    mo = moderator(bot)
    [reply] = await bot.send(anna, "/mededeling")
    assert reply.text == "Dit kunnen alleen moderatoren."

    # The moderator's draft is waiting for confirmation.
    await compose_to_preview(bot, mo)
    await bot.press(mo, "Nu versturen")
    caplog.set_level(logging.INFO)
    # A resident forges the moderator's buttons: refused, logged, nothing sent.
    for data in (
        announce.SEND.build(1),
        STOP_BUTTON.build(1),
        announce.CHOOSE_AUDIENCE.build(1, "everyone"),
    ):
        await bot.press_data(anna, data)
    # The moderator's own client forges another draft id, or a step out of order.
    await bot.press_data(mo, announce.SEND.build(2))
    await bot.press_data(mo, announce.SEND_NOW.build(1))
    stale = "Deze knop werkt niet meer. Kijk bij het laatste bericht, of begin opnieuw."
    assert bot.answers()[-5:] == [stale] * 5
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 5
    # Another draft's button, by the moderator's own client: louder, as it is a broadcast.
    [loud] = [r for r in refused if r.levelno == logging.WARNING]
    assert "refused broadcast button 'bc:yes:2'" in loud.getMessage()
    assert await broadcast_tick(bot.context()) == []
    assert not announcements(bot.calls())[anna.id] and not announcements(bot.calls())[bert.id]

    # The real button still works.
    await bot.press(mo, "Ja, naar 2 ontvangers")
    await sent_out(bot)
    assert announcements(bot.calls())[anna.id] == 1


# --- sending: blocked, stopped, crashed ------------------------------------------------------


def hook_sends(bot: BotHarness, after: int, action: Any) -> None:
    """Run `action()` right after the bot's `after`-th announcement went out."""
    original = bot.request.do_request
    seen = {"n": 0}

    async def do_request(url: str, method: str, request_data: Any = None, *args: Any, **kw: Any):
        result = await original(url, method, request_data, *args, **kw)
        params = request_data.parameters if request_data else {}
        announcement = "Mededeling · Burgerbeest" in str(params.get("text"))
        to_resident = params.get("chat_id") != MODERATOR_ID  # not the preview
        if url.endswith("/sendMessage") and announcement and to_resident:
            seen["n"] += 1
            if seen["n"] == after:
                action()
        return result

    bot.request.do_request = do_request  # type: ignore[method-assign]


async def test_a_resident_who_blocks_the_bot_midway(mbot: BotHarness) -> None:
    bot = mbot
    people = await residents(bot, ["IJmuiden"] * 8)
    victim = people[-1]
    mo = moderator(bot)
    hook_sends(bot, 3, lambda: bot.request.block(victim.id))
    await compose_to_preview(bot, mo)
    await bot.press(mo, "Nu versturen")
    await bot.press(mo, "Ja, naar 8 ontvangers")
    await sent_out(bot)

    got = announcements(bot.calls())
    assert victim.id not in got and all(got[p.id] == 1 for p in people[:-1])
    user = await bot.app.bot_data["services"].users.get(victim.id)
    assert user.active is False
    report = bot.last_text(mo)
    assert "verstuurd: 7" in report and "geblokkeerd: 1" in report
    rows = await broadcast_rows(bot)
    assert Counter(r.state for r in rows) == {DeliveryState.SENT: 7, DeliveryState.BLOCKED: 1}


async def test_the_stop_button_stops_the_broadcast(mbot: BotHarness) -> None:
    bot = mbot
    people = await residents(bot, ["IJmuiden"] * 30)
    mo = moderator(bot)
    bot.app.bot_data["config"] = replace(bot.config, broadcast=BroadcastConfig(rate=20))
    await compose_to_preview(bot, mo)
    await bot.press(mo, "Nu versturen")
    await bot.press(mo, "Ja, naar 30 ontvangers")
    await asyncio.sleep(0.3)
    await bot.press(mo, "Stoppen")
    assert bot.answers()[-1] == "Gestopt."
    await sent_out(bot)

    got = announcements(bot.calls())
    assert 0 < sum(got[p.id] for p in people) < 30
    assert max(got.values()) == 1
    report = bot.last_text(mo)
    assert "is gestopt" in report and "Niet verstuurd:" in report
    async with bot.app.bot_data["sessions"]() as session:
        assert (await session.get(Broadcast, 1)).state is BroadcastState.CANCELLED
    await bot.press_data(mo, STOP_BUTTON.build(1))
    assert bot.answers()[-1] == "Deze mededeling is al klaar of gestopt."


async def test_a_crash_halfway_and_a_restart_send_everyone_exactly_one_copy(
    mbot: BotHarness,
) -> None:
    bot = mbot
    people = await residents(bot, ["IJmuiden", "Driehuis"] * 10)
    mo = moderator(bot)

    def crash() -> None:
        # The process dies right after this send went out: its answer is never recorded.
        for task in running(bot.app).values():
            task.cancel()

    hook_sends(bot, 8, crash)
    await compose_to_preview(bot, mo)
    await bot.press(mo, "Nu versturen")
    await bot.press(mo, "Ja, naar 20 ontvangers")
    with pytest.raises(asyncio.CancelledError):
        await sent_out(bot)
    before = bot.calls()
    assert 8 <= sum(announcements(before)[p.id] for p in people) < 20

    await bot.restart()
    # The dead sender's lease still stands: nobody takes over at once.
    assert await broadcast_tick(bot.context()) == []
    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=True):
        assert len(await broadcast_tick(bot.context())) == 1
        await sent_out(bot)

    got = announcements(before) + announcements(bot.calls())
    assert all(got[p.id] == 1 for p in people), got
    rows = await broadcast_rows(bot)
    states = Counter(r.state for r in rows)
    assert states[DeliveryState.SENT] + states[DeliveryState.UNKNOWN] == 20
    assert states[DeliveryState.UNKNOWN] >= 1  # what was on its way at the crash
    # The same progress message is edited after the restart, and the report counts the unknown.
    edits = [c for c in bot.calls("editMessageText") if c.chat_id == mo.id]
    assert edits and "<b>20 van 20</b>" in edits[-1].text
    report = bot.last_text(mo)
    assert f"onzeker: {states[DeliveryState.UNKNOWN]}" in report
    assert not [c for c in bot.replies(mo) if "wordt verstuurd" in c.text]  # no second one


async def test_an_inactive_or_muted_resident_is_not_in_the_audience(mbot: BotHarness) -> None:
    bot = mbot
    anna, bert, cees = await residents(bot, ["IJmuiden", "IJmuiden", "IJmuiden"])
    await bot.send(bert, "/stil")
    await bot.app.bot_data["services"].users.update(cees.id, active=False)
    mo = moderator(bot)
    await compose_to_preview(bot, mo)
    assert "nu 1 ontvanger." in bot.last_text(mo)
    await bot.press(mo, "Nu versturen")
    await bot.press(mo, "Ja, naar 1 ontvanger")
    await sent_out(bot)
    assert set(announcements(bot.calls())) == {anna.id, mo.id}
    async with bot.app.bot_data["sessions"]() as session:
        assert (await session.scalar(select(User).where(User.telegram_id == bert.id))).active


# --- configuration -------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_the_broadcast_rate_comes_from_the_config_and_is_checked(tmp_path: Path) -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(example, encoding="utf-8")
    env = {TOKEN_ENV: "123456:AAsecret-token-value_xyz"}
    assert load_config(path, environ=env).broadcast.rate == 25
    path.write_text(example.replace("rate = 25", "rate = 12.5"), encoding="utf-8")
    assert load_config(path, environ=env).broadcast.rate == 12.5
    for bad in ("rate = 31", "rate = 0", 'rate = "fast"', "rate = true"):
        path.write_text(example.replace("rate = 25", bad), encoding="utf-8")
        with pytest.raises(ConfigError, match=r"\[broadcast\] rate must be a number"):
            load_config(path, environ=env)
    path.write_text(example, encoding="utf-8")
    assert load_config(path, environ=env).broadcast.lease_s == 60
    path.write_text(example.replace("lease_s = 60", "lease_s = 15"), encoding="utf-8")
    assert load_config(path, environ=env).broadcast.lease_s == 15
    services = Services.create(async_sessionmaker(), load_config(path, environ=env))
    assert services.broadcasts.lease == timedelta(seconds=15)
    path.write_text(example.replace("lease_s = 60", "lease_s = 5"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[broadcast\] lease_s must be a whole number"):
        load_config(path, environ=env)
