"""What residents (and forged clients) can throw at the bot, and the clear answer each gets."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from telegram.error import Forbidden

from handlers.residents import initiative as idee
from handlers.residents import onboarding as onb
from models import Initiative, User
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness


@pytest.fixture
async def anna(bot: BotHarness):
    person = bot.person(1001, "Anna", username="anna")
    await onboard(bot, person)
    return person


@pytest.mark.parametrize("blank", [" ", "\u200b\u200b", "\n\t \n", "\u200d", "\ufeff\u2060"])
async def test_empty_answer_is_asked_again(bot: BotHarness, anna, blank: str) -> None:
    await bot.send(anna, "/idee")
    [reply] = await bot.send(anna, blank)
    assert reply.text == "Ik kreeg een leeg bericht. Typ je antwoord, alsjeblieft."
    # Still at the title: the next text is taken as the title.
    [reply] = await bot.send(anna, "Hondenspeeltuin")
    assert "2/6" in reply.text


async def test_5000_characters_are_refused_with_the_limit(bot: BotHarness, anna) -> None:
    await bot.send(anna, "/idee")
    [reply] = await bot.send(anna, "a" * 5000)
    assert "5000 tekens" in reply.text and "maximaal 120" in reply.text
    await bot.send(anna, "Hondenspeeltuin")
    [reply] = await bot.send(anna, "woord " * 1000)
    assert "maximaal 2000" in reply.text
    assert all(len(c.text) <= 4096 for c in bot.replies(anna))


async def test_longest_answers_still_fit_one_summary_message(bot: BotHarness, anna) -> None:
    await bot.send(anna, "/idee")
    await bot.send(anna, "T" * 120)
    await bot.send(anna, "lange beschrijving " * 105)  # 1995 characters
    await bot.send(anna, "m" * 1000)
    # Nothing to tell the topic by: the resident is asked, and may not know either.
    assert bot.last_text(anna).startswith("Waar gaat je idee vooral over?")
    await bot.press(anna, idee.TOPIC_PICK.build("none"))
    await bot.press(anna, "IJmuiden")
    await bot.send(anna, "p" * 200)
    for need in ("helpers", "space", "permission", "money", "advice"):
        await bot.press(anna, idee.NEED.build(need))
    await bot.press(anna, idee.NEEDS_DONE.build())
    await bot.press(anna, idee.INTRO.build("yes"))
    summary = bot.last_text(anna)
    assert "Klopt dit?" in summary and len(summary) <= 4096


async def test_emoji_rtl_and_zero_width_text_is_kept_readable(bot: BotHarness, anna) -> None:
    title = "🐶 Hondenspeeltuin\u200b \u202eحديقة الكلاب\u202c 👩\u200d👩\u200d👧"
    await answer_until_summary(bot, anna, title)
    summary = bot.last_text(anna)
    expected = "🐶 Hondenspeeltuin حديقة الكلاب 👩\u200d👩\u200d👧"
    assert f"<b>{expected}</b>" in summary
    await bot.press(anna, "Opslaan")
    async with bot.app.bot_data["engine"].connect() as connection:
        assert (await connection.scalar(select(Initiative.title))) == expected


async def test_html_in_answers_is_shown_as_typed_not_interpreted(bot: BotHarness, anna) -> None:
    await answer_until_summary(bot, anna, '<b>Vet</b> & <a href="x">link</a>')
    summary = bot.last_text(anna)
    assert "&lt;b&gt;Vet&lt;/b&gt; &amp; &lt;a href=&#34;x&#34;&gt;link&lt;/a&gt;" in summary


@pytest.mark.parametrize("kind", ["sticker", "photo"])
async def test_sticker_or_photo_where_text_is_expected(bot: BotHarness, anna, kind: str) -> None:
    await bot.send(anna, "/idee")
    send = bot.send_sticker if kind == "sticker" else bot.send_photo
    hint, question = await send(anna)
    assert hint.text == "Ik kan hier alleen tekst lezen. Typ je antwoord, alsjeblieft."
    assert "1/6" in question.text


async def test_text_where_a_button_is_expected_shows_the_buttons_again(
    bot: BotHarness, anna
) -> None:
    await answer_until_summary(bot, anna)
    hint, summary = await bot.send(anna, "ja hoor")
    assert "knoppen" in hint.text
    assert "Klopt dit?" in summary.text and summary.buttons


async def test_unknown_command_outside_and_inside_a_conversation(bot: BotHarness, anna) -> None:
    [reply] = await bot.send(anna, "/frobnicate")
    assert reply.text == "Die opdracht ken ik niet. Stuur /help voor alles wat ik wel kan."
    await bot.send(anna, "/idee")
    hint, question = await bot.send(anna, "/mijn")
    assert "bezig met een idee" in hint.text and "1/6" in question.text


async def test_plain_text_outside_a_conversation_gets_a_pointer(bot: BotHarness, anna) -> None:
    [reply] = await bot.send(anna, "hallo?")
    assert "/idee" in reply.text and "/help" in reply.text


async def test_a_stale_button_from_an_earlier_step_is_refused(bot: BotHarness, anna) -> None:
    await answer_until_summary(bot, anna)
    # The kern keyboard of step 4 is still in the chat; pressing it now changes nothing.
    await bot.press_data(anna, idee.KERN_PICK.build(3))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    await bot.press(anna, "Opslaan")
    async with bot.app.bot_data["engine"].connect() as connection:
        assert (await connection.scalar(select(Initiative.kern))) == "IJmuiden"


@pytest.mark.parametrize(
    "data",
    [idee.KERN_PICK.build(99), "idee:kern:-1", "idee:kern:x", "idee:kern:", "idee:kern:0:extra"],
)
async def test_forged_kern_buttons_are_refused(bot: BotHarness, anna, data: str) -> None:
    await bot.send(anna, "/idee")
    await bot.send(anna, "Hondenspeeltuin")
    await bot.send(anna, "Een omheind veldje met een bankje en een prullenbak erbij.")
    await bot.send(anna, "Voor hondenbezitters.")
    await bot.forge(anna, data)
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    # The real button still works afterwards.
    await bot.press(anna, "Driehuis")
    assert "bepaalde plek in Driehuis" in bot.last_text(anna)


@pytest.mark.parametrize(
    "data",
    [
        idee.SAVE.build(),
        onb.KERN_PICK.build(2),
        onb.LANGUAGE.build("en"),
        idee.NEED.build("money"),
        "\u0000",
        "x" * 64,
    ],
)
async def test_forged_buttons_without_a_conversation_are_refused(
    bot: BotHarness, data: str
) -> None:
    stranger = bot.person(2002, "Stranger")
    await bot.forge(stranger, data)
    assert bot.answers()[-1] in (
        "Deze knop werkt niet meer. Kijk bij het laatste bericht, of begin opnieuw.",
        "Stuur eerst /start.",
    )
    async with bot.app.bot_data["engine"].connect() as connection:
        assert (await connection.scalar(select(Initiative.id))) is None
        # A forged press from a stranger does not sign them up.
        assert (await connection.scalar(select(User.kern).where(User.telegram_id == 2002))) is None


async def test_a_forged_save_before_the_draft_is_complete_saves_nothing(
    bot: BotHarness, anna
) -> None:
    await bot.send(anna, "/idee")
    await bot.send(anna, "Hondenspeeltuin")
    await bot.press_data(anna, idee.SAVE.build())
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    async with bot.app.bot_data["engine"].connect() as connection:
        assert (await connection.scalar(select(Initiative.id))) is None


@pytest.mark.parametrize("text", ["/idee", "/mijn", "/taal", "hallo"])
async def test_someone_who_has_not_done_start_is_sent_there(bot: BotHarness, text: str) -> None:
    stranger = bot.person(2002, "Stranger")
    [reply] = await bot.send(stranger, text)
    assert "Stuur /start" in reply.text


async def test_annuleer_with_nothing_to_cancel(bot: BotHarness, anna) -> None:
    [reply] = await bot.send(anna, "/annuleer")
    assert reply.text == "Er is niets om te annuleren."


async def test_a_user_who_blocked_the_bot_gets_no_retry_storm(bot: BotHarness, anna) -> None:
    bot.request.block(anna.id)
    attempts = await bot.send(anna, "/mijn")
    # One failed attempt to answer; the error handler does not try to send an apology.
    assert len(attempts) == 1
    assert [type(e) for e in bot.errors] == [Forbidden]
    bot.errors.clear()
    async with bot.app.bot_data["engine"].connect() as connection:
        active = await connection.scalar(select(User.active).where(User.telegram_id == anna.id))
    assert active is False
    # Writing again means they unblocked the bot: they are answered and active again.
    bot.request.failing_chats.clear()
    [reply] = await bot.send(anna, "/mijn")
    assert "nog geen ideeën" in reply.text
    async with bot.app.bot_data["engine"].connect() as connection:
        active = await connection.scalar(select(User.active).where(User.telegram_id == anna.id))
    assert active is True


async def test_an_internal_error_is_logged_and_the_resident_is_told(
    bot: BotHarness, anna, monkeypatch, caplog
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.app.bot_data["services"].initiatives, "of_author", broken)
    replies = await bot.send(anna, "/mijn")
    assert [r.text for r in replies] == [
        "Sorry, er ging bij mij iets mis. Wat je al had ingevuld is bewaard; probeer het zo nog "
        "eens."
    ]
    assert [type(e) for e in bot.errors] == [RuntimeError]
    bot.errors.clear()
    [record] = [r for r in caplog.records if r.message.startswith("error while handling")]
    assert "'user_id': 1001" in record.message and record.exc_info is not None
