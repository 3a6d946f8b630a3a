"""Residents who want the same thing find each other: similar ideas in /idee, joining,
introductions with double opt-in, the anonymous relay, late matches and /zoek."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from bot import semantic
from bot.migrate import downgrade, upgrade
from bot.services.matching import JOIN_NOTE_WAIT
from bot.services.meeting import NOTE_MAX
from handlers.residents import initiative as idee
from handlers.residents import introductions
from handlers.residents import mine as mijn
from handlers.residents.introductions import send_join_notices, send_match_notices
from handlers.residents.meeting import OPEN
from models import Initiative, Introduction, MatchNotice, MeetingNote, Supporter
from tests.flows import answer_until_summary, onboard, save_idea
from tests.harness import BotHarness, Person

# Ideas are compared by title and description: an idea that is not about dogs gets its own.
GARDEN = "Groenten kweken met de kinderen van de school."
REPAIR = "Eens per maand samen kapotte spullen repareren, met koffie erbij."


async def count(bot: BotHarness, model: type) -> int:
    async with bot.app.bot_data["engine"].connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model))


async def residents(bot: BotHarness) -> tuple[Person, Person]:
    anna = bot.person(1001, "Anna", username="anna_ijm")
    bram = bot.person(1002, "Bram")  # no username: reached through a profile link
    await onboard(bot, anna)
    await onboard(bot, bram)
    return anna, bram


async def test_similar_ideas_are_shown_before_saving(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    similar = bot.replies(bram)[-1]
    assert "vergelijkbaar idee" in similar.text
    assert "1. <b>Hondenspeeltuin in het park</b> · IJmuiden · 1 persoon" in similar.text
    assert [data for _, data in similar.buttons] == [
        idee.JOIN.build(1),
        idee.MEET.build(1),
        idee.DIFFERENT.build(),
    ]


async def test_own_ideas_are_not_offered_as_similar(bot: BotHarness) -> None:
    anna, _ = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
    await bot.press(anna, "Opslaan")
    assert "Opgeslagen!" in bot.last_text(anna)


async def test_unrelated_ideas_are_saved_straight_away(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    # Its own description: ideas are compared by title and description.
    await answer_until_summary(bot, bram, "Repair café in het buurthuis", REPAIR)
    await bot.press(bram, "Opslaan")
    assert "Opgeslagen!" in bot.last_text(bram)


async def test_both_accept_and_contacts_are_exchanged(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.MEET.build(1))
    assert "gevraagd of jullie kennis willen maken" in bot.last_text(bram)
    assert await count(bot, Initiative) == 2  # Bram's own idea is saved too

    request = bot.replies(anna)[-1]
    assert "wil graag kennismaken" in request.text
    assert "Hondenspeeltuin in het park" in request.text
    assert "Hun idee: <b>Speeltuin voor honden</b> · IJmuiden" in request.text
    # No contact details travel before both said yes.
    assert "Bram" not in request.text and "1002" not in request.text

    await bot.press(anna, introductions.DECIDE.build("accept", 1))
    to_anna, to_bram = bot.replies(anna)[-1].text, bot.replies(bram)[-1].text
    assert 'via <a href="tg://user?id=1002">Bram</a>' in to_anna
    assert "via @anna_ijm" in to_bram


async def test_a_decline_is_quiet_and_final(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.MEET.build(1))
    sent_to_bram = len(bot.replies(bram))
    await bot.press(anna, introductions.DECIDE.build("decline", 1))
    assert "laten we het hierbij" in bot.last_text(anna)
    # Bram is not told, and no contact details went anywhere.
    assert len(bot.replies(bram)) == sent_to_bram
    assert all("@anna_ijm" not in c.text for c in bot.replies(bram))
    # Pressing again changes nothing; asking again for the same pair is refused.
    await bot.press_data(anna, introductions.DECIDE.build("accept", 1))
    assert bot.answers()[-1] == "Je hebt hier al antwoord op gegeven."
    await answer_until_summary(bot, bram, "Hondenspeeltuin bij het park")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.MEET.build(1))
    assert "al eens gevraagd of jullie willen kennismaken" in bot.last_text(bram)
    assert await count(bot, Introduction) == 1


async def test_only_the_initiator_can_answer_an_introduction(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    cara = bot.person(1003, "Cara", username="cara")
    await onboard(bot, cara)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.MEET.build(1))
    for forger in (bram, cara):
        await bot.press_data(forger, introductions.DECIDE.build("accept", 1))
        assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert all("@anna_ijm" not in c.text for who in (bram, cara) for c in bot.replies(who))


async def test_joining_counts_and_tells_the_initiator(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    cara = bot.person(1003, "Cara")
    await onboard(bot, cara)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    told_anna = len(bot.replies(anna))
    await bot.press(bram, idee.JOIN.build(1))
    joined, ask = bot.replies(bram)[-2:]
    assert "Je doet nu mee" in joined.text
    assert "Wil je iets zeggen tegen wie <b>Hondenspeeltuin in het park</b> bedacht?" in ask.text
    assert ask.buttons == [("Overslaan", introductions.NOTE_SKIP.build(1))]
    assert await count(bot, Initiative) == 1 and await count(bot, Supporter) == 1
    # The initiator hears of the join together with the joiner's own words.
    assert len(bot.replies(anna)) == told_anna
    [sent] = await bot.send(bram, "Ik kan op zaterdag helpen <b>!</b>")
    assert "Verstuurd" in sent.text
    [notice] = bot.replies(anna)[told_anna:]
    assert "er doet iemand mee met je idee <b>Hondenspeeltuin in het park</b>" in notice.text
    assert "nu 2 mensen" in notice.text
    assert "Ik kan op zaterdag helpen &lt;b&gt;!&lt;/b&gt;" in notice.text
    # Kept with the membership: the meeting place shows it to the initiator.
    assert await count(bot, MeetingNote) == 1
    await bot.send(anna, "/groep")
    await bot.press(anna, "Wie doet mee")
    assert "Ik kan op zaterdag helpen" in bot.last_text(anna)
    # The next resident sees two people behind it.
    await answer_until_summary(bot, cara, "Hondenspeeltuin")
    await bot.press(cara, "Opslaan")
    assert "· IJmuiden · 2 mensen" in bot.last_text(cara)


async def test_the_note_after_joining_may_be_skipped(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.JOIN.build(1))
    told_anna = len(bot.replies(anna))
    # Something else than words: asked again, the skip button with it.
    [again] = await bot.send_sticker(bram)
    assert "Typ een paar woorden" in again.text and again.buttons
    [too_long] = await bot.send(bram, "x" * (NOTE_MAX + 1))
    assert "te lang" in too_long.text
    assert len(bot.replies(anna)) == told_anna
    await bot.press(bram, "Overslaan")
    assert "weten dat je meedoet" in bot.last_text(bram)
    [notice] = bot.replies(anna)[told_anna:]
    assert "er doet iemand mee" in notice.text and "schreef erbij" not in notice.text
    assert await count(bot, MeetingNote) == 0
    # The step is over: the skip button and a typed line mean nothing more.
    await bot.press_data(bram, introductions.NOTE_SKIP.build(1))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    await bot.send(bram, "hallo")
    assert len(bot.replies(anna)) == told_anna + 1


async def test_annuleer_after_joining_still_tells_the_initiator(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.JOIN.build(1))
    await bot.send(bram, "/annuleer")
    assert "weten dat je meedoet" in bot.last_text(bram)
    assert "er doet iemand mee" in bot.last_text(anna)


async def join_and_walk_away(bot: BotHarness, anna: Person, bram: Person) -> None:
    """Anna's initiative #1; Bram joins it and leaves the question for a note unanswered."""
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.JOIN.build(1))
    assert "Wil je iets zeggen tegen wie" in bot.last_text(bram)


async def test_a_join_without_an_answer_is_announced_once_after_a_while(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    with time_machine.travel("2026-06-01 09:00 +0000", tick=False) as traveller:
        await join_and_walk_away(bot, anna, bram)
        told_anna = len(bot.replies(anna))
        context = bot.context()
        assert await send_join_notices(context) == 0  # Bram may still be typing
        traveller.shift(JOIN_NOTE_WAIT - timedelta(minutes=1))
        assert await send_join_notices(context) == 0
        assert len(bot.replies(anna)) == told_anna

        traveller.shift(timedelta(minutes=1))
        assert await send_join_notices(context) == 1
        [notice] = bot.replies(anna)[told_anna:]
        assert notice.text == (
            "Goed nieuws: er doet iemand mee met je idee <b>Hondenspeeltuin in het park</b>. "
            "Er staan nu 2 mensen achter."
        )
        assert notice.buttons == [("👥 Naar de groep", OPEN.build(1))]

        # Once: not by the next run, nor when Bram comes back and skips the note after all.
        traveller.shift(timedelta(hours=1))
        assert await send_join_notices(context) == 0
        await bot.press(bram, "Overslaan")
        assert "weten dat je meedoet" in bot.last_text(bram)
        assert len(bot.replies(anna)) == told_anna + 1


async def test_a_note_before_the_wait_is_the_only_notice(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    with time_machine.travel("2026-06-01 09:00 +0000", tick=False) as traveller:
        await join_and_walk_away(bot, anna, bram)
        told_anna = len(bot.replies(anna))
        traveller.shift(timedelta(minutes=10))
        await bot.send(bram, "Ik kan op zaterdag helpen.")
        [notice] = bot.replies(anna)[told_anna:]
        assert "er doet iemand mee" in notice.text
        assert "<i>Ik kan op zaterdag helpen.</i>" in notice.text

        traveller.shift(JOIN_NOTE_WAIT)
        assert await send_join_notices(bot.context()) == 0
        assert len(bot.replies(anna)) == told_anna + 1


async def test_a_note_after_the_job_told_the_initiator_still_reaches_them(
    bot: BotHarness,
) -> None:
    anna, bram = await residents(bot)
    with time_machine.travel("2026-06-01 09:00 +0000", tick=False) as traveller:
        await join_and_walk_away(bot, anna, bram)
        traveller.shift(JOIN_NOTE_WAIT + timedelta(minutes=5))
        assert await send_join_notices(bot.context()) == 1
        told_anna = len(bot.replies(anna))

        [sent] = await bot.send(bram, "Ik kan op zaterdag helpen <b>!</b>")
        assert "Verstuurd" in sent.text
        [note] = bot.replies(anna)[told_anna:]
        assert note.text == (
            "<b>Bram</b> schreef bij je idee <b>Hondenspeeltuin in het park</b>:\n"
            "<i>Ik kan op zaterdag helpen &lt;b&gt;!&lt;/b&gt;</i>"
        )
        assert note.buttons == [("👥 Naar de groep", OPEN.build(1))]
        assert "er doet iemand mee" not in note.text
        assert await count(bot, MeetingNote) == 1


async def test_the_join_notice_skips_a_blocked_initiator_and_retries_a_passing_failure(
    bot: BotHarness,
) -> None:
    anna, bram = await residents(bot)
    with time_machine.travel("2026-06-01 09:00 +0000", tick=False) as traveller:
        await join_and_walk_away(bot, anna, bram)
        traveller.shift(JOIN_NOTE_WAIT)
        context = bot.context()
        bot.request.failing_chats[anna.id] = (502, "Bad Gateway")
        assert await send_join_notices(context) == 0
        del bot.request.failing_chats[anna.id]
        told_anna = len(bot.replies(anna))
        assert await send_join_notices(context) == 1  # given back, sent with the next run
        assert "er doet iemand mee" in bot.last_text(anna)
        assert len(bot.replies(anna)) == told_anna + 1

    cara = bot.person(1003, "Cara")
    await onboard(bot, cara)
    with time_machine.travel("2026-06-02 09:00 +0000", tick=False) as traveller:
        await answer_until_summary(bot, cara, "Hondenspeeltuin")
        await bot.press(cara, "Opslaan")
        await bot.press(cara, idee.JOIN.build(1))
        bot.request.block(anna.id)
        traveller.shift(JOIN_NOTE_WAIT)
        before = len(bot.request.calls)
        assert await send_join_notices(context) == 0
        assert await send_join_notices(context) == 0  # tried once: she is inactive now
        assert len([c for c in bot.calls(since=before) if c.chat_id == anna.id]) == 1


async def test_joins_from_before_the_migration_are_not_announced_again(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    with time_machine.travel("2026-06-01 09:00 +0000", tick=False) as traveller:
        await join_and_walk_away(bot, anna, bram)
        # The database as it was before joins knew whether their initiator was told.
        engine = bot.app.bot_data["engine"]
        await downgrade(engine, "0013")
        await upgrade(engine)
        traveller.shift(JOIN_NOTE_WAIT)
        told_anna = len(bot.replies(anna))
        assert await send_join_notices(bot.context()) == 0
        assert len(bot.replies(anna)) == told_anna


async def test_a_forged_join_of_an_initiative_not_offered_is_refused(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await save_idea(bot, anna, "Moestuin bij de basisschool", GARDEN)
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press_data(bram, idee.JOIN.build(2))  # exists, but was not offered
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert await count(bot, Supporter) == 0


async def test_the_relay_passes_messages_without_names(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.MEET.build(1))
    await bot.press(bram, "Stuur een bericht")
    assert "zonder je naam" in bot.last_text(bram)
    await bot.send(bram, "Hoi! Zullen we samen naar de gemeente stappen?")
    assert bot.last_text(bram) == "Doorgestuurd."
    relayed = bot.replies(anna)[-1]
    assert "Hoi! Zullen we samen naar de gemeente stappen?" in relayed.text
    assert "Bram" not in relayed.text
    await bot.press(anna, "Antwoorden")
    await bot.send(anna, "Goed plan <b>!</b>")
    assert "Goed plan &lt;b&gt;!&lt;/b&gt;" in bot.last_text(bram)
    # After a decline the relay is closed.
    await bot.press(anna, introductions.DECIDE.build("decline", 1))
    await bot.press_data(bram, introductions.MESSAGE.build(1))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")


async def test_the_relay_takes_text_only_and_stops_on_annuleer(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.MEET.build(1))
    await bot.press(bram, "Stuur een bericht")
    [sticker] = await bot.send_sticker(bram)
    assert sticker.text.startswith("Ik kan alleen tekst doorsturen")
    before = len(bot.replies(anna))
    [stopped] = await bot.send(bram, "/annuleer")
    assert stopped.text.startswith("Gestopt; er is niets doorgestuurd")
    # Stopped: the next text goes to nobody.
    await bot.send(bram, "Hoi! Zullen we samen naar de gemeente stappen?")
    assert len(bot.replies(anna)) == before


async def test_late_matches_come_at_most_once_a_day(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    cara = bot.person(1003, "Cara")
    await onboard(bot, cara)
    with time_machine.travel("2026-06-01 09:00 +0000", tick=False) as traveller:
        await save_idea(bot, anna, "Hondenspeeltuin in het park")
        await save_idea(bot, bram, "Speeltuin voor honden")
        assert await count(bot, MatchNotice) == 1

        context = bot.context()
        assert await send_match_notices(context) == 1
        notice = bot.replies(anna)[-1]
        assert "Nieuwe ideeën die lijken op het jouwe" in notice.text
        assert "Speeltuin voor honden" in notice.text
        assert await send_match_notices(context) == 0  # nothing new

        traveller.shift(timedelta(hours=3))
        await save_idea(bot, cara, "Hondenspeeltuin bij het park")
        before = len(bot.replies(anna))
        # Bram hears of Cara's idea (his first notice); Anna had her message today.
        assert await send_match_notices(context) == 1
        assert "Hondenspeeltuin bij het park" in bot.last_text(bram)
        assert len(bot.replies(anna)) == before

        traveller.shift(timedelta(days=1))
        assert await send_match_notices(context) == 1
        assert "Hondenspeeltuin bij het park" in bot.last_text(anna)

    # The button in the notice asks the newer initiator for an introduction.
    await bot.press(anna, "1: stel me voor")
    assert "gevraagd of jullie kennis willen maken" in bot.last_text(anna)
    assert "wil graag kennismaken" in bot.last_text(cara)


async def test_a_forged_late_match_button_is_refused(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await save_idea(bot, bram, "Moestuin bij de basisschool", GARDEN)
    await bot.press_data(anna, introductions.LATE_MEET.build(2, 1))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert await count(bot, Introduction) == 0


async def test_zoek_finds_pages_and_filters_by_kern(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    kernen = ["IJmuiden", "Driehuis"]
    for number in range(7):
        await answer_until_summary(bot, anna, f"Speeltuin {number} voor kinderen")
        if number % 2:
            await bot.press(anna, "Wijzigen")
            await bot.press(anna, idee.CHANGE_FIELD.build("where"))
            await bot.press(anna, kernen[1])
            await bot.press(anna, idee.PLACE_SKIP.build())
        await bot.press(anna, "Opslaan")
        if "vergelijkbaar idee" in bot.last_text(anna):
            await bot.press(anna, idee.DIFFERENT.build())
    await save_idea(bot, anna, "Repair café", REPAIR)

    [first] = await bot.send(bram, "/zoek speeltuin")
    assert "<b>7 ideeën</b> die lijken op <i>speeltuin</i> (in alle kernen)" in first.text
    assert "Pagina 1 van 2" in first.text and "Repair" not in first.text
    calls = await bot.press(bram, "Volgende")
    [page2] = [c for c in calls if c.method == "editMessageText"]
    assert "Pagina 2 van 2" in page2.text and page2.text.count("#") == 2
    calls = await bot.press(bram, "Alleen in IJmuiden")
    [mine] = [c for c in calls if c.method == "editMessageText"]
    assert "<b>4 ideeën</b>" in mine.text and "Driehuis" not in mine.text


async def test_zoek_without_results_or_words_gets_help(bot: BotHarness) -> None:
    anna, _ = await residents(bot)
    # No words: the newest ideas in the own kern (none yet), and how to search by words.
    [browse] = await bot.send(anna, "/zoek")
    assert "nog geen ideeën in IJmuiden" in browse.text
    assert "Zoek op woorden: typ ze na /zoek" in browse.text
    [none] = await bot.send(anna, "/zoek xyzzy <script>")
    assert "Ik vond geen ideeën die lijken op <i>xyzzy &lt;script&gt;</i>" in none.text
    assert "/idee" in none.text


async def test_supporters_hear_of_status_changes_and_see_what_they_joined(
    bot: BotHarness,
) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.JOIN.build(1))
    await bot.press(bram, "Overslaan")

    [listing] = await bot.send(bram, "/mijn")
    assert "Ideeën waar je aan meedoet" in listing.text
    assert "Hondenspeeltuin in het park" in listing.text
    # Only the initiator moves it on; both go to its meeting place from here.
    assert listing.buttons == [("👥 #1", OPEN.build(1))]

    [own] = await bot.send(anna, "/mijn")
    assert own.buttons == [("✏️ #1", mijn.STATUS.build(1)), ("👥 #1", OPEN.build(1))]
    await bot.press(anna, mijn.STATUS.build(1))
    options = bot.replies(anna)[-1]
    assert [data for _, data in options.buttons] == [
        mijn.SET_STATUS.build(1, "in_gesprek"),
        mijn.SET_STATUS.build(1, "gestopt"),
    ]
    await bot.press(anna, mijn.SET_STATUS.build(1, "in_gesprek"))
    assert "is nu in gesprek" in bot.last_text(anna)
    assert bot.last_text(bram) == (
        "Nieuws over <b>Hondenspeeltuin in het park</b>, waar je aan meedoet: "
        "de status is nu in gesprek."
    )


async def test_status_changes_are_checked_on_the_server(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    for who, data in (
        (bram, mijn.SET_STATUS.build(1, "in_gesprek")),  # not his initiative
        (anna, mijn.SET_STATUS.build(1, "gerealiseerd")),  # idee cannot jump to gerealiseerd
        (bram, mijn.STATUS.build(1)),
    ):
        await bot.press_data(who, data)
        assert bot.answers()[-1].startswith("Deze knop werkt niet meer"), data
    await bot.forge(anna, "mijn:set:1:onzin")  # no such status
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    [listing] = await bot.send(anna, "/mijn")
    assert "Status: idee" in listing.text


async def test_stored_texts_are_normalised_again_when_the_rules_change(
    bot: BotHarness, monkeypatch
) -> None:
    anna, _ = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    async with bot.app.bot_data["engine"].begin() as connection:
        await connection.execute(Initiative.__table__.update().values(normalized="verouderd"))
    matching = bot.app.bot_data["services"].matching
    assert await matching.renormalize_if_rules_changed() == 0  # same rules: nothing to do
    monkeypatch.setattr(
        "bot.services.matching.normalizer_fingerprint", lambda: "new-rules-fingerprint"
    )
    assert await matching.renormalize_if_rules_changed() == 1
    assert await matching.renormalize_if_rules_changed() == 0
    async with bot.app.bot_data["engine"].connect() as connection:
        assert await connection.scalar(select(Initiative.normalized)) == "hond speel tuin park"


async def test_a_moderator_moves_any_initiative_on_and_the_initiator_hears(
    bot: BotHarness,
) -> None:
    from sqlalchemy import update

    from models import Role, User

    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    [refused] = await bot.send(bram, "/status 1")
    assert refused.text == "Dit kunnen alleen moderatoren."
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(
            update(User).where(User.telegram_id == 1002).values(role=Role.MODERATOR)
        )
    [options] = await bot.send(bram, "/status 1")
    assert [data for _, data in options.buttons] == [
        mijn.SET_STATUS.build(1, "in_gesprek"),
        mijn.SET_STATUS.build(1, "gestopt"),
    ]
    await bot.press(bram, mijn.SET_STATUS.build(1, "in_gesprek"))
    assert bot.last_text(anna) == (
        "Een moderator heeft de status van je idee <b>Hondenspeeltuin in het park</b> veranderd. "
        "De status is nu: in gesprek."
    )
    [usage] = await bot.send(bram, "/status nope")
    assert "/status &lt;nummer&gt;" in usage.text


async def test_ideas_are_found_by_meaning_not_only_by_words(bot: BotHarness) -> None:
    """No word in common with "Hondenspeeltuin": the sentence model finds it anyway."""
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")

    for query in ("hondenspeelweide", "losloopgebied voor honden", "hondenuitlaatveld"):
        [found] = await bot.send(bram, f"/zoek {query}")
        assert "#1 <b>Hondenspeeltuin in het park</b>" in found.text, query
    # By words alone (no model): not found.
    model = semantic.get_encoder()
    semantic.set_encoder(None)
    try:
        [found] = await bot.send(bram, "/zoek hondenuitlaatveld")
        assert "Hondenspeeltuin" not in found.text
    finally:
        semantic.set_encoder(model)

    await answer_until_summary(
        bot, bram, "Hondenspeelweide", "Een stuk gras met een hek eromheen waar honden vrij spelen."
    )
    await bot.press(bram, "Opslaan")
    similar = bot.last_text(bram)
    assert "vergelijkbaar idee" in similar
    assert "1. <b>Hondenspeeltuin in het park</b>" in similar
