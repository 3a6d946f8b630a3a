"""/volgen and /stil, as a resident uses them, and what they change about who gets announcements."""

from __future__ import annotations

from bot.services.broadcasts import Audience
from handlers.residents import following as volg
from handlers.residents import onboarding as onb
from models import User
from tests.flows import onboard
from tests.harness import BotHarness


async def stored(bot: BotHarness, telegram_id: int) -> User:
    user = await bot.app.bot_data["services"].users.get(telegram_id)
    assert user is not None
    return user


async def test_volgen_shows_the_own_kern_as_always_followed_and_toggles_others(
    bot: BotHarness,
) -> None:
    anna = bot.person(2001, "Anna")
    await onboard(bot, anna, "Driehuis")
    [menu] = await bot.send(anna, "/volgen")
    assert "Driehuis" in menu.text and "altijd" in menu.text
    labels = dict((data, label) for label, data in menu.buttons)
    assert labels[volg.TOGGLE.build("k", 3)] == "📍 Driehuis"
    assert labels[volg.TOGGLE.build("k", 0)] == "IJmuiden"
    assert labels[volg.TOGGLE.build("t", 0)] == "Melding openbare ruimte"
    assert labels[volg.DONE.build()] == "Klaar"

    await bot.press(anna, volg.TOGGLE.build("k", 0))
    assert bot.answers()[-1] == "Je volgt nu IJmuiden."
    edit = bot.calls("editMessageReplyMarkup")[-1]
    redrawn = dict((data, label) for label, data in edit.buttons)
    assert redrawn[volg.TOGGLE.build("k", 0)] == "✅ IJmuiden"

    await bot.press_data(anna, volg.TOGGLE.build("t", 2))
    await bot.press_data(anna, volg.TOGGLE.build("k", 3))  # the own kern cannot be switched off
    assert bot.answers()[-1] == "Je eigen kern volg je altijd."
    await bot.press_data(anna, volg.TOGGLE.build("k", 0))  # and off again
    assert bot.answers()[-1] == "Je volgt IJmuiden niet meer."

    await bot.press(anna, volg.DONE.build())
    assert bot.last_text(anna) == (
        "Je volgt: Driehuis, Bewonersinitiatieven en meedoen. Aanpassen kan altijd met /volgen."
    )
    user = await stored(bot, 2001)
    following = await bot.app.bot_data["services"].following.of(user.id)
    assert following.kernen == frozenset() and following.topics == {"initiatieven"}


async def test_following_decides_who_is_in_an_audience(bot: BotHarness) -> None:
    anna, bert = bot.person(2001, "Anna"), bot.person(2002, "Bert")
    await onboard(bot, anna, "Driehuis")
    await onboard(bot, bert, "Velserbroek")
    await bot.send(bert, "/volgen")
    await bot.press(bert, volg.TOGGLE.build("k", 3))  # Driehuis
    await bot.press(bert, volg.TOGGLE.build("t", 0))  # Melding openbare ruimte
    broadcasts = bot.app.bot_data["services"].broadcasts
    assert await broadcasts.count_audience(Audience("kernen", ("Driehuis",))) == 2
    assert await broadcasts.count_audience(Audience("kernen", ("Velserbroek",))) == 1
    assert await broadcasts.count_audience(Audience("topics", ("openbare-ruimte",))) == 1

    [reply] = await bot.send(bert, "/stil")
    assert "geen mededelingen meer" in reply.text
    assert await broadcasts.count_audience(Audience("kernen", ("Driehuis",))) == 1
    assert await broadcasts.count_audience(Audience("everyone")) == 1
    [menu] = await bot.send(bert, "/volgen")
    assert "stilgezet" in menu.text

    [reply] = await bot.send(bert, "/stil")
    assert "weer mededelingen" in reply.text
    assert await broadcasts.count_audience(Audience("everyone")) == 2


async def test_forged_follow_buttons_are_refused(bot: BotHarness) -> None:
    anna = bot.person(2001, "Anna")
    await onboard(bot, anna)
    await bot.press_data(anna, volg.TOGGLE.build("k", 99))
    await bot.forge(anna, "volg:t:-1")
    await bot.forge(anna, "volg:x:1")
    assert (
        bot.answers()[-3:]
        == [
            "Deze knop werkt niet meer. Kijk bij het laatste bericht, of begin opnieuw.",
        ]
        * 3
    )
    user = await stored(bot, 2001)
    following = await bot.app.bot_data["services"].following.of(user.id)
    assert not following.kernen and not following.topics


async def test_volgen_and_stil_need_onboarding(bot: BotHarness) -> None:
    stranger = bot.person(2009, "Sam")
    [reply] = await bot.send(stranger, "/volgen")
    assert "/start" in reply.text
    [reply] = await bot.send(stranger, "/stil")
    assert "/start" in reply.text
    await bot.press_data(stranger, volg.TOGGLE.build("k", 0))
    assert bot.answers()[-1] == "Stuur eerst /start."


async def test_volgen_speaks_english(bot: BotHarness) -> None:
    emma = bot.person(2003, "Emma", language_code="en")
    await bot.send(emma, "/start")
    await bot.press(emma, onb.CONSENT.build("en"))
    await bot.press(emma, "IJmuiden")
    [menu] = await bot.send(emma, "/volgen")
    assert "You always get announcements about your own kern, IJmuiden" in menu.text
    assert ("Report about public space", volg.TOGGLE.build("t", 0)) in menu.buttons
    [reply] = await bot.send(emma, "/stil")
    assert reply.text.startswith("🔕 You will get no more announcements")
