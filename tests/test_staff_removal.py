"""Staff who go: a civil servant or moderator who erases themselves (/vergeetmij), one who is
offboarded mid-conversation, one whose role is revoked (`burgerbeest revoke`, /intrekken); and
the invite code, which never sits in conversation state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from bot.cli import main
from handlers.civil_servants import profile as prof
from handlers.moderators import revoke
from models import BotState, CivilServant, ModerationAction, ModerationLog, Role, User
from tests.flows import onboard
from tests.harness import BotHarness, Person
from tests.questions_support import MODERATOR_ID, ask, invite, join, local, qbot, services, tick

__all__ = ["qbot"]


async def cli(bot: BotHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str):
    """`burgerbeest ARGS` on the bot's database, as another process would run it (its own
    engine and event loop, in a thread): (exit status, stdout, stderr)."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{bot.config.database_url}"\n'
        '[municipality]\nname = "Velsen"\nkernen = ["IJmuiden"]\n'
        f"[moderators]\ntelegram_ids = [{MODERATOR_ID}]\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    status = await asyncio.to_thread(main, [*args, "--config", str(config)])
    out = capsys.readouterr()
    return status, out.out, out.err


async def user_row(bot: BotHarness, telegram_id: int) -> User | None:
    async with bot.app.bot_data["sessions"]() as session:
        return await session.scalar(select(User).where(User.telegram_id == telegram_id))


async def profile_of(bot: BotHarness, servant_id: int) -> CivilServant:
    async with bot.app.bot_data["sessions"]() as session:
        return await session.get(CivilServant, servant_id)


async def state_rows(bot: BotHarness) -> list[BotState]:
    async with bot.app.bot_data["sessions"]() as session:
        return list(await session.scalars(select(BotState)))


async def staff(bot: BotHarness) -> tuple[Person, Person, Person]:
    """Anna asked a question that lies with Piet (handle afval, backup Bep)."""
    anna, piet, bep = bot.person(1001, "Anna"), bot.person(2001, "Piet"), bot.person(2002, "Bep")
    await onboard(bot, anna)
    await join(bot, bep, "Bep Jansen", "Afval en Reiniging")
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval", backup="Bep")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):  # a Monday
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    assert "V-2026-0001" in bot.last_text(piet)
    return anna, piet, bep


async def moderator_by_invite(bot: BotHarness, who: Person) -> None:
    await bot.send(who, f"/aanmelden {await invite(bot, role=Role.MODERATOR)}")
    assert (await user_row(bot, who.id)).role is Role.MODERATOR


# --- /vergeetmij by staff ----------------------------------------------------------------


async def test_a_civil_servant_who_erases_themselves_is_offboarded(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet, bep = await staff(bot)
    piet_id = (await services(bot).civil_servants.find("afval")).id

    [question] = await bot.send(piet, "/vergeetmij")
    assert "ambtenaar" in question.text  # the question says what happens to the profile
    with time_machine.travel(local("2026-06-01 14:00"), tick=False):
        await bot.press(piet, "Ja, wis alles")
    done = bot.last_text(piet)
    assert "ik ben je vergeten" in done
    assert "Je profiel als ambtenaar is weg" in done and "1 open vraag" in done

    profile = await profile_of(bot, piet_id)
    assert (profile.name, profile.department, profile.introduction) == ("—", "", "")
    assert (profile.handle, profile.topics, profile.kernen) == (None, [], [])
    assert profile.user.role is Role.RESIDENT and profile.user.telegram_id < 0
    # The question goes to the backup at the next dispatch, and /wie no longer lists Piet.
    await tick(bot, "2026-06-01 14:01")
    assert "V-2026-0001" in bot.last_text(bep)
    await bot.send(anna, "/wie")
    await bot.press(anna, "Melding openbare ruimte")
    listing = bot.calls("editMessageText")[-1].params["text"]
    assert "Bep Jansen" in listing and "Piet" not in listing


async def test_a_moderator_who_erases_themselves_is_no_moderator_any_more(
    qbot: BotHarness,
) -> None:
    bot = qbot
    zoe = bot.person(3001, "Zoë", language_code="en")
    await moderator_by_invite(bot, zoe)
    [question] = await bot.send(zoe, "/vergeetmij")
    assert "moderator" in question.text
    await bot.press(zoe, "Yes, erase everything")
    assert "You are no longer a moderator" in bot.last_text(zoe)
    async with bot.app.bot_data["sessions"]() as session:
        roles = set(await session.scalars(select(User.role)))
    assert Role.MODERATOR not in roles  # no placeholder left with the role
    assert 3001 not in [m.telegram_id for m in await services(bot).civil_servants.moderators()]
    await bot.send(zoe, "/wachtrij")
    assert "Only moderators" in bot.last_text(zoe)  # refused like anyone else


async def test_a_moderator_from_the_config_is_told_they_stay_one(qbot: BotHarness) -> None:
    bot = qbot
    mod = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, mod)
    [question] = await bot.send(mod, "/vergeetmij")
    assert "configuratie" in question.text
    await bot.press(mod, "Ja, wis alles")
    assert "blijf je moderator" in bot.last_text(mod)


# --- offboarding during an open profile edit ---------------------------------------------


async def test_offboarding_during_a_profile_edit_writes_nothing_back(
    qbot: BotHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = qbot
    _, piet, bep = await staff(bot)
    piet_id = (await services(bot).civil_servants.find("afval")).id
    await bot.send(piet, "/profiel")
    await bot.press(piet, prof.EDIT.build("name"))
    assert [r for r in await state_rows(bot) if r.key in ("2001", "[2001, 2001]")]

    with time_machine.travel(local("2026-06-01 14:00"), tick=False):
        status, out, _ = await cli(bot, tmp_path, capsys, "offboard", "afval")
    assert status == 0 and "Piet de Vries has left: 1 open questions" in out
    # The other process cleared the open edit and the draft with it.
    assert not [r for r in await state_rows(bot) if "2001" in r.key]

    await bot.send(piet, "Piet de Vries-Bakker")  # the running bot still had the step open
    assert "geen ambtenaar" in bot.last_text(piet)
    profile = await profile_of(bot, piet_id)
    assert (profile.name, profile.department, profile.topics) == ("—", "", [])
    assert not [r for r in await state_rows(bot) if "2001" in r.key]
    await tick(bot, "2026-06-01 14:01")
    assert "V-2026-0001" in bot.last_text(bep)


# --- the invite code -----------------------------------------------------------------------


async def test_the_invite_code_never_sits_in_conversation_state(qbot: BotHarness) -> None:
    bot = qbot
    piet = bot.person(2001, "Piet")
    code = await invite(bot, "afval")
    await bot.send(piet, f"/aanmelden {code}")
    await bot.send(piet, "Piet de Vries")
    stored = json.dumps([r.value for r in await state_rows(bot)])
    assert "Piet de Vries" in stored  # the draft is there, and so the check can fail
    assert code not in stored and code.replace("-", "") not in stored
    # The profile still joins with it.
    await bot.send(piet, "Afval en Reiniging")
    await bot.press(piet, "Melding openbare ruimte")
    await bot.press(piet, prof.TOPICS_DONE.build())
    await bot.press(piet, prof.KERNEN_DONE.build())
    await bot.send(piet, "Ik help je graag.")
    await bot.press(piet, prof.BACKUP.build("none"))
    assert "Je bent aangemeld" in bot.last_text(piet)
    assert (await user_row(bot, 2001)).role is Role.CIVIL_SERVANT


# --- burgerbeest revoke --------------------------------------------------------------------


async def test_revoke_on_the_command_line(
    qbot: BotHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = qbot
    _, piet, bep = await staff(bot)
    zoe = bot.person(3001, "Zoë")
    await moderator_by_invite(bot, zoe)
    piet_id = (await services(bot).civil_servants.find("afval")).id

    status, out, _ = await cli(bot, tmp_path, capsys, "revoke", "3001")
    assert status == 0 and "3001 is no longer a moderator" in out
    assert (await user_row(bot, 3001)).role is Role.RESIDENT
    await bot.send(zoe, "/triage")
    assert "alleen moderatoren" in bot.last_text(zoe)

    await bot.send(piet, "/profiel")
    await bot.press(piet, prof.EDIT.build("name"))
    with time_machine.travel(local("2026-06-01 14:00"), tick=False):
        status, out, _ = await cli(bot, tmp_path, capsys, "revoke", "2001")
    assert status == 0 and "no longer a civil servant" in out and "1 open question" in out
    user = await user_row(bot, 2001)
    assert user is not None and user.role is Role.RESIDENT  # still there as a resident
    profile = await profile_of(bot, piet_id)
    assert (profile.name, profile.handle, profile.topics) == ("—", None, [])
    assert not [r for r in await state_rows(bot) if "2001" in r.key]
    await bot.send(piet, "Piet Nieuw")
    assert "geen ambtenaar" in bot.last_text(piet)
    assert (await profile_of(bot, piet_id)).name == "—"
    await tick(bot, "2026-06-01 14:01")
    assert "V-2026-0001" in bot.last_text(bep)

    async with bot.app.bot_data["sessions"]() as session:
        logged = list(await session.scalars(select(ModerationLog)))
    assert [(e.action, e.moderator_id) for e in logged] == [(ModerationAction.REVOKE, None)] * 2

    status, _, err = await cli(bot, tmp_path, capsys, "revoke", "3001")
    assert status == 2 and "3001 has no role to revoke" in err
    status, _, err = await cli(bot, tmp_path, capsys, "revoke", str(MODERATOR_ID))
    assert status == 2 and "config.toml" in err and "telegram_ids" in err
    status, _, err = await cli(bot, tmp_path, capsys, "revoke", "@piet")
    assert status == 2 and "a Telegram id" in err


# --- /intrekken ----------------------------------------------------------------------------


async def test_a_moderator_revokes_another_with_a_confirmation(qbot: BotHarness) -> None:
    bot = qbot
    _, piet, bep = await staff(bot)
    mod = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, mod)
    zoe = bot.person(3001, "Zoë", language_code="en")
    await moderator_by_invite(bot, zoe)

    await bot.send(mod, "/intrekken")
    assert "/intrekken" in bot.last_text(mod)  # usage
    await bot.send(mod, "/intrekken 4242")
    assert "4242" in bot.last_text(mod) and "geen rol" in bot.last_text(mod)
    await bot.send(mod, f"/intrekken {MODERATOR_ID}")
    assert "Je eigen rol" in bot.last_text(mod)
    await bot.send(zoe, f"/intrekken {MODERATOR_ID}")
    assert "config.toml" in bot.last_text(zoe)

    [confirm] = await bot.send(mod, "/intrekken 3001")
    assert "Zoë" in confirm.text and "moderator" in confirm.text
    await bot.press_data(bep, confirm.buttons[0][1])  # a forged press by a non-moderator
    assert (await user_row(bot, 3001)).role is Role.MODERATOR
    await bot.press(mod, "Nee")
    assert (await user_row(bot, 3001)).role is Role.MODERATOR

    await bot.send(mod, "/intrekken 3001")
    await bot.press(mod, "Ja, intrekken")
    assert "3001" in bot.last_text(mod) and "ingetrokken" in bot.last_text(mod)
    assert "no longer a moderator" in bot.last_text(zoe)
    assert (await user_row(bot, 3001)).role is Role.RESIDENT
    [menu] = bot.calls("deleteMyCommands")  # her chat's staff menu goes
    scope = menu.params["scope"]
    assert (json.loads(scope) if isinstance(scope, str) else scope) == {
        "type": "chat",
        "chat_id": 3001,
    }
    await bot.press(mod, "Ja, intrekken")  # pressed again: nothing more happens
    await bot.send(zoe, "/wachtrij")
    assert "Only moderators" in bot.last_text(zoe)

    await bot.send(mod, "/intrekken 2001")
    with time_machine.travel(local("2026-06-01 14:00"), tick=False):
        await bot.press(mod, "Ja, intrekken")
    assert "Piet" in bot.last_text(mod)
    assert "geen ambtenaar meer" in bot.last_text(piet)
    await tick(bot, "2026-06-01 14:01")
    assert "V-2026-0001" in bot.last_text(bep)

    await bot.send(mod, "/logboek")
    log = bot.last_text(mod)
    assert log.count("rol ingetrokken") == 2 and "Mo" in log
    async with bot.app.bot_data["sessions"]() as session:
        logged = list(await session.scalars(select(ModerationLog)))
    assert [e.action for e in logged] == [ModerationAction.REVOKE] * 2


async def test_intrekken_is_for_moderators_only(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    zoe = bot.person(3001, "Zoë")
    await moderator_by_invite(bot, zoe)
    await bot.send(anna, "/intrekken 3001")
    assert "alleen moderatoren" in bot.last_text(anna)
    await bot.press_data(anna, revoke.REVOKE.build(3001))
    assert (await user_row(bot, 3001)).role is Role.MODERATOR
    # A moderator's forged press: no Telegram id in it.
    mo = bot.person(MODERATOR_ID, "Mo")
    await bot.send(mo, "/start")
    await bot.press_data(mo, revoke.REVOKE.build("x.1"))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert (await user_row(bot, 3001)).role is Role.MODERATOR
