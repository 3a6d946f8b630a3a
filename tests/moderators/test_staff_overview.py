"""/gepland (announcements still to go out, by any moderator, with a stop button each) and
/logboek (the audit log, newest first, page by page): for moderators only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.config import BroadcastConfig, QuestionsConfig
from bot.i18n import translator
from handlers.moderators import moderation
from handlers.moderators.audit import OLDER, PAGE
from handlers.moderators.scheduled import STOP_BUTTON, broadcast_tick, running
from models import BroadcastState
from tests.flows import onboard
from tests.harness import BotHarness, Person, make_config
from tests.moderators.test_broadcast_flow import announcements, compose_to_preview, said
from tests.moderators.test_moderation import submit

AMS = ZoneInfo("Europe/Amsterdam")
MO, MO2 = 9100, 9101
STALE = translator("nl")("common.stale_button")


@pytest.fixture
async def bot(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    config = replace(
        make_config(tmp_path, database_url),
        questions=QuestionsConfig(moderators=(MO, MO2)),
        broadcast=BroadcastConfig(rate=200),
    )
    harness = BotHarness(config)
    await harness.start()
    yield harness
    for task in running(harness.app).values():
        task.cancel()
    await harness.stop()
    assert not harness.errors, f"handlers raised: {harness.errors!r}"


async def staff(bot: BotHarness) -> tuple[Person, Person, Person]:
    mo = bot.person(MO, "Mo")
    mira = bot.person(MO2, "Mira")
    anna = bot.person(101, "Anna")
    for person in (mo, mira, anna):
        await onboard(bot, person)
    return mo, mira, anna


async def schedule(bot: BotHarness, mo: Person, text: str, when: str) -> None:
    await compose_to_preview(bot, mo, text)
    await bot.press(mo, "Later")
    await bot.send(mo, when)
    await bot.press(mo, "Ja, naar")


async def test_upcoming_lists_every_moderators_announcements_and_any_moderator_can_stop_one(
    bot: BotHarness,
) -> None:
    mo, mira, anna = await staff(bot)
    start = datetime(2026, 4, 20, 10, 0, tzinfo=AMS)
    with time_machine.travel(start, tick=True):
        [none] = await bot.send(mira, "/gepland")
        assert "geen mededelingen" in none.text
        await schedule(bot, mo, "Zaterdag <b>markt</b> op het plein", "21-04 09:30")
        await schedule(bot, mo, "Ophaaldag verschoven", "22-04 08:00")

        [listing] = await bot.send(mira, "/gepland")
        assert "2 mededelingen staan klaar" in listing.text
        assert "#1</b> · 21 april 2026, 09:30 · aan iedereen (nu 3)" in listing.text
        assert "door Mo" in listing.text
        # The moderator's text is shown as typed, in plain words.
        assert "Zaterdag &lt;b&gt;markt&lt;/b&gt; op het plein" in listing.text
        assert listing.text.index("#1</b>") < listing.text.index("#2</b>")
        assert [data for _, data in listing.buttons] == [STOP_BUTTON.build(1), STOP_BUTTON.build(2)]

        # Mira stops Mo's first one; it no longer goes out and no longer shows.
        [cancelled] = said(await bot.press(mira, "#1 stoppen"))
        assert "geannuleerd" in cancelled.text
        [listing] = await bot.send(mira, "/gepland")
        assert "1 mededeling staat klaar" in listing.text and "#1</b>" not in listing.text

    with time_machine.travel(start + timedelta(days=3), tick=True):
        await broadcast_tick(bot.context())
        for task in list(running(bot.app).values()):
            await task
    got = announcements(bot.calls())
    assert got[anna.id] == 1  # only #2
    broadcast = await bot.app.bot_data["services"].broadcasts.get(1)
    assert broadcast.state is BroadcastState.CANCELLED


async def test_upcoming_and_its_buttons_are_for_moderators_only(bot: BotHarness) -> None:
    mo, _, anna = await staff(bot)
    with time_machine.travel(datetime(2026, 4, 20, 10, 0, tzinfo=AMS), tick=True):
        await schedule(bot, mo, "Ophaaldag verschoven", "21-04 08:00")
        [refused] = await bot.send(anna, "/gepland")
        assert "alleen moderatoren" in refused.text
        await bot.press_data(anna, STOP_BUTTON.build(1))
        assert bot.answers()[-1] == STALE
        await bot.press_data(mo, STOP_BUTTON.build(99))  # no such broadcast
        assert bot.answers()[-1] == STALE
    broadcast = await bot.app.bot_data["services"].broadcasts.get(1)
    assert broadcast.state is BroadcastState.SCHEDULED


async def test_the_log_shows_who_did_what_with_reasons_and_changes(bot: BotHarness) -> None:
    mo, mira, anna = await staff(bot)
    [empty] = await bot.send(mo, "/logboek")
    assert "leeg" in empty.text
    first = await submit(bot, anna, "Hondenspeeltuin")
    second = await submit(bot, anna, "Bankjes in het park")
    await bot.send(mo, f"/verberg {first}")
    await bot.send(mo, "/wachtrij")
    await bot.press(mo, moderation.REJECT.build(first))
    await bot.send(mo, "Reclame <script> voor een bedrijf")
    await bot.send(mira, f"/verberg {second}")
    await bot.send(mira, "/wachtrij")
    await bot.press(mira, moderation.EDIT.build(second))
    await bot.send(mira, "Bankjes in het Park Velserbeek")

    [log] = await bot.send(mira, "/logboek")
    lines = log.text.split("\n")
    assert "Logboek van moderatie" in lines[0]
    assert "Mira · titel aangepast · idee #2" in lines[1]
    assert "„Bankjes in het park” → „Bankjes in het Park Velserbeek”" in lines[1]
    assert "Mira · verborgen · idee #2" in lines[2]
    assert "Mo · afgewezen · idee #1 — reden: <i>Reclame &lt;script&gt;" in lines[3]
    assert "Mo · verborgen · idee #1" in lines[4]
    assert not log.buttons

    # In English for a moderator who reads English.
    await bot.send(mo, "/taal")
    await bot.press(mo, "English")
    [english] = await bot.send(mo, "/logboek")
    assert "Moderation log" in english.text and "Mo · rejected · idea #1" in english.text


async def test_the_log_pages_back_and_refuses_residents_and_forged_pages(bot: BotHarness) -> None:
    mo, _, anna = await staff(bot)
    moderation = bot.app.bot_data["services"].moderation
    users = bot.app.bot_data["services"].users
    mo_row, anna_row = await users.get(mo.id), await users.get(anna.id)
    for n in range(PAGE + 3):
        await moderation.set_banned(mo_row.id, anna_row.id, banned=n % 2 == 0)
    [page] = await bot.send(mo, "/logboek")
    assert page.text.count("•") == PAGE
    # The person as /ban and /unban take them: by name and Telegram id.
    assert page.text.split("\n")[1].endswith(f"gedeblokkeerd · Anna (Telegram-id {anna.id})")
    older = said(await bot.press(mo, "Ouder"))
    assert older[-1].text.count("•") == 3
    assert not older[-1].buttons
    ids = [e.id for e in await moderation.log(limit=100)]
    assert len(ids) == len(set(ids)) == PAGE + 3

    [refused] = await bot.send(anna, "/logboek")
    assert "alleen moderatoren" in refused.text
    await bot.press_data(anna, OLDER.build(5))
    assert bot.answers()[-1] == STALE
    await bot.forge(mo, "logboek:abc")
    assert bot.answers()[-1] == STALE


async def test_the_log_holds_status_moves_and_announcements_scheduled_and_stopped(
    bot: BotHarness,
) -> None:
    mo, mira, anna = await staff(bot)
    number = await submit(bot, anna, "Hondenspeeltuin")
    with time_machine.travel(datetime(2026, 4, 20, 10, 0, tzinfo=AMS), tick=True):
        await bot.send(mo, f"/status {number}")
        await bot.press(mo, "in gesprek")
        # The initiator's own move is hers, not a moderator's: not in the log.
        await bot.send(anna, "/mijn")
        await bot.press(anna, f"✏️ #{number}")
        await bot.press(anna, "experiment")
        await schedule(bot, mo, "Ophaaldag verschoven", "21-04 08:00")
        await bot.send(mira, "/gepland")
        said(await bot.press(mira, "#1 stoppen"))

    [log] = await bot.send(mo, "/logboek")
    lines = log.text.split("\n")[1:]
    assert len(lines) == 3, lines
    assert "Mira · mededeling gestopt · mededeling #1" in lines[0]
    scheduled = "Mo · mededeling ingepland · mededeling #1 — gaat uit op 21 april 2026, 08:00"
    assert scheduled in lines[1]
    assert f"Mo · status gewijzigd · idee #{number} — „idee” → „in gesprek”" in lines[2]

    await bot.send(mo, "/taal")
    await bot.press(mo, "English")
    [english] = await bot.send(mo, "/logboek")
    assert "Mo · status changed · idea #1 — “idea” → “in talks”" in english.text


async def test_the_log_names_a_person_until_they_are_erased(bot: BotHarness) -> None:
    mo, _, anna = await staff(bot)
    services = bot.app.bot_data["services"]
    mo_row, anna_row = await services.users.get(mo.id), await services.users.get(anna.id)
    await services.moderation.set_banned(mo_row.id, anna_row.id, True)
    [log] = await bot.send(mo, "/logboek")
    assert f"Mo · geblokkeerd · Anna (Telegram-id {anna.id})" in log.text
    await services.moderation.set_banned(mo_row.id, anna_row.id, False)
    await services.privacy.erase(anna.id)
    [log] = await bot.send(mo, "/logboek")
    assert f"gewiste gebruiker #{anna_row.id}" in log.text
    assert "Anna" not in log.text and str(anna.id) not in log.text
