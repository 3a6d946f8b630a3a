"""/idee from first question to saved initiative, editing, cancelling, restarts; and /mijn."""

from __future__ import annotations

from sqlalchemy import select

from handlers.residents import initiative as idee
from models import Initiative, InitiativeStatusChange
from tests.flows import DESCRIPTION, answer_until_summary, onboard
from tests.harness import BotHarness


async def saved_initiatives(bot: BotHarness) -> list[Initiative]:
    async with bot.app.bot_data["engine"].connect() as connection:
        return list((await connection.execute(select(Initiative))).all())


async def test_a_whole_initiative_is_asked_summarised_and_saved(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna", username="anna")
    await onboard(bot, anna)
    [intro, question] = await bot.send(anna, "/idee")
    assert "zes korte vragen" in intro.text and "1/6" in question.text
    assert "2/6" in (await bot.send(anna, "Hondenspeeltuin"))[-1].text
    assert "3/6" in (await bot.send(anna, DESCRIPTION))[-1].text
    [kern_question] = await bot.send(anna, "Voor iedereen met een hond in de wijk.")
    assert "4/6" in kern_question.text and len(kern_question.buttons) == 7
    await bot.press(anna, "IJmuiden")
    assert "bepaalde plek in IJmuiden" in bot.last_text(anna)
    [needs] = await bot.send(anna, "Park Schoonenberg")
    assert "5/6" in needs.text and len(needs.buttons) == 6

    calls = await bot.press(anna, idee.NEED.build("helpers"))
    [marked] = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert marked.buttons[0][0] == "✅ Mensen die meehelpen"
    await bot.press(anna, idee.NEED.build("money"))
    await bot.press(anna, idee.NEED.build("money"))  # pressed twice: off again
    await bot.press(anna, idee.NEED.build("permission"))
    await bot.press(anna, idee.NEEDS_DONE.build())
    assert "6/6" in bot.last_text(anna)
    await bot.press(anna, idee.INTRO.build("yes"))

    summary = bot.last_text(anna)
    assert "<b>Hondenspeeltuin</b>" in summary
    assert DESCRIPTION in summary
    assert "IJmuiden — Park Schoonenberg" in summary
    assert "Mensen die meehelpen, Toestemming of een vergunning" in summary
    assert "Geld" not in summary
    assert "ja, graag" in summary

    await bot.press(anna, "Opslaan")
    assert "Opgeslagen! Je idee <b>Hondenspeeltuin</b> heeft nummer 1" in bot.last_text(anna)
    [row] = await saved_initiatives(bot)
    assert (row.title, row.kern, row.place, row.allow_introductions) == (
        "Hondenspeeltuin",
        "IJmuiden",
        "Park Schoonenberg",
        True,
    )
    assert row.needs == ["helpers", "permission"]
    async with bot.app.bot_data["engine"].connect() as connection:
        history = (await connection.execute(select(InitiativeStatusChange.status))).all()
    assert [h.status.value for h in history] == ["idee"]


async def test_mijn_lists_own_initiatives_with_status(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    bram = bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    [empty] = await bot.send(anna, "/mijn")
    assert "nog geen ideeën" in empty.text
    for title in ("Hondenspeeltuin", "Moestuin bij school"):
        await answer_until_summary(bot, anna, title)
        await bot.press(anna, "Opslaan")
    await answer_until_summary(bot, bram, "Jeu de boules-baan")
    await bot.press(bram, "Opslaan")

    [listing] = await bot.send(anna, "/mijn")
    assert "Jouw ideeën</b> (2)" in listing.text
    assert listing.text.index("Moestuin bij school") < listing.text.index("Hondenspeeltuin")
    assert "Status: idee" in listing.text
    assert "Jeu de boules" not in listing.text


async def test_mijn_shows_the_newest_and_counts_the_rest(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    for number in range(17):
        await answer_until_summary(bot, anna, f"Idee nummer {number}")
        await bot.press(anna, "Opslaan")
    [listing] = await bot.send(anna, "/mijn")
    assert "Jouw ideeën</b> (17)" in listing.text
    assert "Idee nummer 16" in listing.text and "Idee nummer 1<" not in listing.text
    assert "nog 2 oudere ideeën" in listing.text


async def test_a_short_description_gets_one_pointed_follow_up(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/idee")
    await bot.send(anna, "Bankjes")
    [follow_up] = await bot.send(anna, "meer bankjes")
    assert "nog wat kort" in follow_up.text
    [next_question] = await bot.send(anna, "Drie bankjes langs de Kennemerlaan bij de bushalte.")
    assert "3/6" in next_question.text
    await bot.send(anna, "Voor ouderen die even willen uitrusten.")
    await bot.press(anna, "IJmuiden")
    await bot.press(anna, idee.PLACE_SKIP.build())
    await bot.press(anna, idee.NEEDS_DONE.build())
    await bot.press(anna, idee.INTRO.build("no"))
    summary = bot.last_text(anna)
    assert "meer bankjes\n\nDrie bankjes langs de Kennemerlaan" in summary
    assert "nog niet bekend" in summary  # no needs chosen
    assert "<b>Waar:</b> IJmuiden\n" in summary  # place skipped


async def test_a_vague_description_gets_a_different_follow_up(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/idee")
    await bot.send(anna, "Groen")
    [follow_up] = await bot.send(anna, "iets met meer groen in de straat ofzo, weet ik niet")
    assert "één ding" in follow_up.text


async def test_editing_an_answer_returns_to_the_summary(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await answer_until_summary(bot, anna)
    await bot.press(anna, "Wijzigen")
    await bot.press(anna, idee.CHANGE_FIELD.build("title"))
    assert "1/6" in bot.last_text(anna)
    [summary] = await bot.send(anna, "Losloopveld voor honden")
    assert "<b>Losloopveld voor honden</b>" in summary.text
    # "Where" asks kern and place again, then shows the summary.
    await bot.press(anna, "Wijzigen")
    await bot.press(anna, idee.CHANGE_FIELD.build("where"))
    await bot.press(anna, "Velsen-Noord")
    [summary] = await bot.send(anna, "Noorderpark")
    assert "Velsen-Noord — Noorderpark" in summary.text
    await bot.press(anna, "Opslaan")
    [row] = await saved_initiatives(bot)
    assert (row.title, row.kern) == ("Losloopveld voor honden", "Velsen-Noord")


async def test_cancel_by_command_and_by_button_saves_nothing(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/idee")
    await bot.send(anna, "Hondenspeeltuin")
    [reply] = await bot.send(anna, "/annuleer")
    assert reply.text == "Gestopt. Er is niets opgeslagen."
    # After cancelling, text is no longer taken as an answer.
    [reply] = await bot.send(anna, "Een omheind veldje")
    assert "/idee" in reply.text
    await answer_until_summary(bot, anna)
    await bot.press(anna, "Annuleren")
    assert bot.last_text(anna) == "Gestopt. Er is niets opgeslagen."
    assert await saved_initiatives(bot) == []


async def test_conversation_survives_a_clean_restart(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/idee")
    await bot.send(anna, "Hondenspeeltuin")
    await bot.send(anna, DESCRIPTION)
    [kern_question] = await bot.send(anna, "Voor iedereen met een hond.")
    await bot.restart()
    # The kern buttons sent before the restart still work.
    await bot.press_data(anna, idee.KERN_PICK.build(0), kern_question.result["message_id"])
    assert "bepaalde plek in IJmuiden" in bot.last_text(anna)
    await bot.send(anna, "Park Schoonenberg")
    await bot.press_data(anna, idee.NEEDS_DONE.build())
    await bot.press_data(anna, idee.INTRO.build("yes"))
    await bot.press(anna, "Opslaan")
    [row] = await saved_initiatives(bot)
    assert (row.title, row.description, row.place) == (
        "Hondenspeeltuin",
        DESCRIPTION,
        "Park Schoonenberg",
    )


async def test_conversation_survives_a_crash(bot: BotHarness) -> None:
    """No clean stop: a second application on the same database takes over mid-conversation."""
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/idee")
    await bot.send(anna, "Hondenspeeltuin")
    await bot.send(anna, DESCRIPTION)

    survivor = type(bot)(bot.config)
    await survivor.start()
    try:
        [question] = await survivor.send(anna, "Voor iedereen met een hond.")
        assert "4/6" in question.text
    finally:
        await survivor.stop()
    assert not survivor.errors
