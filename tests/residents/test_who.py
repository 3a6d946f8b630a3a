"""/wie: civil servants by topic or kern, in their own words."""

from __future__ import annotations

from handlers.residents import who as wie
from tests.flows import onboard
from tests.harness import BotHarness
from tests.questions_support import join, qbot

__all__ = ["qbot"]


async def test_residents_see_who_works_on_a_topic_or_in_a_kern(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging")
    [choice] = await bot.send(anna, "/wie")
    assert "Over welk onderwerp" in choice.text
    calls = await bot.press(anna, "Melding openbare ruimte")
    [listing] = [c for c in calls if c.method == "editMessageText"]
    assert "<b>Piet de Vries</b> · Afval en Reiniging" in listing.text
    assert "Ik ben Piet de Vries en help je graag." in listing.text
    # Piet works in every kern (no kernen chosen), so IJmuiden shows him too.
    calls = await bot.press(anna, "IJmuiden")
    [listing] = [c for c in calls if c.method == "editMessageText"]
    assert "Piet de Vries" in listing.text
    # A topic nobody covers says so, and points to /vraag.
    other = next(
        label
        for label, data in listing.buttons
        if (wie.CHOOSE.parse(data) or ("",))[0] == "t" and "openbare" not in label.lower()
    )
    calls = await bot.press(anna, other)
    [empty] = [c for c in calls if c.method == "editMessageText"]
    assert "nog niemand" in empty.text and "/vraag" in empty.text


async def test_forged_wie_buttons_are_refused(qbot: BotHarness) -> None:
    anna = qbot.person(1001, "Anna")
    await onboard(qbot, anna)
    for data in (wie.CHOOSE.build("t", 999), "wie:k:-1", "wie:x:1", "wie:", "wie:t:1:x"):
        await qbot.forge(anna, data)
        assert qbot.answers()[-1].startswith("Deze knop werkt niet meer"), data
