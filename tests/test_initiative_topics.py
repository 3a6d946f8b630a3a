"""Initiatives get a main topic: when saved, when imported, and once at start for older rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bot.cli import main
from bot.routing import TopicClassifier, load_taxonomy
from bot.services.initiative_topics import InitiativeTopics, initiative_text
from bot.services.initiatives import META, TOPICS_KEY
from models import BotState, Initiative, InitiativeStatus
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness

TOPICS = InitiativeTopics(TopicClassifier(load_taxonomy()))
LONG_AGO = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Drempels tegen hardrijders in de Kennemerlaan", "openbare-ruimte"),
        ("Rattenoverlast aanpakken", "overlast"),
        ("Buurtfeest op het plein voor alle buren", "initiatieven"),
        ("Iets leuks", None),  # nothing to go on: unknown, not a guess
        ("", None),
    ],
)
def test_an_initiative_gets_a_main_topic_or_none(text: str, topic: str | None) -> None:
    assert TOPICS.classify(text) == topic


def test_topics_are_main_topics_and_unsure_ones_stay_unknown() -> None:
    # "afval" is a subtopic's keyword: the initiative still gets the main topic.
    scores = TOPICS.scores("Zwerfvuil opruimen en grofvuil ophalen")
    assert scores and all("/" not in s.key for s in scores)
    assert scores[0].key == "openbare-ruimte"
    # Two topics equally likely: below the threshold, so no topic is stored.
    weak = InitiativeTopics(TOPICS.classifier, threshold=0.99)
    assert weak.classify("Zwerfvuil opruimen en grofvuil ophalen") is None
    without = InitiativeTopics(TOPICS.classifier, exclude=frozenset({"initiatieven"}))
    assert "initiatieven" not in without.keys
    assert without.classify("Buurtfeest op het plein voor alle buren") != "initiatieven"


def test_the_fingerprint_changes_with_what_decides_the_topic() -> None:
    assert TOPICS.fingerprint() == InitiativeTopics(TOPICS.classifier).fingerprint()
    assert TOPICS.fingerprint() != InitiativeTopics(TOPICS.classifier, 0.3).fingerprint()


def test_title_description_and_motivation_all_count() -> None:
    assert initiative_text("Titel", "", "Waarom") == "Titel\nWaarom"
    assert TOPICS.classify(initiative_text("Mijn plan", "Ratten in de tuin", "")) == "overlast"


async def test_a_saved_initiative_has_its_topic(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
    await bot.press(anna, "Opslaan")
    [initiative] = await _initiatives(bot)
    # The description has a bench and a litter bin: the public space.
    assert initiative.topic == "openbare-ruimte"


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
