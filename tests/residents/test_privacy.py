"""/privacy: what is kept and why, and the export of all of it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from bot.config import AboutConfig
from bot.services.privacy import personal_tables
from handlers.residents import initiative as idee
from handlers.residents import privacy
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness, make_config


async def test_privacy_says_what_is_kept_in_both_languages(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    [reply] = await bot.send(anna, "/privacy")
    assert "Wat ik bewaar." in reply.text and "nooit je naam" in reply.text
    assert reply.buttons == []  # nothing is kept yet, so there is nothing to download
    emma = bot.person(1002, "Emma", language_code="en")
    await onboard(bot, emma)
    [reply] = await bot.send(emma, "/privacy")
    assert "What I keep." in reply.text
    assert reply.buttons == [
        ("📦 Download my data", privacy.EXPORT.build()),
        ("🗑 Forget me", privacy.ERASE.build()),
    ]


async def test_the_export_holds_everything_about_the_resident(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna", username="anna")
    bram = bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await answer_until_summary(bot, anna, "Hondenspeeltuin")
    await bot.press(anna, "Opslaan")
    await answer_until_summary(bot, bram, "Moestuin")
    await bot.press(bram, "Opslaan")
    await bot.send(anna, "/privacy")
    await bot.send(anna, "/idee")
    await bot.send(anna, "Nog een half idee")  # a conversation in progress is data too
    calls = await bot.press(anna, privacy.EXPORT.build())
    [document] = [c for c in calls if c.method == "sendDocument"]
    name, content, _ = document.files["document"]
    assert name == "burgerbeest-gegevens.json"
    data = json.loads(content)
    assert data["you"]["telegram_id"] == 1001 and data["you"]["username"] == "anna"
    assert [i["title"] for i in data["initiatives"]] == ["Hondenspeeltuin"]  # not Bram's
    assert data["conversation_in_progress"]["draft"]["title"] == "Nog een half idee"
    assert "normalized" not in data["initiatives"][0]
    # Every table that refers to a user has its section, empty or not.
    assert {t.name for t in personal_tables()} <= set(data)


async def test_a_stranger_gets_no_export(bot: BotHarness) -> None:
    stranger = bot.person(2002, "Stranger")
    await bot.press_data(stranger, privacy.EXPORT.build())
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert bot.calls("sendDocument") == []


async def test_vergeetmij_forgets_the_resident_but_not_what_others_joined(
    bot: BotHarness,
) -> None:
    from sqlalchemy import func, select

    from models import Initiative, Introduction, Supporter, User

    anna = bot.person(1001, "Anna", username="anna")
    bram = bot.person(1002, "Bram", username="bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
    await bot.press(anna, "Opslaan")
    await answer_until_summary(bot, anna, "Repair café in het buurthuis")
    await bot.press(anna, "Opslaan")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.JOIN.build(1))  # Bram joins Anna's first idea
    await bot.press(bram, "Overslaan")  # no note for her

    [question] = await bot.send(anna, "/vergeetmij")
    assert "Weet je het zeker?" in question.text
    await bot.press(anna, "Nee, toch niet")
    assert bot.last_text(anna) == "Prima, er is niets gewist."
    await bot.send(anna, "/privacy")
    await bot.press(anna, privacy.ERASE.build())
    await bot.press(anna, "Ja, wis alles")
    assert "ik ben je vergeten" in bot.last_text(anna)

    async with bot.app.bot_data["sessions"]() as session:
        assert await session.scalar(select(User).where(User.telegram_id == 1001)) is None
        kept = (await session.scalars(select(Initiative).order_by(Initiative.id))).all()
        # The joined idea stays for Bram, without Anna; the other one is gone.
        assert [(i.title, i.author_id, i.description, i.place) for i in kept] == [
            ("Hondenspeeltuin in het park", None, "", None)
        ]
        assert await session.scalar(select(func.count()).select_from(Supporter)) == 1
        assert await session.scalar(select(func.count()).select_from(Introduction)) == 0
        placeholder = await session.scalar(select(User).where(User.telegram_id < 0))
        assert (placeholder.display_name, placeholder.username, placeholder.kern) == (
            None,
            None,
            None,
        )
    # Bram still sees what he joined; a search no longer finds the erased idea.
    [listing] = await bot.send(bram, "/mijn")
    assert "Hondenspeeltuin in het park" in listing.text
    [found] = await bot.send(bram, "/zoek repair café")
    assert "Ik vond geen ideeën" in found.text
    # Anna can start afresh, as a new person.
    [again] = await bot.send(anna, "/start")
    assert "Privacy" in again.text


async def test_retention_anonymises_questions_closed_long_ago(bot: BotHarness) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from handlers.jobs import apply_retention
    from models import User
    from models.base import utcnow
    from models.question import Question, QuestionStatus

    sessions = bot.app.bot_data["sessions"]
    async with sessions.begin() as session:
        anna = User(telegram_id=1001, consent_at=utcnow(), kern="IJmuiden")
        session.add(anna)
        await session.flush()
        for text, closed_days_ago, status in (
            ("Oude vraag over mijn paspoort", 400, QuestionStatus.CLOSED),
            ("Recente vraag over afval", 10, QuestionStatus.CLOSED),
            ("Open vraag over een bankje", None, QuestionStatus.DELIVERED),
        ):
            closed = utcnow() - timedelta(days=closed_days_ago) if closed_days_ago else None
            session.add(
                Question(
                    resident_id=anna.id, text=text, status=status, closed_at=closed, details={}
                )
            )
    await apply_retention(bot.context())  # the default: 365 days
    async with sessions() as session:
        rows = (await session.execute(select(Question.text, Question.resident_id))).all()
    assert sorted(rows, key=lambda r: r.text) == sorted(
        [("", None), ("Recente vraag over afval", 1), ("Open vraag over een bankje", 1)],
        key=lambda r: r[0],
    )


async def test_privacy_ends_with_who_runs_this(tmp_path: Path, database_url: str) -> None:
    config = dataclasses.replace(
        make_config(tmp_path, database_url),
        about=AboutConfig(
            controller="Stichting Burgerbeest Velsen",
            contact="privacy@example.org",
            platform_name="Velsen Praat Mee",
            platform_url="https://example.org/praat",
        ),
    )
    bot = BotHarness(config)
    await bot.start()
    try:
        anna = bot.person(1001, "Anna")
        await onboard(bot, anna)
        [reply] = await bot.send(anna, "/privacy")
        text = reply.text
        assert text.index("Wat ik bewaar.") < text.index("Wie zit er achter Burgerbeest Velsen?")
        assert "niet de gemeente zelf" in text and "Stichting Burgerbeest Velsen" in text
        assert "privacy@example.org" in text and 'href="https://example.org/praat"' in text
        assert len(text) <= 4096
        assert reply.params.get("disable_web_page_preview") or reply.params.get(
            "link_preview_options"
        )
        emma = bot.person(1002, "Emma", language_code="en")
        [english] = await bot.send(emma, "/privacy")
        assert "Who is behind Burgerbeest Velsen?" in english.text and len(english.text) <= 4096
    finally:
        await bot.stop()
    assert not bot.errors
