"""The bot forgives what residents type on a phone (issue #14 item 4): a kern typed instead of
pressed, "terug" to go one step back, /help halfway, a mistyped command, /taal en, English
command names, a reply typed without pressing "Antwoord geven", half a sign-up, and the other
flows' buttons pressed halfway through /vraag."""

from __future__ import annotations

import pytest
import time_machine

from bot.i18n import translator
from bot.kernen import fold, match_kern
from handlers.civil_servants import questions as cards
from handlers.menus import ALIASES
from handlers.residents import initiative as idee
from handlers.residents import onboarding as onb
from handlers.residents import question as vraag
from models import QuestionStatus
from tests.flows import DESCRIPTION, onboard
from tests.harness import KERNEN, BotHarness, Person
from tests.questions_support import AFVAL, ask, invite, join, local, qbot, services, tick

__all__ = ["qbot"]

NOT_SIGNED_UP = "nog niet aangemeld"
UNKNOWN = "Die opdracht ken ik niet. Stuur /help"
NOT_UNDERSTOOD = "Ik weet niet goed wat ik hiermee moet"
STALE = "Deze knop werkt niet meer"
HELP = "/idee"  # the help lists the commands, whatever its wording
FEEST = "Wij willen in de zomer een buurtfeest houden voor de hele straat"


def texts(calls: list) -> list[str]:
    return [call.text for call in calls]


# --- the kern as typed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kern"),
    [
        ("velserbroek", "Velserbroek"),
        ("Velsen Noord", "Velsen-Noord"),
        ("ijmuiden", "IJmuiden"),
        ("IJMUIDEN ", "IJmuiden"),
        ("Ymuiden", "IJmuiden"),
        ("Santpoort N.", "Santpoort-Noord"),
        ("santpoort z", "Santpoort-Zuid"),
        ("Velserbroke", "Velserbroek"),
        ("Veslerbroek", "Velserbroek"),
        ("Dríehuis", "Driehuis"),
        ("drieh", "Driehuis"),
        ("ik woon in Velsen-Zuid", "Velsen-Zuid"),
    ],
)
def test_a_kern_as_typed(typed: str, kern: str) -> None:
    assert match_kern(typed, KERNEN).kern == kern


@pytest.mark.parametrize(
    ("typed", "candidates"),
    [
        ("Santpoort", ("Santpoort-Noord", "Santpoort-Zuid")),
        ("velsen", ("Velsen-Zuid", "Velsen-Noord")),
        ("Amsterdam", ()),
        ("noord", ()),
        ("", ()),
        ("🙂", ()),
    ],
)
def test_no_guess_between_kernen_or_at_nothing(typed: str, candidates: tuple[str, ...]) -> None:
    found = match_kern(typed, KERNEN)
    assert found.kern is None and found.candidates == candidates


def test_folding_ignores_case_accents_dashes_and_spaces() -> None:
    assert fold("Santpoort-Noord") == fold("santpoort noord") == fold("SANTPOORT N.")
    assert fold("IJmuiden") == fold("Ymuiden") == fold("ijmuiden")


async def test_a_kern_typed_in_idee(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/idee")
    await bot.send(anna, "Hondenspeeltuin")
    await bot.send(anna, DESCRIPTION)
    await bot.send(anna, "Voor iedereen met een hond.")
    assert idee.KERN_PICK.build(0) in [data for _, data in bot.replies(anna)[-1].buttons]
    [which] = await bot.send(anna, "Santpoort")
    assert "Santpoort-Noord, Santpoort-Zuid" in which.text
    assert idee.KERN_PICK.build(4) in [data for _, data in which.buttons]
    [unknown] = await bot.send(anna, "Amsterdam")
    assert "Die kern ken ik niet" in unknown.text and unknown.buttons
    await bot.send(anna, "Santpoort N.")
    assert "Santpoort-Noord" in bot.last_text(anna)  # where in it?
    await bot.press(anna, idee.PLACE_SKIP.build())
    await bot.press(anna, idee.NEEDS_DONE.build())
    await bot.press(anna, idee.INTRO.build("no"))
    assert "Santpoort-Noord" in bot.last_text(anna)  # the summary
    await bot.press(anna, "Opslaan")
    initiative = await bot.app.bot_data["services"].initiatives.get(1)
    assert initiative.kern == "Santpoort-Noord"


async def test_a_kern_typed_in_vraag(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/vraag")
    await bot.send(anna, AFVAL)
    await bot.send(anna, "velserbroek")
    summary = bot.last_text(anna)
    assert "Velserbroek" in summary
    await bot.press(anna, "Versturen")
    assert (await services(bot).questions.get(1)).kern == "Velserbroek"


async def test_a_kern_typed_when_signing_up(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await bot.send(anna, "/start")
    await bot.press(anna, onb.CONSENT.build("nl"))
    [again] = await bot.send(anna, "hallo")
    assert "Kies eerst je kern" in again.text and again.buttons
    [which] = await bot.send(anna, "velsen")
    assert "Velsen-Zuid, Velsen-Noord" in which.text and which.buttons
    [done] = await bot.send(anna, "Velsen Noord")
    assert "Velsen-Noord" in done.text
    user = await bot.app.bot_data["services"].users.get(anna.id)
    assert user.kern == "Velsen-Noord" and user.onboarded


async def test_half_a_sign_up_is_asked_for_the_kern_not_told_to_start(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna", username="anna")
    await bot.send(anna, "/start")
    await bot.press(anna, onb.CONSENT.build("nl"))
    for said in ("/idee", "/vraag", "/mijn", "/iede", "/onzin", "Een idee voor de buurt"):
        replies = await bot.send(anna, said)
        assert not any(NOT_SIGNED_UP in text for text in texts(replies)), said
        assert "Kies eerst je kern" in replies[-1].text, said
        assert onb.KERN_PICK.build(0) in [data for _, data in replies[-1].buttons], said
    await bot.press_data(anna, onb.CHANGE_KERN.build())
    assert bot.answers()[-1] == "Kies eerst je kern."
    await bot.press(anna, "Driehuis")
    await bot.press(anna, onb.CONTACT.build("username"))
    assert "Driehuis" in bot.last_text(anna)
    # Before consent it is still "sign up first".
    bram = bot.person(1002, "Bram")
    await bot.send(bram, "/start")
    [reply] = await bot.send(bram, "/idee")
    assert NOT_SIGNED_UP in reply.text


# --- "terug" ---------------------------------------------------------------------------------


async def test_back_in_idee(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/idee")
    title_question = bot.last_text(anna)
    none, asked = texts(await bot.send(anna, "terug"))
    assert "Er is geen vorige stap" in none and asked == title_question
    await bot.send(anna, "Hondenspeeltuin")
    had, asked = texts(await bot.send(anna, "Terug"))
    assert had == "Je had: Hondenspeeltuin" and asked == title_question
    await bot.send(anna, "Hondenpark")
    await bot.send(anna, DESCRIPTION)
    await bot.send(anna, "Voor de honden.")
    # From the kern's buttons back to why, in English words too.
    had, _ = texts(await bot.send(anna, "vorige"))
    assert had == "Je had: Voor de honden."
    await bot.send(anna, "Voor alle honden en hun baasjes.")
    await bot.press(anna, "IJmuiden")
    had, _ = texts(await bot.send(anna, "back"))
    assert had == "Je had: IJmuiden"
    await bot.press(anna, "Driehuis")
    await bot.press(anna, idee.PLACE_SKIP.build())
    await bot.press(anna, idee.NEEDS_DONE.build())
    await bot.press(anna, idee.INTRO.build("no"))
    await bot.press(anna, "Opslaan")
    initiative = await bot.app.bot_data["services"].initiatives.get(1)
    assert initiative.title == "Hondenpark"
    assert initiative.motivation == "Voor alle honden en hun baasjes."
    assert initiative.kern == "Driehuis"


async def test_back_in_vraag(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/vraag")
    [none, asked_text] = await bot.send(anna, "terug")
    assert "Er is geen vorige stap" in none.text
    await bot.send(anna, AFVAL)
    had, asked = texts(await bot.send(anna, "terug"))
    assert had == f"Je had: {AFVAL}" and asked == asked_text.text
    await bot.send(anna, AFVAL)
    await bot.press(anna, "Driehuis")
    had, _ = texts(await bot.send(anna, "previous"))  # from the summary back to the kern
    assert had == "Je had: Driehuis"
    await bot.press(anna, "Velserbroek")
    await bot.press(anna, "Versturen")
    question = await services(bot).questions.get(1)
    assert question.kern == "Velserbroek" and question.text == AFVAL


async def test_back_to_a_follow_up_in_vraag(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/vraag")
    await bot.send(anna, FEEST)
    if vraag.TOPIC_PICK.build("other") in [data for _, data in bot.replies(anna)[-1].buttons]:
        await bot.press(anna, vraag.TOPIC_PICK.build("other"))
        mains = [topic.key for topic in services(bot).questions.taxonomy.main_topics]
        await bot.press(anna, vraag.MAIN_PICK.build(mains.index("evenementen")))
    await bot.press(anna, "IJmuiden")
    assert "Op welke datum?" in bot.last_text(anna)
    await bot.send(anna, "12 juni")
    assert "Waar precies?" in bot.last_text(anna)
    had, asked = texts(await bot.send(anna, "terug"))
    assert had == "Je had: 12 juni" and "Op welke datum?" in asked
    await bot.send(anna, "13 juni")
    assert "Waar precies?" in bot.last_text(anna)
    await bot.send(anna, "Op het plein")
    await bot.press(anna, vraag.SKIP.build())
    await bot.press(anna, "Versturen")
    question = await services(bot).questions.get(1)
    assert question.details == {"date": "13 juni", "place": "Op het plein"}


# --- /help halfway ----------------------------------------------------------------------------


async def test_help_halfway_keeps_the_flow(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    [outside] = texts(await bot.send(anna, "/help"))
    await bot.send(anna, "/idee")
    title_question = bot.last_text(anna)
    await bot.send(anna, "Hondenspeeltuin")
    description_question = bot.last_text(anna)
    help_text, again = texts(await bot.send(anna, "/help"))
    assert help_text == outside and again == description_question
    await bot.send(anna, DESCRIPTION)
    assert bot.last_text(anna) not in (title_question, description_question)
    await bot.send(anna, "/annuleer")

    await bot.send(anna, "/vraag")
    await bot.send(anna, AFVAL)
    kern_question = bot.replies(anna)[-1]
    help_text, again = await bot.send(anna, "/help")
    assert help_text.text == outside
    assert again.text == kern_question.text and again.buttons == kern_question.buttons
    await bot.press(anna, "IJmuiden")
    await bot.press(anna, "Versturen")
    assert "V-2026-0001" in bot.last_text(anna)


async def test_help_and_cancel_in_any_conversation(qbot: BotHarness) -> None:
    """A conversation without a /help of its own (the civil servant's profile) shows the help
    and goes on; /cancel stops it as /annuleer does."""
    bot = qbot
    piet = bot.person(2001, "Piet")
    await bot.send(piet, f"/aanmelden {await invite(bot)}")
    name_question = bot.last_text(piet)
    help_text, still = texts(await bot.send(piet, "/help"))
    assert HELP in help_text and "Ga verder bij de vraag hierboven" in still
    await bot.send(piet, "Piet de Vries")
    assert bot.last_text(piet) != name_question  # the department, next
    [stopped] = await bot.send(piet, "/cancel")
    assert stopped.text == translator("nl")("cs.cancelled")


async def test_help_while_writing_a_reply(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await _asked_for_more(bot, anna, piet)
    [outside] = texts(await bot.send(anna, "/help"))
    with time_machine.travel(local("2026-06-01 16:00"), tick=False):
        await bot.press(anna, "Antwoord geven")
        write = bot.last_text(anna)
        help_text, again = texts(await bot.send(anna, "/help"))
        assert help_text == outside and again == write
        await bot.send(anna, "De container bij Kennemerlaan 12.")
        assert "doorgestuurd" in bot.last_text(anna)


# --- mistyped commands, /taal en, English names ----------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"), [("/iede", "/idee"), ("/vraagg", "/vraag"), ("/zoekk", "/zoek")]
)
async def test_a_mistyped_command_gets_a_suggestion(
    bot: BotHarness, typed: str, meant: str
) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    [reply] = await bot.send(anna, typed)
    assert f"Bedoel je {meant}?" in reply.text


async def test_nothing_close_gets_the_old_answer(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    for typed in ("/xyzzy", "/q", "/vragenlijst"):
        [reply] = await bot.send(anna, typed)
        assert reply.text.startswith(UNKNOWN), typed


async def test_a_civil_servant_gets_their_own_commands_suggested(qbot: BotHarness) -> None:
    bot = qbot
    piet = bot.person(2001, "Piet")
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    [reply] = await bot.send(piet, "/vragenn")
    assert "Bedoel je /vragen?" in reply.text


async def test_taal_with_a_language_switches_at_once(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    [reply] = await bot.send(anna, "/taal en")
    assert not reply.buttons and "English" in reply.text
    assert await _language(bot, anna) == "en"
    await bot.send(anna, "/idee")
    [reply] = await bot.send(anna, "/cancel")
    assert reply.text == translator("en")("idee.cancelled")
    [reply] = await bot.send(anna, "/language nl")
    assert "Nederlands" in reply.text and await _language(bot, anna) == "nl"
    [reply] = await bot.send(anna, "/taal")
    assert len(reply.buttons) == 2
    [reply] = await bot.send(anna, "/taal Klingon")
    assert len(reply.buttons) == 2 and await _language(bot, anna) == "nl"


async def _language(bot: BotHarness, who: Person) -> str | None:
    user = await bot.app.bot_data["services"].users.get(who.id)
    return user.language


@pytest.mark.parametrize("alias", [alias for names in ALIASES.values() for alias in names])
async def test_every_english_name_is_answered(bot: BotHarness, alias: str) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    replies = await bot.send(anna, f"/{alias}")
    assert replies, alias
    said = "\n".join(texts(replies))
    assert "Die opdracht ken ik niet" not in said and NOT_UNDERSTOOD not in said


async def test_idea_and_cancel(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    idee_question = texts(await bot.send(anna, "/idee"))
    await bot.send(anna, "/cancel")
    assert texts(await bot.send(anna, "/idea")) == idee_question
    [cancelled] = await bot.send(anna, "/cancel")
    [nothing] = await bot.send(anna, "/cancel")
    assert cancelled.text != nothing.text and "niets om te annuleren" in nothing.text


# --- a reply typed without pressing "Antwoord geven" ------------------------------------------


async def _asked_for_more(bot: BotHarness, anna: Person, piet: Person, count: int = 1) -> None:
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        for _ in range(count):
            await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        for number in range(1, count + 1):
            await bot.press_data(piet, cards.INFO.build(number))  # "Meer info vragen"
            await bot.send(piet, "Om welke container gaat het precies?")
            await bot.press(piet, "Versturen")


async def test_a_typed_reply_is_offered_as_the_answer(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await _asked_for_more(bot, anna, piet)
    with time_machine.travel(local("2026-06-01 16:00"), tick=False):
        [offer] = await bot.send(anna, "De container bij Kennemerlaan 12.")
        assert "Wil je dit als antwoord op de vraag van de gemeente" in offer.text
        assert "V-2026-0001" in offer.text
        assert [label for label, _ in offer.buttons] == ["✅ Versturen", "Nee"]
        await bot.press(anna, "Versturen")
        assert "doorgestuurd" in bot.last_text(anna)
        assert "Kennemerlaan 12" in bot.last_text(piet)
    assert (await services(bot).questions.get(1)).status is QuestionStatus.DELIVERED
    # Nobody waits any more: the ordinary answer, and the old offer is stale.
    [reply] = await bot.send(anna, "Nog iets")
    assert NOT_UNDERSTOOD in reply.text
    await bot.press_data(anna, vraag.OFFER_SEND.build(1))
    assert bot.answers()[-1].startswith(STALE)


async def test_no_keeps_the_typed_text_from_the_municipality(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await _asked_for_more(bot, anna, piet)
    before = len(bot.replies(piet))
    with time_machine.travel(local("2026-06-01 16:00"), tick=False):
        await bot.send(anna, "Hallo, is er nieuws?")
        await bot.press(anna, "Nee")
        assert "ik stuur het niet" in bot.last_text(anna)
        await bot.press_data(anna, vraag.OFFER_SEND.build(1))
        assert bot.answers()[-1].startswith(STALE)
    assert len(bot.replies(piet)) == before
    assert (await services(bot).questions.get(1)).status is QuestionStatus.INFO_REQUESTED


async def test_the_reply_and_vraag_say_what_they_expect_and_stop(qbot: BotHarness) -> None:
    """A sticker while the reply or the question is asked says what is expected; /annuleer
    stops the reply (the question still waits for it), "Annuleren" stops /vraag."""
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await _asked_for_more(bot, anna, piet)
    expected = "Beantwoord eerst de vraag hierboven, of stop met /annuleer."
    with time_machine.travel(local("2026-06-01 16:00"), tick=False):
        await bot.press_data(anna, vraag.REPLY.build(1))
        [sticker] = await bot.send_sticker(anna)
        assert sticker.text == expected
        [stopped] = await bot.send(anna, "/annuleer")
        assert stopped.text == "Gestopt; er is niets verstuurd."
        # Stopped: the next text is only offered as the reply.
        [offer] = await bot.send(anna, "Bij de Kennemerlaan.")
        assert "Wil je dit als antwoord" in offer.text
        await bot.press(anna, "Nee")
    assert (await services(bot).questions.get(1)).status is QuestionStatus.INFO_REQUESTED

    await bot.send(anna, "/vraag")
    [sticker] = await bot.send_sticker(anna)
    assert sticker.text == expected
    await bot.send(anna, AFVAL)
    await bot.press(anna, "IJmuiden")
    before = len(bot.request.calls)
    await bot.press(anna, "Annuleren")
    assert [c.text for c in bot.replies(anna, since=before)] == ["Gestopt; er is niets verstuurd."]
    assert bot.calls("editMessageReplyMarkup", since=before)  # the summary's buttons are off
    [nothing] = await bot.send(anna, "/annuleer")
    assert "niets om te annuleren" in nothing.text
    assert (await services(bot).questions.get(2)) is None


async def test_several_waiting_questions_ask_which(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await _asked_for_more(bot, anna, piet, count=2)
    with time_machine.travel(local("2026-06-01 16:00"), tick=False):
        [which] = await bot.send(anna, "Bij de Kennemerlaan.")
        assert "Bij welke vraag" in which.text
        assert [label for label, _ in which.buttons] == ["V-2026-0001", "V-2026-0002", "Nee"]
        await bot.press(anna, "V-2026-0002")
        assert "doorgestuurd" in bot.last_text(anna)
    assert (await services(bot).questions.get(1)).status is QuestionStatus.INFO_REQUESTED
    assert (await services(bot).questions.get(2)).status is QuestionStatus.DELIVERED


# --- other flows' buttons halfway through /vraag --------------------------------------------


async def test_another_flows_button_works_halfway_through_vraag(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/vraag")
    await bot.send(anna, AFVAL)
    await bot.press_data(anna, onb.CHANGE_KERN.build())
    assert "In welke kern" in bot.last_text(anna)
    assert STALE not in "".join(bot.answers())
    # An old /vraag button is still refused, and the question goes on.
    await bot.press_data(anna, vraag.TOPIC_PICK.build(0))
    assert bot.answers()[-1].startswith(STALE)
    await bot.press_data(anna, vraag.KERN_PICK.build(0))
    assert "Versturen" in "".join(label for label, _ in bot.replies(anna)[-1].buttons)
