"""Civil servants join with invite codes (hashed, single-use, expiring), keep a profile, mark
themselves away; moderators make invites in chat."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from bot.cli import main
from bot.config import load_config
from bot.services.invites import InviteService, hash_code
from handlers.civil_servants import profile as prof
from models import CivilServant, Invite, Role
from models.database import create_engine, create_sessionmaker
from tests.flows import onboard
from tests.harness import BotHarness
from tests.questions_support import (
    MODERATOR_ID,
    ask,
    invite,
    join,
    local,
    qbot,
    services,
    tick,
)

__all__ = ["qbot"]


async def test_joining_with_an_invite_code_builds_the_profile(qbot: BotHarness) -> None:
    bot = qbot
    piet = bot.person(2001, "Piet")
    code = await invite(bot, "afval")
    await bot.send(piet, f"/aanmelden {code.lower()}")  # typed sloppily: still the code
    await bot.send(piet, "Piet de Vries")
    await bot.send(piet, "Afval en Reiniging")
    await bot.press(piet, "Melding openbare ruimte")
    await bot.press(piet, "Overlast")
    await bot.press(piet, "Overlast")  # and off again
    await bot.press(piet, prof.TOPICS_DONE.build())
    await bot.press(piet, "IJmuiden")
    await bot.press(piet, prof.KERNEN_DONE.build())
    await bot.send(piet, "Ik zorg dat je afval wordt opgehaald.")
    await bot.press(piet, prof.BACKUP.build("none"))
    welcome = bot.last_text(piet)
    assert "Je bent aangemeld" in welcome and "<b>Piet de Vries</b> · Afval en Reiniging" in welcome
    assert "Kernen: IJmuiden" in welcome
    async with bot.app.bot_data["sessions"]() as session:
        servant = await session.scalar(select(CivilServant))
        stored = await session.scalar(select(Invite))
    assert servant.topics == ["openbare-ruimte"] and servant.handle == "afval"
    assert servant.user.role is Role.CIVIL_SERVANT
    # Only the hash is kept, and the code works once.
    assert stored.code_hash == hash_code(code) and code not in stored.code_hash
    assert stored.used_at is not None
    bram = bot.person(2002, "Bram")
    await bot.send(bram, f"/aanmelden {code}")
    assert "al gebruikt of verlopen" in bot.last_text(bram)


async def test_an_expired_or_unknown_code_is_refused(qbot: BotHarness) -> None:
    bot = qbot
    piet = bot.person(2001, "Piet")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        code = await invite(bot)
    with time_machine.travel(local("2026-06-01 10:00") + timedelta(days=15), tick=False):
        await bot.send(piet, f"/aanmelden {code}")
    assert "al gebruikt of verlopen" in bot.last_text(piet)
    await bot.send(piet, "/aanmelden AAAA-BBBB-CCCC")
    assert "al gebruikt of verlopen" in bot.last_text(piet)
    await bot.send(piet, "/profiel")
    assert "Dit is voor ambtenaren" in bot.last_text(piet)


async def test_profile_edit_and_away_sends_questions_to_the_backup(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet, bep = bot.person(1001, "Anna"), bot.person(2001, "Piet"), bot.person(2002, "Bep")
    await onboard(bot, anna)
    await join(bot, bep, "Bep Jansen", "Afval en Reiniging")
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    await bot.send(piet, "/profiel")
    assert "Vervanger: (nog) niemand" in bot.last_text(piet)
    await bot.press(piet, prof.EDIT.build("backup"))
    await bot.press(piet, "Bep Jansen")
    assert "Vervanger: Bep Jansen" in bot.last_text(piet)
    await bot.press_data(piet, prof.EDIT.build("department"))
    await bot.send(piet, "Reiniging")
    assert "· Reiniging" in bot.last_text(piet)

    with time_machine.travel(local("2026-06-01 08:00"), tick=False):
        await bot.send(piet, "/afwezig 3-6-2026")
        assert "afwezig tot en met 3 juni 2026" in bot.last_text(piet)
        assert "Bep Jansen" in bot.last_text(piet)
        await ask(bot, anna)
    await tick(bot, "2026-06-01 09:00")
    assert bot.last_text(bep).startswith("📨")
    assert not bot.last_text(piet).startswith("📨")

    with time_machine.travel(local("2026-06-04 08:00"), tick=False):  # back on Thursday
        await ask(bot, anna, "Het grofvuil bij de flat is niet opgehaald.")
    await tick(bot, "2026-06-04 09:00")
    assert "V-2026-0002" in bot.last_text(piet)

    await bot.send(piet, "/afwezig gisteren")
    assert "Stuur /afwezig met de laatste dag" in bot.last_text(piet)
    await bot.send(piet, "/afwezig terug")
    assert "Welkom terug" in bot.last_text(piet)


async def test_moderators_make_invites_and_see_the_triage_queue(qbot: BotHarness) -> None:
    bot = qbot
    anna, mo, piet = bot.person(1001, "Anna"), bot.person(MODERATOR_ID, "Mo"), bot.person(2001, "P")
    await onboard(bot, anna)
    await bot.send(anna, "/uitnodiging")
    assert bot.last_text(anna) == "Dit kunnen alleen moderatoren."
    await bot.send(mo, "/uitnodiging afval")
    shown = bot.last_text(mo)
    code = shown.split("<code>")[1].split("</code>")[0]
    await bot.send(piet, f"/aanmelden {code}")
    assert "Hoe heet je" in bot.last_text(piet)

    # A moderator invite makes a moderator by role.
    zoe = bot.person(2009, "Zoë")
    code = await invite(bot, role=Role.MODERATOR)
    await bot.send(zoe, f"/aanmelden {code}")
    assert "Je bent nu moderator" in bot.last_text(zoe)
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await bot.send(anna, "/vraag")
        await bot.send(anna, "Ik heb een vraag")
        await bot.press(anna, "Iets anders")
        await bot.press(anna, "Weet ik niet")
        await bot.press(anna, "IJmuiden")
        await bot.press(anna, "Versturen")
    await bot.send(zoe, "/triage")
    assert "1 vraag heeft nog geen ambtenaar" in bot.replies(zoe)[-2].text
    assert "Ik heb een vraag" in bot.last_text(zoe)
    assert (await services(bot).questions.get(1)).topic_key is None


def test_invite_on_the_command_line_prints_a_working_code_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\ntoken = "123:abc"\n[municipality]\nname = "Velsen"\nkernen = ["IJmuiden"]\n',
        encoding="utf-8",
    )
    assert (
        main(["invite", "--role", "ambtenaar", "--handle", "afval", "--config", str(config)]) == 0
    )
    code = capsys.readouterr().out.strip()
    assert len(code) == 14 and code.count("-") == 2

    async def check() -> Invite | None:
        engine = create_engine(load_config(config).database_url)
        try:
            return await InviteService(create_sessionmaker(engine)).check(code)
        finally:
            await engine.dispose()

    found = asyncio.run(check())
    assert found is not None and found.handle == "afval" and found.role is Role.CIVIL_SERVANT
