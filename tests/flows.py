"""Conversations many tests need, spoken as a resident would."""

from __future__ import annotations

from handlers.residents import initiative as idee
from handlers.residents import onboarding as onb
from tests.harness import BotHarness, Person

DESCRIPTION = (
    "Een omheind veldje waar honden los kunnen rennen, met een bankje en een prullenbak "
    "voor de baasjes."
)


async def onboard(bot: BotHarness, who: Person, kern: str = "IJmuiden") -> None:
    await bot.send(who, "/start")
    language = "en" if str(who.payload.get("language_code", "")).startswith("en") else "nl"
    await bot.press(who, onb.CONSENT.build(language))
    await bot.press(who, kern)
    if who.payload.get("username"):
        await bot.press(who, onb.CONTACT.build("username"))


async def answer_until_summary(
    bot: BotHarness, who: Person, title: str = "Hondenspeeltuin", description: str = DESCRIPTION
) -> None:
    """From /idee to the summary, with concrete answers and the resident's own kern."""
    await bot.send(who, "/idee")
    await bot.send(who, title)
    await bot.send(who, description)
    await bot.send(who, "Voor iedereen met een hond in de wijk.")
    await bot.press(who, "IJmuiden")
    await bot.send(who, "Park Schoonenberg")
    await bot.press(who, idee.NEED.build("helpers"))
    await bot.press(who, idee.NEED.build("permission"))
    await bot.press(who, idee.NEEDS_DONE.build())
    await bot.press(who, idee.INTRO.build("yes"))


async def save_idea(
    bot: BotHarness, who: Person, title: str, description: str = DESCRIPTION
) -> None:
    """Save an idea; if similar ones are shown, say it is different."""
    await answer_until_summary(bot, who, title, description)
    await bot.press(who, "Opslaan")
    if "vergelijkbaar idee" in bot.last_text(who):
        await bot.press(who, idee.DIFFERENT.build())
    assert "Opgeslagen!" in bot.last_text(who)
