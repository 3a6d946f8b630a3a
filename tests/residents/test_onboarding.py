"""/start, consent, kern, contact, /taal and /help, as a resident goes through them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.i18n import escape
from handlers.menus import CIVIL_SERVANT_COMMANDS, MODERATOR_COMMANDS, command_menu
from handlers.residents import onboarding as onb
from handlers.residents import privacy
from models import ContactMethod, User
from tests.flows import onboard
from tests.harness import BotHarness, make_config
from tests.questions_support import MODERATOR_ID, join, qbot

__all__ = ["qbot"]


async def stored(bot: BotHarness, telegram_id: int) -> User | None:
    return await bot.app.bot_data["services"].users.get(telegram_id)


async def test_newcomer_sees_what_the_bot_does_and_the_privacy_notice(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna", username="anna_velsen")
    [reply] = await bot.send(anna, "/start")
    assert "Burgerbeest Velsen" in reply.text
    assert "Privacy" in reply.text
    assert [data for _, data in reply.buttons] == [
        onb.CONSENT.build("nl"),
        onb.DECLINE.build("nl"),
        onb.NOTICE_LANGUAGE.build("en"),
    ]
    user = await stored(bot, 1001)
    # Before consent nothing but the Telegram id is kept.
    assert user is not None
    assert (user.consent_at, user.language, user.display_name, user.username, user.kern) == (
        None,
        None,
        None,
        None,
        None,
    )


async def test_consent_kern_and_contact_complete_the_onboarding(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna", username="anna_velsen")
    await bot.send(anna, "/start")
    await bot.press(anna, "Akkoord")
    question = bot.replies(anna)[-1]
    assert "In welke kern van Velsen" in question.text
    assert [label for label, _ in question.buttons][:2] == ["IJmuiden", "Velsen-Zuid"]
    assert len(question.buttons) == 7

    await bot.press(anna, "Driehuis")
    contact = bot.replies(anna)[-1]
    assert "@anna_velsen" in contact.buttons[0][0]
    await bot.press(anna, onb.CONTACT.build("username"))
    done = bot.last_text(anna)
    assert "Alles staat klaar, Anna" in done and "<b>Driehuis</b>" in done and "/idee" in done

    user = await stored(bot, 1001)
    assert user.onboarded and user.kern == "Driehuis" and user.language == "nl"
    assert user.display_name == "Anna" and user.username == "anna_velsen"
    assert user.contact_method is ContactMethod.USERNAME


async def test_without_username_the_profile_link_is_the_contact(bot: BotHarness) -> None:
    bram = bot.person(1002, "Bram")
    await bot.send(bram, "/start")
    await bot.press(bram, onb.CONSENT.build("nl"))
    await bot.press(bram, "Velserbroek")
    assert "Alles staat klaar, Bram" in bot.last_text(bram)
    assert (await stored(bot, 1002)).contact_method is ContactMethod.PROFILE_LINK


async def test_declining_keeps_nothing_but_the_telegram_id(bot: BotHarness) -> None:
    cor = bot.person(1003, "Cor", username="cor")
    await bot.send(cor, "/start")
    await bot.press(cor, onb.DECLINE.build("nl"))
    assert "niets behalve je Telegram-id" in bot.last_text(cor)
    user = await stored(bot, 1003)
    assert user.consent_at is None and user.display_name is None and user.username is None
    # Declined residents are pointed back to /start, not let in.
    [reply] = await bot.send(cor, "/idee")
    assert "/start" in reply.text and "aangemeld" in reply.text


async def test_privacy_notice_switches_language_and_consent_keeps_it(bot: BotHarness) -> None:
    dana = bot.person(1004, "Dana", language_code="nl")
    await bot.send(dana, "/start")
    calls = await bot.press(dana, onb.NOTICE_LANGUAGE.build("en"))
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert "Do you agree?" in edit.text
    assert ("🇳🇱 Nederlands", onb.NOTICE_LANGUAGE.build("nl")) in edit.buttons
    # Switching the language of the notice stores nothing.
    assert (await stored(bot, 1004)).language is None
    await bot.press_data(dana, onb.CONSENT.build("en"), edit.params["message_id"])
    assert "Which kern (neighbourhood) of Velsen" in bot.last_text(dana)
    assert (await stored(bot, 1004)).language == "en"


async def test_english_telegram_client_gets_english(bot: BotHarness) -> None:
    emma = bot.person(1005, "Emma", language_code="en-GB")
    [reply] = await bot.send(emma, "/start")
    assert "Welcome to <b>Burgerbeest Velsen</b>" in reply.text
    assert reply.buttons[0][1] == onb.CONSENT.build("en")


async def test_other_telegram_languages_get_dutch(bot: BotHarness) -> None:
    filip = bot.person(1006, "Filip", language_code="pl")
    [reply] = await bot.send(filip, "/start")
    assert "Welkom bij" in reply.text


async def test_returning_resident_is_welcomed_back_and_can_change_kern(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna, kern="IJmuiden")
    [reply] = await bot.send(anna, "/start")
    assert "Welkom terug, Anna" in reply.text
    await bot.press(anna, "Andere kern kiezen")
    await bot.press(anna, "Santpoort-Zuid")
    assert "Santpoort-Zuid" in bot.last_text(anna)
    assert (await stored(bot, 1001)).kern == "Santpoort-Zuid"


async def test_taal_switches_every_later_message(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    [choice] = await bot.send(anna, "/taal")
    assert [data for _, data in choice.buttons] == [
        onb.LANGUAGE.build("nl"),
        onb.LANGUAGE.build("en"),
    ]
    await bot.press(anna, "English")
    assert bot.last_text(anna) == "From now on I'll talk to you in English."
    [help_text] = await bot.send(anna, "/help")
    assert "What can you do here?" in help_text.text


async def test_help_lists_the_resident_commands(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    [reply] = await bot.send(anna, "/help")
    for command in ("/idee", "/mijn", "/taal", "/annuleer", "/help"):
        assert command in reply.text
    # "terug" is in no menu, so the help says it.
    assert "Typ <i>terug</i> om je vorige antwoord te veranderen" in reply.text
    assert "/start" in reply.text  # not signed up yet: told how to begin


async def test_command_menus_are_set_per_language(bot: BotHarness) -> None:
    menus = {
        c.params.get("language_code"): c.params["commands"] for c in bot.calls("setMyCommands")
    }
    assert set(menus) == {None, "nl", "en"}
    assert menus[None] == menus["nl"]
    names = [c["command"] for c in menus["en"]]
    assert names == [
        "idee",
        "vraag",
        "wie",
        "zoek",
        "mijn",
        "groep",
        "volgen",
        "stil",
        "taal",
        "help",
        "privacy",
        "over",
        "annuleer",
        "start",
    ]
    assert menus["en"][0]["description"] == "Share an idea for your neighbourhood"
    assert menus["nl"][0]["description"] == "Deel een idee voor je buurt"


async def test_a_bot_api_without_menus_does_not_stop_the_bot(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A self-hosted Bot API or stand-in that lacks setMyCommands: the bot starts and talks."""
    harness = BotHarness(make_config(tmp_path, database_url))
    harness.request.failing_methods["setMyCommands"] = (404, "Not Found")
    with caplog.at_level(logging.WARNING, logger="handlers.app"):
        await harness.start()
    try:
        assert "command menus not set" in caplog.text
        replies = await harness.send(harness.person(101, "Anna"), "/start")
        assert "Welkom" in replies[0].text
    finally:
        await harness.stop()
    assert not harness.errors


async def test_in_a_group_the_bot_only_points_to_the_private_chat(bot: BotHarness) -> None:
    """In a group everyone would read the answers (/mijn, an export): nothing is done there."""
    anna = bot.person(101, "Anna")
    group = {"id": -100123, "type": "supergroup", "title": "Buurtgroep IJmuiden"}
    before = len(bot.request.calls)
    for payload in (
        bot.updates.command(anna.payload, "privacy", ""),
        bot.updates.text(anna.payload, "Wie weet er iets van de nieuwe speeltuin?"),
    ):
        payload["message"]["chat"] = group
        await bot.feed(payload)
    [pointer] = bot.calls(since=before)
    assert pointer.method == "sendMessage" and pointer.chat_id == -100123
    assert "alleen in een privégesprek" in pointer.text and "@burgerbeest_test_bot" in pointer.text
    pressed = bot.updates.press(anna.payload, privacy.EXPORT.build(), message_id=7)
    pressed["callback_query"]["message"]["chat"] = group
    await bot.feed(pressed)
    assert [c.method for c in bot.calls(since=before + 1)] == ["answerCallbackQuery"]
    async with bot.app.bot_data["sessions"]() as session:
        assert await session.scalar(select(User).where(User.telegram_id == 101)) is None
    # In the private chat all is as ever.
    assert "Welkom" in (await bot.send(anna, "/start"))[0].text


async def test_only_the_telegram_id_row_exists_before_consent(bot: BotHarness) -> None:
    gert = bot.person(1007, "Gert", username="gert")
    await bot.send(gert, "/start")
    await bot.send(gert, "/start")
    async with bot.app.bot_data["engine"].connect() as connection:
        rows = (await connection.execute(select(User.telegram_id, User.username))).all()
    assert rows == [(1007, None)]


# --- who runs this, and the help and welcome by role ---------------------------------------


async def test_the_welcome_says_who_runs_this_before_the_consent_question(
    bot: BotHarness,
) -> None:
    anna = bot.person(1001, "Anna")
    [notice] = await bot.send(anna, "/start")
    independent = "ik ben niet de gemeente Velsen zelf"
    assert independent in notice.text and "/over" in notice.text
    assert notice.text.index(independent) < notice.text.index("Doe je mee?")
    calls = await bot.press(anna, onb.NOTICE_LANGUAGE.build("en"))
    [english] = [c for c in calls if c.method == "editMessageText"]
    assert "I am not the municipality of Velsen itself" in english.text
    await onboard(bot, anna)
    [welcome] = await bot.send(anna, "/start")
    assert "Welkom terug, Anna" in welcome.text and independent in welcome.text
    # A resident hears of no role and gets no staff commands.
    assert "Je bent hier" not in welcome.text and "/vragen" not in welcome.text


def menu_lines(language: str, *extra: str) -> list[str]:
    """The menu of a person with `extra` commands, as the help shows each entry (in HTML)."""
    return [f"/{c.command} – {escape(c.description)}" for c in command_menu(language, *extra)]


async def test_help_is_the_menu_of_each_role_with_its_descriptions(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet, mo = (
        bot.person(1001, "Anna"),
        bot.person(2001, "Piet"),
        bot.person(MODERATOR_ID, "Mo"),
    )
    for person in (anna, piet, mo):
        await onboard(bot, person)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging")

    [resident] = await bot.send(anna, "/help")
    assert all(line in resident.text for line in menu_lines("nl"))
    assert "/meld – " in resident.text and "/vergeetmij – " in resident.text
    assert "/vragen" not in resident.text and "/wachtrij" not in resident.text

    [servant] = await bot.send(piet, "/help")
    assert all(line in servant.text for line in menu_lines("nl", *CIVIL_SERVANT_COMMANDS))
    assert "Voor jou als ambtenaar" in servant.text and "/wachtrij" not in servant.text
    # Their own commands first.
    assert servant.text.index("/vragen") < servant.text.index("/idee")

    [moderator] = await bot.send(mo, "/help")
    assert all(line in moderator.text for line in menu_lines("nl", *MODERATOR_COMMANDS))
    assert "Voor jou als moderator" in moderator.text and "/vragen" not in moderator.text
    for command in ("/ban", "/unban", "/verberg"):
        assert f"{command} – " in moderator.text
    assert moderator.text.count("/peiling –") == 1

    await bot.send(mo, "/taal")
    await bot.press(mo, "English")
    [english] = await bot.send(mo, "/help")
    assert all(line in english.text for line in menu_lines("en", *MODERATOR_COMMANDS))
    assert "For you as a moderator" in english.text
    assert "Type <i>back</i> to change your previous answer" in english.text


async def test_staff_are_welcomed_with_their_role_and_first_commands(qbot: BotHarness) -> None:
    bot = qbot
    piet, mo = bot.person(2001, "Piet"), bot.person(MODERATOR_ID, "Mo")
    for person in (piet, mo):
        await onboard(bot, person)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging")
    [welcome] = await bot.send(piet, "/start")
    assert "Je bent hier ambtenaar. Begin met /vragen, /profiel, /afwezig." in welcome.text
    assert "moderator" not in welcome.text
    [welcome] = await bot.send(mo, "/start")
    assert "Je bent hier moderator. Begin met /wachtrij, /mededeling, /stats." in welcome.text
    assert len(welcome.text) <= 4096

    # A moderator who is also a civil servant hears of both, and the whole help still fits.
    await join(bot, mo, "Mo Jansen", "Communicatie")
    [both] = await bot.send(mo, "/start")
    assert "Je bent hier ambtenaar" in both.text and "Je bent hier moderator" in both.text
    assert "Voor jou als ambtenaar" in both.text and "Voor jou als moderator" in both.text
    assert len(both.text) <= 4096
