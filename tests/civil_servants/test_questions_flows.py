"""/vraag when the bot is unsure, follow-up questions, more information, forwarding, closing
with feedback and reopening, erasure while a question is open, and forged presses."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from handlers.civil_servants import questions as questions_flow
from handlers.moderators import triage
from handlers.residents import question as asking
from models import EventKind, Question, QuestionEvent, QuestionStatus, ScheduledWork, WorkState
from tests.flows import onboard
from tests.harness import BotHarness
from tests.questions_support import ask, join, local, qbot, services, texts, tick

__all__ = ["qbot"]
STALE = "Deze knop werkt niet meer"


async def test_unsure_topic_is_asked_and_event_follow_ups_are_in_the_summary(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna, "Driehuis")
    await bot.send(anna, "/vraag")
    await bot.send(anna, "Er ligt zwerfafval en een kapotte vuilniszak bij de bushalte.")
    offered = [label for label, _ in bot.replies(anna)[-1].buttons]
    assert "niet zeker" in bot.last_text(anna)
    assert offered[:2] == ["Afval, grofvuil en containers", "Verkeer en verkeersveiligheid"]
    assert offered[-1] == "Iets anders"
    await bot.press(anna, "Iets anders")
    await bot.press(anna, "Evenementen en vergunningen openbare ruimte")
    assert "📍 Driehuis" in [label for label, _ in bot.replies(anna)[-1].buttons]
    await bot.press(anna, "Driehuis")
    assert bot.last_text(anna) == "Op welke datum?"
    await bot.send(anna, "12 juni")
    assert bot.last_text(anna) == "Waar precies?"
    await bot.press(anna, "Overslaan")
    await bot.send(anna, "ongeveer 40")
    summary = bot.last_text(anna)
    assert "Onderwerp: Evenementen en vergunningen openbare ruimte" in summary
    assert "• Op welke datum? <b>12 juni</b>" in summary
    assert "• Met hoeveel mensen? <b>ongeveer 40</b>" in summary
    assert "Waar precies" not in summary
    await bot.press(anna, "Versturen")
    # No rule or profile for events: the moderators' triage queue.
    assert "Ik zoek nog uit wie" in bot.last_text(anna)
    question = await services(bot).questions.get(1)
    assert question.topic_key == "evenementen" and question.kern == "Driehuis"
    assert question.details == {"date": "12 juni", "people": "ongeveer 40"}
    assert question.status is QuestionStatus.TRIAGE
    await bot.send(anna, "/mijn")
    assert "V-" in bot.last_text(anna) and "we zoeken de juiste collega" in bot.last_text(anna)


async def test_more_information_forward_close_feedback_and_reopen(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    klaas = bot.person(2003, "Klaas")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    await join(bot, klaas, "Klaas Bakker", "Wijkbeheer", topic="Overlast")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")

    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        await bot.press(piet, "Meer info vragen")
        await bot.send(piet, "Om welke container gaat het precies?")
        # Piet sees it as Anna will get it; nothing goes before Versturen.
        preview = bot.replies(piet)[-1]
        assert "Zo krijgt de inwoner je vraag" in preview.text
        assert "Piet de Vries (Afval en Reiniging) heeft een vraag" in preview.text
        assert "Om welke container" not in bot.last_text(anna)
        await bot.press(piet, "Versturen")
        assert "Piet de Vries (Afval en Reiniging) heeft een vraag" in bot.last_text(anna)
        assert bot.last_text(anna) in preview.text
        await bot.press(anna, "Antwoord geven")
        await bot.send(anna, "De container bij Kennemerlaan 12.")
        assert "doorgestuurd" in bot.last_text(anna)
        assert "Kennemerlaan 12" in bot.last_text(piet)
        assert (await services(bot).questions.get(1)).status is QuestionStatus.DELIVERED

        await bot.press(piet, "Doorsturen")
        await bot.press(piet, "Klaas Bakker")
        assert "doorgestuurd naar Klaas Bakker" in bot.last_text(piet)
        assert "ligt nu bij Klaas Bakker, Wijkbeheer" in bot.last_text(anna)
        assert bot.last_text(klaas).startswith("📨")
        # Piet no longer holds it: his old buttons are refused.
        await bot.press_data(piet, questions_flow.CLOSE.build(1))
        assert bot.answers()[-1].startswith(STALE)

        await bot.press(klaas, "Sluiten")
        closed = bot.last_text(anna)
        assert "afgesloten" in closed and "14 dagen" in closed
        offered = [label for label, _ in bot.replies(anna)[-1].buttons]
        assert offered[:5] == ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐"]
        await bot.press(anna, "⭐⭐")
        await bot.send(anna, "Het duurde lang.")
        assert "Dank je wel voor je reactie" in bot.last_text(anna)
    question = await services(bot).questions.get(1)
    assert question.feedback_score == 2 and question.feedback_text == "Het duurde lang."

    with time_machine.travel(local("2026-06-05 10:00"), tick=False):
        await bot.press(anna, "weer openen")
        assert "weer open" in bot.last_text(anna)
    await tick(bot, "2026-06-05 14:00")
    assert "V-2026-0001" in bot.last_text(klaas)

    with time_machine.travel(local("2026-06-05 15:00"), tick=False):
        await bot.press(klaas, "Sluiten")
        # Stars, then /annuleer instead of a comment: the stars are kept, and said so.
        await bot.press(anna, "⭐⭐⭐⭐")
        [kept] = await bot.send(anna, "/annuleer")
        assert kept.text == "Dank je wel voor je reactie."
        [after] = await bot.send(anna, "Nog iets")
        assert "reactie" not in after.text
    with time_machine.travel(local("2026-06-05 15:00") + timedelta(days=15), tick=False):
        await bot.press(anna, "weer openen")
    assert "te lang geleden" in bot.answers()[-1]
    async with bot.app.bot_data["sessions"]() as session:
        kinds = list(await session.scalars(select(QuestionEvent.kind).order_by(QuestionEvent.id)))
    assert kinds.count(EventKind.CLOSED) == 2 and EventKind.REOPENED in kinds
    assert EventKind.FORWARDED in kinds and EventKind.RESIDENT_REPLIED in kinds


async def test_forged_presses_are_refused(qbot: BotHarness) -> None:
    bot = qbot
    anna, bram, piet = bot.person(1001, "Anna"), bot.person(1002, "Bram"), bot.person(2001, "Piet")
    klaas = bot.person(2003, "Klaas")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    await join(bot, klaas, "Klaas Bakker", "Wijkbeheer", topic="Overlast")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    for who, data in [
        (anna, questions_flow.ANSWER.build(1)),  # a resident cannot answer
        (klaas, questions_flow.CLOSE.build(1)),  # nor another civil servant
        (klaas, questions_flow.FORWARD.build(1)),
        (klaas, questions_flow.TO_TOPIC.build(1, 0)),
        (klaas, questions_flow.SUBTOPICS.build(1, 0)),
        (anna, triage.ASSIGN_TO.build(1, 1)),  # nor anyone but a moderator assign
        (anna, triage.ASSIGN.build(1)),
        (piet, questions_flow.ANSWER.build(99)),
    ]:
        await bot.press_data(who, data)
        assert bot.answers()[-1].startswith(STALE), data
    for who, data in [
        (bram, asking.SCORE.build(1, "5")),  # nor another resident give feedback
        (bram, asking.REPLY.build(1)),
        (piet, "cs:to:1:abc"),  # garbage
        (piet, "cs:tt:1:2:3"),
        (piet, "cs:close:123456789012"),  # more than an id column holds
    ]:
        await bot.forge(who, data)
        assert bot.answers()[-1].startswith(STALE), data
    assert (await services(bot).questions.get(1)).status is QuestionStatus.SUBMITTED


async def test_a_resident_who_erased_their_data_while_a_question_was_open(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        assert await services(bot).users.erase(anna.id)
    await tick(bot, "2026-06-01 15:00")
    assert "gegevens laten verwijderen" in bot.last_text(piet)
    await bot.press(piet, "Beantwoorden")
    assert "gegevens laten verwijderen" in bot.answers()[-1]

    async with bot.app.bot_data["sessions"]() as session:
        question = await session.scalar(select(Question))
        events = list(await session.scalars(select(QuestionEvent).order_by(QuestionEvent.id)))
        pending = list(
            await session.scalars(
                select(ScheduledWork).where(ScheduledWork.state == WorkState.PENDING)
            )
        )
    assert question.status is QuestionStatus.CLOSED
    assert question.text == "" and question.resident_id is None
    assert question.topic_key == "openbare-ruimte/afval"  # kept for statistics
    assert all(e.text is None for e in events if e.kind is EventKind.CREATED)
    assert events[-1].kind is EventKind.ERASED
    assert not pending  # no reminder, no escalation for a question nobody can get
    # Anna is a stranger now.
    assert await services(bot).users.get(anna.id) is None
    await bot.send(anna, "/mijn")
    assert "/start" in bot.last_text(anna)
    assert "grofvuil" not in " ".join(texts(bot, piet)[-1:])


async def test_an_answer_is_previewed_and_goes_once_after_versturen(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        await bot.press(piet, "Beantwoorden")
        before = len(bot.replies(anna))
        [preview] = await bot.send(piet, "We halen het <b>morgen</b> op.")
        assert "Zo krijgt de inwoner je antwoord" in preview.text
        assert "Antwoord op je vraag V-2026-0001" in preview.text
        assert "van Piet de Vries, Afval en Reiniging" in preview.text
        assert "We halen het &lt;b&gt;morgen&lt;/b&gt; op." in preview.text
        labels = [label for label, _ in preview.buttons]
        assert labels == ["✅ Versturen", "✏️ Aanpassen", "Annuleren"]
        assert len(bot.replies(anna)) == before  # nothing sent yet

        # Aanpassen: a new version, with a preview of its own; the old one's buttons are dead.
        await bot.press(piet, "Aanpassen")
        assert "Typ de nieuwe tekst" in bot.last_text(piet)
        [second] = await bot.send(piet, "We halen het overmorgen op.")
        assert "overmorgen" in second.text
        await bot.press_data(piet, preview.buttons[0][1], preview.result["message_id"])
        assert bot.answers()[-1].startswith(STALE)  # the first version's Versturen
        assert len(bot.replies(anna)) == before
        await bot.press_data(piet, second.buttons[0][1], second.result["message_id"])
        await bot.press_data(piet, second.buttons[0][1], second.result["message_id"])
        assert "verstuurd" in bot.last_text(piet)
        assert bot.answers()[-1].startswith(STALE)  # the second press
    sent = bot.replies(anna)[before:]
    assert len(sent) == 1 and "We halen het overmorgen op." in sent[0].text
    # What Anna got is the preview, word for word, without its first line.
    assert second.text.endswith(sent[0].text)
    question = await services(bot).questions.get(1)
    assert question.status is QuestionStatus.ANSWERED
    answers = [e for e in await services(bot).questions.events(1) if e.kind is EventKind.ANSWERED]
    assert len(answers) == 1


async def test_a_preview_can_be_cancelled_and_typed_again(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    before = len(bot.replies(anna))
    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        await bot.press(piet, "Beantwoorden")
        await bot.send(piet, "Eerste versie.")
        # Typing again instead of pressing Aanpassen is a new version too.
        [again] = await bot.send(piet, "Tweede versie.")
        assert "Tweede versie." in again.text and "Eerste versie." not in again.text
        await bot.press(piet, "Annuleren")
        assert "niets veranderd" in bot.last_text(piet)
        await bot.press_data(piet, again.buttons[0][1], again.result["message_id"])
        assert bot.answers()[-1].startswith(STALE)
    assert len(bot.replies(anna)) == before
    assert (await services(bot).questions.get(1)).status is QuestionStatus.DELIVERED


async def test_the_same_draft_sent_twice_goes_once(qbot: BotHarness) -> None:
    """The service's side of a double Versturen: the draft's key lets one through."""
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    questions = services(bot).questions
    piet_row = await services(bot).users.get(piet.id)
    first = await questions.answer(1, piet_row, "Morgen.", once="k1")
    again = await questions.answer(1, piet_row, "Morgen.", once="k1")
    assert first.ok and first.send_now and not first.reason
    assert again.ok and again.reason == "already_sent" and not again.send_now
    other = await questions.request_info(1, piet_row, "Welke straat?", once="k2")
    assert other.ok and other.send_now
    kinds = [e.kind for e in await questions.events(1)]
    assert kinds.count(EventKind.ANSWERED) == 1 and kinds.count(EventKind.INFO_REQUESTED) == 1
