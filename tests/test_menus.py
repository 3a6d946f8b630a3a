"""Command menus per role: residents get the default, staff a menu in their own chat."""

from __future__ import annotations

from models import Role
from tests.harness import BotHarness
from tests.questions_support import invite, join, qbot

__all__ = ["qbot"]


def chat_menus(bot: BotHarness) -> dict[int, list[str]]:
    return {
        c.params["scope"]["chat_id"]: [command["command"] for command in c.params["commands"]]
        for c in bot.calls("setMyCommands")
        if (c.params.get("scope") or {}).get("type") == "chat"
    }


async def test_staff_get_their_menu_when_they_join_and_at_every_start(qbot: BotHarness) -> None:
    bot = qbot
    piet, mo = bot.person(2001, "Piet"), bot.person(3001, "Mo")
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging")
    code = await invite(bot, role=Role.MODERATOR)
    await bot.send(mo, f"/aanmelden {code}")
    menus = chat_menus(bot)
    assert menus[2001][:3] == ["vragen", "profiel", "afwezig"]
    assert "idee" in menus[2001] and "mededeling" not in menus[2001]
    assert menus[3001][:5] == ["mededeling", "gepland", "triage", "uitnodiging", "stats"]
    # A resident's chat gets no menu of its own.
    assert set(menus) == {2001, 3001}

    await bot.restart()
    assert set(chat_menus(bot)) == {2001, 3001}
