"""A civil servant who leaves: open questions go to the backup, personal data goes."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from bot.cli import main
from models import CivilServant, EventKind, QuestionEvent, User
from tests.flows import onboard
from tests.harness import BotHarness
from tests.questions_support import ask, join, local, qbot, services, tick

__all__ = ["qbot"]


async def test_offboarding_hands_questions_to_the_backup_and_forgets_the_servant(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet, bep = bot.person(1001, "Anna"), bot.person(2001, "Piet"), bot.person(2002, "Bep")
    await onboard(bot, anna)
    await join(bot, bep, "Bep Jansen", "Afval en Reiniging")
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval", backup="Bep")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):  # Monday
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    assert "V-2026-0001" in bot.last_text(piet)

    piet_profile = await services(bot).civil_servants.find("afval")
    left = await services(bot).questions.offboard(piet_profile.id, now=local("2026-06-01 14:00"))
    await services(bot).users.erase(left.telegram_id)
    assert (left.name, left.rerouted) == ("Piet de Vries", 1)
    await tick(bot, "2026-06-01 14:01")
    assert "V-2026-0001" in bot.last_text(bep)

    async with bot.app.bot_data["sessions"]() as session:
        profile = await session.get(CivilServant, piet_profile.id)
        assert (profile.name, profile.introduction, profile.handle, profile.topics) == (
            "—",
            "",
            None,
            [],
        )
        assert await session.scalar(select(User).where(User.telegram_id == 2001)) is None
        kinds = list(await session.scalars(select(QuestionEvent.kind)))
    assert EventKind.SERVANT_LEFT in kinds
    # New questions on the topic go to Bep now.
    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        await ask(bot, anna)
    await tick(bot, "2026-06-02 09:00")
    assert "V-2026-0002" in bot.last_text(bep)


def test_offboard_on_the_command_line_names_who_is_unknown(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BURGERBEEST_TOKEN", "123:offboard-test")
    config = tmp_path / "config.toml"
    config.write_text('[municipality]\nname = "V"\nkernen = ["A"]\n', encoding="utf-8")
    assert main(["offboard", "nobody", "--config", str(config)]) == 2
    assert "no civil servant 'nobody'" in capsys.readouterr().err
