"""Moderation: pre-moderation, /wachtrij decisions, reports that hide, bans, the audit log, and
forged or stale moderator buttons that change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import TOKEN_ENV, AboutConfig, ConfigError, ModerationConfig, load_config
from bot.i18n import translator
from handlers.moderators import moderation
from handlers.residents import initiative as idee
from models import Initiative, ModerationAction, ModerationLog, Report, Visibility
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness, Person, make_config
from tests.questions_support import MODERATOR_ID, QUESTIONS, services
from tests.test_config import TOKEN, write

STALE = translator("nl")("common.stale_button")


async def _bot(tmp_path: Path, database_url: str, mode: str) -> BotHarness:
    config = replace(
        make_config(tmp_path, database_url),
        questions=QUESTIONS,
        moderation=ModerationConfig(mode=mode, hide_after_reports=2),
    )
    harness = BotHarness(config)
    await harness.start()
    return harness


@pytest.fixture
async def pre_bot(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    harness = await _bot(tmp_path, database_url, "pre")
    yield harness
    await harness.stop()
    assert not harness.errors, f"handlers raised: {harness.errors!r}"


@pytest.fixture
async def post_bot(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    harness = await _bot(tmp_path, database_url, "post")
    yield harness
    await harness.stop()
    assert not harness.errors, f"handlers raised: {harness.errors!r}"


async def submit(bot: BotHarness, who: Person, title: str = "Hondenspeeltuin") -> int:
    """/idee to the end; returns the new initiative's number."""
    await answer_until_summary(bot, who, title)
    await bot.press(who, "Opslaan")
    async with bot.app.bot_data["sessions"]() as session:
        return await session.scalar(
            select(Initiative.id).where(Initiative.title == title).order_by(Initiative.id.desc())
        )


async def visibility(bot: BotHarness, number: int) -> Visibility:
    initiative = await services(bot).initiatives.get(number)
    assert initiative is not None
    return initiative.visibility


async def actions(bot: BotHarness) -> list[tuple[ModerationAction, str, int]]:
    entries = await services(bot).moderation.log()
    return [(e.action, e.target_kind, e.target_id) for e in reversed(entries)]


async def people(bot: BotHarness) -> tuple[Person, Person, Person]:
    anna = bot.person(101, "Anna", username="anna_ij")
    bob = bot.person(102, "Bob")
    moderator = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, anna)
    await onboard(bot, bob)
    await onboard(bot, moderator)
    return anna, bob, moderator


async def found(bot: BotHarness, who: Person, text: str = "hondenspeeltuin") -> str:
    await bot.send(who, f"/zoek {text}")
    return bot.last_text(who)


async def test_pre_moderation_holds_an_initiative_out_of_search_until_approved(
    pre_bot: BotHarness,
) -> None:
    bot = pre_bot
    anna, bob, moderator = await people(bot)
    number = await submit(bot, anna)
    assert "moderator" in bot.last_text(anna)
    assert await visibility(bot, number) is Visibility.PENDING
    assert f"#{number}" not in await found(bot, bob)
    # Not offered as a similar initiative either.
    await answer_until_summary(bot, bob, "Hondenspeeltuin")
    before = len(bot.request.calls)
    await bot.press(bob, "Opslaan")
    assert not any(c.buttons for c in bot.replies(bob, since=before))
    assert [c for c in bot.replies(bob, since=before) if "Hondenspeeltuin" in c.text]

    replies = await bot.send(moderator, "/wachtrij")
    assert f"#{number}" in replies[-1].text and "goedkeuring" in replies[-1].text
    await bot.press(moderator, moderation.APPROVE.build(number))
    assert await visibility(bot, number) is Visibility.VISIBLE
    assert "goedgekeurd" in bot.last_text(anna)
    assert f"#{number}" in await found(bot, anna, "hondenspeeltuin")
    assert (ModerationAction.APPROVE, "initiative", number) in await actions(bot)


async def test_reject_sends_the_resident_the_reason(pre_bot: BotHarness) -> None:
    bot = pre_bot
    anna, bob, moderator = await people(bot)
    number = await submit(bot, anna)
    await bot.send(moderator, "/wachtrij")
    await bot.press(moderator, moderation.REJECT.build(number))
    await bot.send(moderator, "Dit is reclame voor een bedrijf.")
    assert await visibility(bot, number) is Visibility.REJECTED
    assert "Reden: Dit is reclame voor een bedrijf." in bot.last_text(anna)
    assert f"#{number}" not in await found(bot, bob)
    assert "leeg" in bot.last_text(moderator)
    entries = await services(bot).moderation.log()
    assert entries[0].action is ModerationAction.REJECT
    assert entries[0].detail["reason"] == "Dit is reclame voor een bedrijf."
    # A rejected initiative cannot be approved any more by a replayed button.
    await bot.press_data(moderator, moderation.APPROVE.build(number))
    assert await visibility(bot, number) is Visibility.REJECTED


async def test_a_moderator_edits_the_title_before_approving(pre_bot: BotHarness) -> None:
    bot = pre_bot
    anna, bob, moderator = await people(bot)
    number = await submit(bot, anna, "Hondenspeeltuin voor die stomme honden")
    await bot.send(moderator, "/wachtrij")
    await bot.press(moderator, moderation.EDIT.build(number))
    await bot.send(moderator, "Hondenspeeltuin Schoonenberg")
    assert "Hondenspeeltuin Schoonenberg" in bot.replies(moderator)[-2].text
    await bot.press(moderator, moderation.APPROVE.build(number))
    assert "Hondenspeeltuin Schoonenberg" in await found(bot, bob, "schoonenberg")
    edit = next(e for e in await services(bot).moderation.log() if e.action == "edit_title")
    assert edit.detail == {
        "old": "Hondenspeeltuin voor die stomme honden",
        "new": "Hondenspeeltuin Schoonenberg",
    }
    assert [a for a, _, _ in await actions(bot)] == [
        ModerationAction.EDIT_TITLE,
        ModerationAction.APPROVE,
    ]


async def test_reports_hide_an_initiative_until_a_moderator_restores_it(
    post_bot: BotHarness,
) -> None:
    bot = post_bot
    anna, bob, moderator = await people(bot)
    carla = bot.person(103, "Carla")
    await onboard(bot, carla)
    number = await submit(bot, anna)
    assert await visibility(bot, number) is Visibility.VISIBLE
    assert f"#{number}" in await found(bot, bob)

    await bot.send(anna, f"/meld {number}")
    assert "van jezelf" in bot.last_text(anna)
    await bot.send(bob, f"/meld {number} scheldwoorden in de tekst")
    assert "kijken" in bot.last_text(bob)
    await bot.send(bob, f"/meld {number}")
    assert "al gemeld" in bot.last_text(bob)
    assert await visibility(bot, number) is Visibility.VISIBLE
    await bot.send(carla, f"/meld {number}")  # the second resident: hidden now
    assert "verborgen" in bot.last_text(carla)
    assert "verborgen" in bot.last_text(moderator)
    assert await visibility(bot, number) is Visibility.HIDDEN
    assert f"#{number}" not in await found(bot, bob)
    await bot.send(bob, "/meld 9999")
    assert "geen idee" in bot.last_text(bob)

    replies = await bot.send(moderator, "/wachtrij")
    assert "2 meldingen" in replies[-1].text and "scheldwoorden" in replies[-1].text
    await bot.press(moderator, "Terugzetten")
    assert await visibility(bot, number) is Visibility.VISIBLE
    assert f"#{number}" in await found(bot, bob)
    assert await actions(bot) == [(ModerationAction.RESTORE, "initiative", number)]


async def test_reports_then_a_moderator_rejects(post_bot: BotHarness) -> None:
    bot = post_bot
    anna, bob, moderator = await people(bot)
    carla = bot.person(103, "Carla")
    await onboard(bot, carla)
    number = await submit(bot, anna)
    await bot.send(bob, f"/meld {number}")
    await bot.send(carla, f"/meld {number}")
    assert await visibility(bot, number) is Visibility.HIDDEN
    await bot.send(moderator, "/wachtrij")
    await bot.press(moderator, "Afwijzen")
    await bot.send(moderator, "Kwetsend.")
    assert await visibility(bot, number) is Visibility.REJECTED
    assert "Kwetsend." in bot.last_text(anna)
    assert await actions(bot) == [(ModerationAction.REJECT, "initiative", number)]


async def ban(bot: BotHarness, moderator: Person, who: str, reason: str) -> None:
    """/ban to the end: the reason typed, Blokkeren pressed."""
    await bot.send(moderator, f"/ban {who}")
    await bot.send(moderator, reason)
    await bot.press(moderator, "Blokkeren")


async def test_ban_stops_a_resident_and_unban_restores(post_bot: BotHarness) -> None:
    bot = post_bot
    anna, bob, moderator = await people(bot)
    # A resident cannot ban.
    await bot.send(bob, "/ban @anna_ij")
    assert "alleen moderatoren" in bot.last_text(bob)
    await ban(bot, moderator, "@Anna_IJ", "Scheldt andere inwoners uit.")
    assert "geblokkeerd" in bot.last_text(moderator)
    assert await services(bot).moderation.is_banned(anna.id)

    replies = await bot.send(anna, "/zoek speeltuin")
    assert len(replies) == 1 and "geblokkeerd" in replies[0].text
    replies = await bot.send(anna, "/idee")
    assert len(replies) == 1 and "geblokkeerd" in replies[0].text
    await bot.press_data(anna, idee.SAVE.build())
    assert "geblokkeerd" in bot.answers()[-1]
    # Nor can a moderator be banned, by id or otherwise.
    await bot.send(moderator, f"/ban {MODERATOR_ID}")
    assert "moderator kun je niet" in bot.last_text(moderator)

    await bot.send(moderator, f"/unban {anna.id}")
    assert "niet meer geblokkeerd" in bot.last_text(moderator)
    replies = await bot.send(anna, "/zoek speeltuin")
    assert "geblokkeerd" not in replies[-1].text
    assert [a for a, _, _ in await actions(bot)] == [ModerationAction.BAN, ModerationAction.UNBAN]


async def test_forged_and_stale_moderator_buttons_change_nothing(pre_bot: BotHarness) -> None:
    bot = pre_bot
    anna, bob, moderator = await people(bot)
    number = await submit(bot, anna)
    # A resident presses (forges) every moderator button.
    for button in (moderation.APPROVE, moderation.REJECT, moderation.EDIT):
        await bot.press_data(bob, button.build(number))
        assert bot.answers()[-1] == STALE
    await bot.send(bob, "Mijn eigen reden")  # no reason is being asked of bob
    assert await visibility(bot, number) is Visibility.PENDING
    # A moderator presses a stale item: unknown, or already decided.
    await bot.press_data(moderator, moderation.APPROVE.build(9999))
    assert bot.answers()[-1] == STALE
    await bot.forge(moderator, "mod:ok:abc")  # garbage: no flow takes it
    assert bot.answers()[-1] == STALE
    await bot.forge(moderator, "mod:ok:123456789012")  # more than an id column holds
    assert bot.answers()[-1] == STALE
    await bot.press_data(moderator, moderation.APPROVE.build(number))
    assert await visibility(bot, number) is Visibility.VISIBLE
    await bot.press_data(moderator, moderation.REJECT.build(number))
    assert bot.answers()[-1] == STALE
    assert await visibility(bot, number) is Visibility.VISIBLE
    assert await actions(bot) == [(ModerationAction.APPROVE, "initiative", number)]
    async with bot.app.bot_data["sessions"]() as session:
        assert len(list(await session.scalars(select(ModerationLog)))) == 1


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('mode = "later"', "[moderation] mode"),
        ("hide_after_reports = 0", "[moderation] hide_after_reports"),
    ],
)
def test_bad_moderation_config_is_named(tmp_path: Path, section: str, message: str) -> None:
    path = write(tmp_path, f'[municipality]\nname="V"\nkernen=["A"]\n[moderation]\n{section}\n')
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path, environ={TOKEN_ENV: TOKEN})


def test_moderation_config_defaults_to_post(tmp_path: Path) -> None:
    path = write(tmp_path, '[municipality]\nname="V"\nkernen=["A"]\n')
    assert load_config(path, environ={TOKEN_ENV: TOKEN}).moderation == ModerationConfig(
        mode="post", hide_after_reports=3
    )


async def test_a_moderator_hides_at_once_and_the_index_stays_in_step(post_bot: BotHarness) -> None:
    bot = post_bot
    anna, bob, moderator = await people(bot)
    number = await submit(bot, anna)
    await bot.send(bob, f"/verberg {number}")
    assert "alleen moderatoren" in bot.last_text(bob)
    assert await visibility(bot, number) is Visibility.VISIBLE
    await bot.send(moderator, f"/verberg {number}")
    assert "verborgen" in bot.last_text(moderator)
    await bot.send(moderator, f"/verberg {number}")
    assert "al niet zichtbaar" in bot.last_text(moderator)
    assert number not in services(bot).matching.index
    await bot.send(anna, "/mijn")
    assert "Verborgen na meldingen" in bot.last_text(anna)
    # A restart rebuilds the index from the database: still out of it, still not found.
    await bot.restart()
    assert number not in services(bot).matching.index
    assert f"#{number}" not in await found(bot, bob)
    await bot.send(moderator, "/wachtrij")
    await bot.press(moderator, "Terugzetten")
    assert number in services(bot).matching.index
    await bot.restart()
    assert f"#{number}" in await found(bot, bob)
    assert [a for a, _, _ in await actions(bot)] == [
        ModerationAction.HIDE,
        ModerationAction.RESTORE,
    ]


async def test_the_initiator_sees_the_moderation_state_in_mijn(pre_bot: BotHarness) -> None:
    bot = pre_bot
    anna, _, moderator = await people(bot)
    number = await submit(bot, anna)
    await bot.send(anna, "/mijn")
    assert "Wacht op een moderator" in bot.last_text(anna)
    await bot.send(moderator, "/wachtrij")
    await bot.press(moderator, moderation.REJECT.build(number))
    await bot.send(moderator, "Dubbel.")
    await bot.send(anna, "/mijn")
    assert "Afgewezen door een moderator" in bot.last_text(anna)


async def test_erasing_a_resident_removes_their_reports(post_bot: BotHarness) -> None:
    bot = post_bot
    anna, bob, _ = await people(bot)
    number = await submit(bot, anna)
    await bot.send(bob, f"/meld {number} mijn eigen woorden")
    async with bot.app.bot_data["sessions"]() as session:
        assert len(list(await session.scalars(select(Report)))) == 1
    await services(bot).privacy.erase(bob.id)
    async with bot.app.bot_data["sessions"]() as session:
        assert list(await session.scalars(select(Report))) == []


async def test_two_moderators_deciding_at_once_act_once(pre_bot: BotHarness) -> None:
    bot = pre_bot
    anna, _, moderator = await people(bot)
    number = await submit(bot, anna)
    mod = await services(bot).users.get(moderator.id)
    assert mod is not None
    moderation = services(bot).moderation
    decisions = await asyncio.gather(
        moderation.approve(mod.id, number),
        moderation.reject(mod.id, number, "Dubbel."),
        moderation.approve(mod.id, number),
    )
    assert sum(d is not None for d in decisions) == 1
    assert len(await actions(bot)) == 1
    anna_row = await services(bot).users.get(anna.id)
    assert anna_row is not None
    bans = await asyncio.gather(*(moderation.set_banned(mod.id, anna_row.id, True) for _ in "ab"))
    assert sum(b is not None for b in bans) == 1
    assert [a for a, _, _ in await actions(bot)][1:] == [ModerationAction.BAN]


async def test_a_banned_resident_gets_no_announcements_and_no_check_in(
    post_bot: BotHarness,
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from bot.services.broadcasts import EVERYONE, Audience, audience_filter
    from handlers.dispatch import dispatch_tick
    from models import ScheduledWork, User
    from models.base import utcnow

    bot = post_bot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await answer_until_summary(bot, anna, "Hondenspeeltuin")
    await bot.press(anna, "Opslaan")
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(
            update(User).where(User.telegram_id == 1001).values(banned_at=utcnow())
        )
        # Make the six-week check-in due now.
        await session.execute(update(ScheduledWork).values(due_at=utcnow() - timedelta(minutes=1)))
    async with bot.app.bot_data["sessions"]() as session:
        from sqlalchemy import select

        reached = list(
            await session.scalars(
                select(User.telegram_id).where(audience_filter(Audience(EVERYONE)))
            )
        )
    assert 1001 not in reached
    before = len(bot.replies(anna))
    await dispatch_tick(bot.context())
    assert len(bot.replies(anna)) == before


async def test_ban_asks_why_and_whether_the_moderator_is_sure(post_bot: BotHarness) -> None:
    bot = post_bot
    anna, _, moderator = await people(bot)
    [why] = await bot.send(moderator, "/ban @anna_ij")
    assert "Waarom wil je Anna blokkeren?" in why.text
    assert not await services(bot).moderation.is_banned(anna.id)
    [sure] = await bot.send(moderator, "Plaatst <b>reclame</b> bij elk idee.")
    assert "Weet je het zeker? Anna kan dan niets meer doen met Burgerbeest." in sure.text
    assert [label for label, _ in sure.buttons] == ["🚫 Blokkeren", "Annuleren"]
    assert not await services(bot).moderation.is_banned(anna.id)

    await bot.press(moderator, "Annuleren")
    assert "niemand geblokkeerd" in bot.last_text(moderator)
    assert not await services(bot).moderation.is_banned(anna.id)
    # The old Blokkeren button does nothing now.
    await bot.press_data(moderator, sure.buttons[0][1])
    assert not await services(bot).moderation.is_banned(anna.id)
    assert await actions(bot) == []

    # /annuleer stops it while the reason is asked for.
    await bot.send(moderator, "/ban @anna_ij")
    await bot.send(moderator, "/annuleer")
    assert "niemand geblokkeerd" in bot.last_text(moderator)
    assert not await services(bot).moderation.is_banned(anna.id)


async def test_a_ban_keeps_its_reason_and_a_double_press_bans_and_tells_once(
    post_bot: BotHarness,
) -> None:
    bot = post_bot
    anna, _, moderator = await people(bot)
    await bot.send(moderator, "/ban @anna_ij")
    [sure] = await bot.send(moderator, "Plaatst <b>reclame</b> bij elk idee.")
    before = len(bot.replies(anna))
    blokkeren = sure.buttons[0][1]
    await bot.press_data(moderator, blokkeren, sure.result["message_id"])
    await bot.press_data(moderator, blokkeren, sure.result["message_id"])
    assert await services(bot).moderation.is_banned(anna.id)
    assert [a for a, _, _ in await actions(bot)] == [ModerationAction.BAN]
    [entry] = await services(bot).moderation.log()
    assert entry.detail == {"reason": "Plaatst <b>reclame</b> bij elk idee."}
    [told] = bot.replies(anna)[before:]
    assert "Een moderator heeft je geblokkeerd" in told.text
    assert "contact op met de gemeente Velsen" in told.text and "/privacy" in told.text
    assert "href" not in told.text  # no platform in this config

    [log] = await bot.send(moderator, "/logboek")
    assert f"geblokkeerd · Anna (Telegram-id {anna.id})" in log.text
    assert "reden: <i>Plaatst &lt;b&gt;reclame&lt;/b&gt; bij elk idee.</i>" in log.text


async def test_ban_refuses_a_moderator_the_unknown_and_the_banned(post_bot: BotHarness) -> None:
    bot = post_bot
    _, _, moderator = await people(bot)
    [usage] = await bot.send(moderator, "/ban")
    assert "Telegram-id of @gebruikersnaam" in usage.text
    [unknown] = await bot.send(moderator, "/ban @niemand")
    assert "Ik ken niemand als @niemand" in unknown.text
    [refused] = await bot.send(moderator, f"/ban {MODERATOR_ID}")
    assert "moderator kun je niet" in refused.text
    await ban(bot, moderator, "@anna_ij", "Spam.")
    [again] = await bot.send(moderator, "/ban @anna_ij")
    assert "was al geblokkeerd" in again.text
    # Nothing was asked: what is typed next is not a reason.
    assert bot.replies(moderator)[-1].buttons == []


async def test_the_banned_person_hears_of_the_municipalitys_own_platform(
    tmp_path: Path, database_url: str
) -> None:
    config = replace(
        make_config(tmp_path, database_url),
        questions=QUESTIONS,
        about=AboutConfig(platform_name="Velsen Praat Mee", platform_url="https://praatmee.nl"),
    )
    bot = BotHarness(config)
    await bot.start()
    try:
        anna, _, moderator = await people(bot)
        await bot.send(anna, "/taal")
        await bot.press(anna, "English")
        await ban(bot, moderator, "@anna_ij", "Spam.")
        told = bot.last_text(anna)
        assert "A moderator has blocked you" in told and "municipality of Velsen" in told
        assert '<a href="https://praatmee.nl">Velsen Praat Mee</a>' in told
        assert len(told) <= 4096
    finally:
        await bot.stop()
    assert not bot.errors
