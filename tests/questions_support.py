"""What the question tests share: a bot with routing rules, civil servants who joined by invite,
residents who ask, and the dispatch tick run at a chosen moment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from bot.config import FollowUp, QuestionsConfig, RoutingRule
from bot.services import Services
from handlers.civil_servants import profile as prof
from handlers.dispatch import dispatch_tick
from models import Role
from tests.harness import BotHarness, Person, make_config

AMS = ZoneInfo("Europe/Amsterdam")
MODERATOR_ID = 9000
QUESTIONS = QuestionsConfig(
    rules=(
        RoutingRule("openbare-ruimte/afval", ("afval", "afval-2")),
        RoutingRule("evenementen", ("events",)),
    ),
    follow_ups=(
        FollowUp("evenementen", "date", {"nl": "Op welke datum?", "en": "On what date?"}),
        FollowUp("evenementen", "place", {"nl": "Waar precies?", "en": "Where exactly?"}),
        FollowUp("evenementen", "people", {"nl": "Met hoeveel mensen?", "en": "How many people?"}),
    ),
    dispatch_times=(time(9, 0), time(14, 0)),
    moderators=(MODERATOR_ID,),
)
AFVAL = "Het grofvuil naast de ondergrondse container is al een week niet opgehaald."


@pytest.fixture
async def qbot(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    harness = BotHarness(replace(make_config(tmp_path, database_url), questions=QUESTIONS))
    await harness.start()
    yield harness
    await harness.stop()
    assert not harness.errors, f"handlers raised: {harness.errors!r}"


def services(bot: BotHarness) -> Services:
    assert bot.app is not None
    return bot.app.bot_data["services"]


def local(text: str) -> datetime:
    """'2026-04-24 16:00' in Amsterdam, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


async def invite(
    bot: BotHarness, handle: str | None = None, role: Role = Role.CIVIL_SERVANT
) -> str:
    code, _ = await services(bot).invites.create(role, handle=handle)
    return code


async def join(
    bot: BotHarness,
    who: Person,
    name: str,
    department: str,
    *,
    handle: str | None = None,
    topic: str = "Melding openbare ruimte",
    backup: str | None = None,
) -> None:
    """/aanmelden with a fresh code, through every question of the profile."""
    code = await invite(bot, handle)
    await bot.send(who, f"/aanmelden {code}")
    await bot.send(who, name)
    await bot.send(who, department)
    await bot.press(who, topic)
    await bot.press(who, prof.TOPICS_DONE.build())
    await bot.press(who, prof.KERNEN_DONE.build())
    await bot.send(who, f"Ik ben {name} en help je graag.")
    await bot.press(who, backup or prof.BACKUP.build("none"))


async def ask(bot: BotHarness, who: Person, text: str = AFVAL, kern: str = "IJmuiden") -> str:
    """/vraag with a text the classifier is sure of; returns the confirmation text."""
    await bot.send(who, "/vraag")
    await bot.send(who, text)
    await bot.press(who, kern)
    await bot.press(who, "Versturen")
    return bot.last_text(who)


async def tick(bot: BotHarness, at: str) -> None:
    """Run the dispatch job at local time `at`."""
    with time_machine.travel(local(at), tick=False):
        await dispatch_tick(bot.context())


async def count(bot: BotHarness, model: type) -> int:
    assert bot.app is not None
    async with bot.app.bot_data["engine"].connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model)) or 0


def texts(bot: BotHarness, who: Person, since: int = 0) -> list[str]:
    return [c.text for c in bot.replies(who, since=since)]
