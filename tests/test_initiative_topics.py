"""Initiatives get a topic (a subtopic when the classifier is sure of it, else a main topic):
when saved, when imported, and once at start for older rows."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bot.cli import main
from bot.matching.normalize import normalizer_fingerprint
from bot.routing import TopicClassifier, load_taxonomy
from bot.routing.keys import main_topic
from bot.services.initiative_topics import InitiativeTopics, initiative_text
from bot.services.initiatives import TOPICS_KEY, InitiativeDraft
from bot.services.meta import META
from handlers.residents import initiative as idee
from models import BotState, Initiative, InitiativeStatus, User
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness

TOPICS = InitiativeTopics(TopicClassifier(load_taxonomy()))
LONG_AGO = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # Sure of the main topic, not of a subtopic (one keyword, or two subtopics): main.
        ("Drempels tegen hardrijders in de Kennemerlaan", "openbare-ruimte"),
        ("Rattenoverlast aanpakken", "overlast"),
        ("Speeltuin en moestuin voor de buurt", "initiatieven"),
        # Sure of the subtopic too: the subtopic.
        ("Buurtfeest op het plein voor alle buren", "initiatieven/ontmoeten-evenementen"),
        ("Geveltuinen en boomspiegels: vergroening van de straat", "initiatieven/groen"),
        (
            "Muziek en theater op het plein, een kunstroute met schilderijen",
            "initiatieven/cultuur-kunst",
        ),
        ("Zwerfvuil opruimen en grofvuil ophalen", "openbare-ruimte/afval"),
        ("Iets leuks", None),  # nothing to go on: unknown, not a guess
        ("", None),
    ],
)
def test_an_initiative_gets_the_most_specific_topic_it_is_sure_of(
    text: str, topic: str | None
) -> None:
    assert TOPICS.classify(text) == topic
    # Without subtopics (as before): the main topic.
    main_only = InitiativeTopics(TOPICS.classifier, subtopic_threshold=None)
    assert main_only.classify(text) == main_topic(topic)


def test_a_subtopic_is_only_stored_within_a_sure_main_topic_and_above_its_threshold() -> None:
    text = "Geveltuinen en boomspiegels: vergroening van de straat"
    [best] = TOPICS.subtopic_scores(text, "initiatieven", limit=1)
    assert best.key == "initiatieven/groen"
    assert InitiativeTopics(TOPICS.classifier, subtopic_threshold=0.99).classify(text) == (
        "initiatieven"
    )
    # Unsure of the main topic: no subtopic either, however sure that would be.
    assert InitiativeTopics(TOPICS.classifier, 0.99, subtopic_threshold=0.0).classify(text) is None
    # A subtopic of the topic left out is never given.
    without = InitiativeTopics(TOPICS.classifier, exclude=frozenset({"initiatieven"}))
    assert not any(main_topic(key) == "initiatieven" for key in without.keys)
    assert "openbare-ruimte/afval" in without.keys and "openbare-ruimte" in without.main_keys
    assert "openbare-ruimte/afval" not in without.main_keys


def test_topics_are_main_topics_and_unsure_ones_stay_unknown() -> None:
    # "afval" is a subtopic's keyword: the main topics are scored on it.
    scores = TOPICS.scores("Zwerfvuil opruimen en grofvuil ophalen")
    assert scores and all("/" not in s.key for s in scores)
    assert scores[0].key == "openbare-ruimte"
    # Two topics equally likely: below the threshold, so no topic is stored.
    weak = InitiativeTopics(TOPICS.classifier, threshold=0.99)
    assert weak.classify("Zwerfvuil opruimen en grofvuil ophalen") is None
    without = InitiativeTopics(TOPICS.classifier, exclude=frozenset({"initiatieven"}))
    assert "initiatieven" not in without.keys
    assert without.classify("Buurtfeest op het plein voor alle buren") != "initiatieven"


def _fingerprint_before_subtopics(topics: InitiativeTopics) -> str:
    """What fingerprint() gave when only main topics were stored."""
    digest = hashlib.sha256(
        f"{topics.threshold}|{sorted(topics.exclude)}|{topics.classifier.params}".encode()
    )
    digest.update(normalizer_fingerprint().encode())
    for topic in topics.taxonomy:
        digest.update(f"\n{topic.key}:{'|'.join(topic.keywords)}".encode())
    return digest.hexdigest()[:16]


def test_the_fingerprint_changes_with_what_decides_the_topic() -> None:
    assert TOPICS.fingerprint() == InitiativeTopics(TOPICS.classifier).fingerprint()
    assert TOPICS.fingerprint() != InitiativeTopics(TOPICS.classifier, 0.3).fingerprint()
    other = InitiativeTopics(TOPICS.classifier, subtopic_threshold=0.3)
    assert TOPICS.fingerprint() != other.fingerprint()
    # Storing subtopics is new behaviour: a database backfilled before runs the backfill again.
    assert TOPICS.fingerprint() != _fingerprint_before_subtopics(TOPICS)


def test_title_description_and_motivation_all_count() -> None:
    assert initiative_text("Titel", "", "Waarom") == "Titel\nWaarom"
    assert TOPICS.classify(initiative_text("Mijn plan", "Ratten in de tuin", "")) == "overlast"
    # The description makes the subtopic sure.
    assert (
        TOPICS.classify(initiative_text("Buurtmoestuin", "Met geveltuinen in de straat", ""))
        == "initiatieven/groen"
    )


async def test_a_saved_initiative_has_its_topic(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
    await bot.press(anna, "Opslaan")
    [initiative] = await _initiatives(bot)
    # The description has a bench and a litter bin: the public space.
    assert initiative.topic == "openbare-ruimte"
    [mine] = await bot.send(anna, "/mijn")
    assert "<b>Hondenspeeltuin in het park</b> · IJmuiden · Melding openbare ruimte" in mine.text
    # Unknown: the kern alone.
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(update(Initiative).values(topic=None))
    [mine] = await bot.send(anna, "/mijn")
    assert "<b>Hondenspeeltuin in het park</b> · IJmuiden\n" in mine.text


async def test_a_saved_initiative_gets_a_subtopic_and_mijn_names_it(bot: BotHarness) -> None:
    emma = bot.person(1002, "Emma", language_code="en")
    await onboard(bot, emma)
    await _until_topic(bot, emma, GARDENS)
    await _finish(bot, emma)
    [initiative] = await _initiatives(bot)
    assert initiative.topic == "initiatieven/groen"
    [mine] = await bot.send(emma, "/mijn")
    # The subtopic's name in the reader's language, beside the kern.
    assert (
        "<b>Groene straat</b> · IJmuiden · Greening the neighbourhood (façade gardens, community "
        "gardens)" in mine.text
    )


async def _initiatives(bot: BotHarness) -> list[Initiative]:
    async with bot.app.bot_data["sessions"]() as session:
        return list(await session.scalars(select(Initiative).order_by(Initiative.id)))


async def _old_rows(bot: BotHarness, *rows: tuple[str, str | None]) -> None:
    """Initiatives as stored before topics existed (or with a topic of an older taxonomy), in a
    database that has never seen the backfill."""
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(delete(BotState).where(BotState.key == TOPICS_KEY))
        for title, topic in rows:
            session.add(
                Initiative(
                    author_id=None,
                    title=title,
                    description="",
                    motivation="",
                    kern="IJmuiden",
                    topic=topic,
                    needs=[],
                    allow_introductions=False,
                    status=InitiativeStatus.IDEA,
                    normalized=title.lower(),
                    created_at=LONG_AGO,
                    updated_at=LONG_AGO,
                )
            )


async def test_older_initiatives_get_a_topic_once_at_start(bot: BotHarness) -> None:
    await _old_rows(
        bot,
        ("Rattenoverlast aanpakken", None),
        ("Iets leuks", None),
        ("Drempels tegen hardrijders", "verkeer-oud"),  # a key no taxonomy has any more
        ("Buurtfeest op het plein", "overlast"),  # a valid topic stays as it is
    )
    await bot.restart()
    rows = await _initiatives(bot)
    assert [r.topic for r in rows] == ["overlast", None, "openbare-ruimte", "overlast"]
    # Filling in a topic is no change the match index refresh needs to see.
    assert all(r.updated_at == LONG_AGO for r in rows)
    async with bot.app.bot_data["sessions"]() as session:
        marker = await session.get(BotState, (META, TOPICS_KEY))
    assert marker is not None and marker.value == TOPICS.fingerprint()

    # The unsure one is not tried again at every start: only when the classifier changed.
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(
            update(Initiative).where(Initiative.title.like("Ratten%")).values(topic=None)
        )
    await bot.restart()
    assert (await _initiatives(bot))[0].topic is None
    async with bot.app.bot_data["sessions"].begin() as session:
        marker = await session.get(BotState, (META, TOPICS_KEY))
        marker.value = "an older taxonomy"
    await bot.restart()
    assert (await _initiatives(bot))[0].topic == "overlast"


async def test_the_backfill_gives_older_main_topics_a_subtopic_once(bot: BotHarness) -> None:
    await _old_rows(
        bot,
        # Stored with a main topic before subtopics: made more specific.
        ("Geveltuinen en boomspiegels: vergroening van de straat", "initiatieven"),
        ("Zwerfvuil opruimen en grofvuil ophalen", "openbare-ruimte"),
        # No subtopic the classifier is sure of: the main topic stays.
        ("Speeltuin en moestuin voor de buurt", "initiatieven"),
        # The resident picked another main topic than the texts say: the pick stays.
        ("Muziek en theater op het plein, een kunstroute met schilderijen", "overlast"),
        # A subtopic is a valid topic: it stays, even where the texts say otherwise.
        ("Rattenoverlast aanpakken", "initiatieven/jeugd"),
        ("Tegels eruit, groen erin", None),
        ("Iets leuks", "initiatieven/bestaat-niet"),  # no such subtopic: classified (unsure)
    )
    # The database last saw the classifier that stored main topics only.
    async with bot.app.bot_data["sessions"].begin() as session:
        session.add(
            BotState(namespace=META, key=TOPICS_KEY, value=_fingerprint_before_subtopics(TOPICS))
        )
    await bot.restart()
    rows = await _initiatives(bot)
    assert [r.topic for r in rows] == [
        "initiatieven/groen",
        "openbare-ruimte/afval",
        "initiatieven",
        "overlast",
        "initiatieven/jeugd",
        "initiatieven/groen",
        None,
    ]
    assert all(r.updated_at == LONG_AGO for r in rows)
    # Once: a main topic stored after that is not made more specific at the next start.
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(
            update(Initiative).where(Initiative.title.like("Geveltuinen%")).values(topic=None)
        )
    await bot.restart()
    assert (await _initiatives(bot))[0].topic is None


async def test_imported_initiatives_get_a_topic(
    tmp_path: Path, bot: BotHarness, monkeypatch, capsys
) -> None:
    csv_file = tmp_path / "ideas.csv"
    csv_file.write_text(
        "id,title,description,kern\n"
        "1,Rattenoverlast aanpakken,Overal ratten in de tuinen,IJmuiden\n"
        "2,Iets leuks,,Driehuis\n"
        "3,Drempels tegen hardrijders,,IJmuiden\n",
        encoding="utf-8",
    )
    config = tmp_path / "import-config.toml"
    config.write_text(
        f'[database]\nurl = "{bot.config.database_url}"\n'
        '[municipality]\nname = "Velsen"\nkernen = ["IJmuiden", "Driehuis"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BURGERBEEST_TOKEN", "123:import-test")
    await bot.stop()
    command = ["import", str(csv_file), "--config", str(config)]
    assert await asyncio.to_thread(main, command) == 0
    assert "Topics: openbare-ruimte 1, overlast 1, onbekend 1" in capsys.readouterr().out
    await bot.start()
    assert [r.topic for r in await _initiatives(bot)] == ["overlast", None, "openbare-ruimte"]


# A natural playground: public space or a resident initiative? The texts leave it open.
PLAYGROUND = (
    "Natuurspeeltuin",
    "Een speeltuin met boomstammen, zand en water in plaats van klimrekken.",
    "Voor kinderen uit de buurt.",
)
# Green and only green: a subtopic the classifier is sure of.
GARDENS = (
    "Groene straat",
    "Geveltuinen en boomspiegels langs de hele straat.",
    "Vergroening maakt de buurt mooier.",
)
# Nothing any topic's keywords know.
MYSTERY = (
    "Project Zilvermaan",
    "Elke maand komt er een verrassing voor wie langsloopt, heel bijzonder.",
    "Omdat het kan.",
)


async def _until_topic(bot: BotHarness, who, texts: tuple[str, str, str]) -> None:
    await bot.send(who, "/idee")
    for text in texts:
        await bot.send(who, text)


async def _finish(bot: BotHarness, who) -> None:
    await bot.press(who, "IJmuiden")
    await bot.press(who, idee.PLACE_SKIP.build())
    await bot.press(who, idee.NEEDS_DONE.build())
    await bot.press(who, idee.INTRO.build("yes"))
    await bot.press(who, idee.SAVE.build())


async def test_an_unclear_topic_is_asked_among_the_likeliest(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await _until_topic(bot, anna, PLAYGROUND)
    question = bot.replies(anna)[-1]
    assert question.text.startswith("Waar gaat je idee vooral over?")
    assert [label for label, _ in question.buttons] == [
        "Melding openbare ruimte",
        "Bewonersinitiatieven en meedoen",
        "Zorg en welzijn",
        "Een ander onderwerp",
        "Weet ik niet",
    ]
    await bot.press(anna, "Bewonersinitiatieven en meedoen")
    # Then the questions go on where they were: where.
    assert "Waar" in bot.last_text(anna) and "IJmuiden" in bot.replies(anna)[-1].buttons[0][0]
    await _finish(bot, anna)
    [initiative] = await _initiatives(bot)
    assert initiative.topic == "initiatieven"


async def test_another_topic_shows_them_all_and_dont_know_leaves_it_unknown(
    bot: BotHarness,
) -> None:
    emma = bot.person(1002, "Emma", language_code="en")
    await onboard(bot, emma)
    await _until_topic(bot, emma, PLAYGROUND)
    await bot.press(emma, "Another topic")
    # The same message, now with every main topic, in Emma's language.
    labels = [label for label, _ in bot.replies(emma)[-1].buttons]
    redrawn = bot.calls("editMessageReplyMarkup")[-1]
    every = [label for label, _ in redrawn.buttons]
    assert every[-1] == "I don't know" and len(every) == len(TOPICS.taxonomy.main_topics) + 1
    assert "Another topic" not in every and every[2] == "Resident initiatives and participation"
    # A button keeps its meaning when the keyboard is redrawn: "Care and welfare" either way.
    assert ("Care and welfare", idee.TOPIC_PICK.build(6)) in redrawn.buttons + bot.replies(emma)[
        -1
    ].buttons
    await bot.press_data(emma, idee.TOPIC_PICK.build(6))
    await _finish(bot, emma)
    await _until_topic(bot, emma, MYSTERY)
    # Nothing to go on: every topic straight away, and no "another topic".
    mystery = [label for label, _ in bot.replies(emma)[-1].buttons]
    await bot.press(emma, "I don't know")
    await _finish(bot, emma)
    assert [r.topic for r in await _initiatives(bot)] == ["zorg-welzijn", None]
    assert "Another topic" in labels
    assert mystery[-1] == "I don't know" and "Another topic" not in mystery
    assert len(mystery) == len(TOPICS.taxonomy.main_topics) + 1


async def test_forged_buttons_and_text_at_the_topic_question(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await _until_topic(bot, anna, PLAYGROUND)
    # 3 is "Burgerzaken": a topic, but not one offered.
    for data in (
        idee.TOPIC_PICK.build(3),
        idee.TOPIC_PICK.build(99),
        "idee:topic:-1",
        "idee:topic:x",
    ):
        [alert] = await bot.forge(anna, data)
        assert alert.method == "answerCallbackQuery" and "werkt niet meer" in alert.params["text"]
    [hint, again] = await bot.send(anna, "Openbare ruimte")
    assert "knoppen" in hint.text and again.text.startswith("Waar gaat je idee vooral over?")
    # The question survives a restart of the bot, and its buttons still mean what they showed.
    await bot.restart()
    # "Melding openbare ruimte", as shown before
    await bot.press_data(anna, idee.TOPIC_PICK.build(0))
    await _finish(bot, anna)
    assert [r.topic for r in await _initiatives(bot)] == ["openbare-ruimte"]


async def test_a_clear_topic_is_not_asked_and_a_forged_pick_is_not_stored(
    bot: BotHarness,
) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
    assert not any("Waar gaat je idee vooral over?" in c.text for c in bot.replies(anna))
    services = bot.app.bot_data["services"]
    draft = InitiativeDraft(
        title="Rattenoverlast aanpakken",
        description="Overal ratten in de tuinen.",
        motivation="Voor de buurt.",
        kern="IJmuiden",
        allow_introductions=False,
        topic="bestaat-niet",
        topic_chosen=True,
    )
    async with bot.app.bot_data["sessions"]() as session:
        author = await session.scalar(select(User.id).where(User.telegram_id == anna.id))
    forged, _ = await services.initiatives.create(author, draft)
    assert forged.topic == "overlast"  # classified instead
    # The resident picks among main topics: a picked one is stored as is, even where the texts
    # would give a subtopic; a subtopic is no pick (no button offers one).
    for picked, stored in (
        ("initiatieven", "initiatieven"),
        ("openbare-ruimte/groen", "initiatieven/groen"),
    ):
        draft.title, draft.description = GARDENS[:2]
        draft.topic = picked
        assert (await services.initiatives.create(author, draft)).initiative.topic == stored
