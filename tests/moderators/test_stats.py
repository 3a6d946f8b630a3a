"""/stats for moderators (figures and a chart) and `burgerbeest export` for the council."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from pathlib import Path

import time_machine
from sqlalchemy import update

from bot.cli import main
from bot.services.stats import UNKNOWN
from handlers.residents import initiative
from models import Initiative, Question, Visibility
from tests.flows import answer_until_summary, onboard, save_idea
from tests.harness import BotHarness
from tests.questions_support import MODERATOR_ID, ask, join, local, qbot, services, tick

__all__ = ["qbot"]


async def busy_municipality(bot: BotHarness) -> None:
    """Two ideas (one joined), a question answered by a civil servant."""
    anna, bram, piet = bot.person(1001, "Anna"), bot.person(1002, "Bram"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await onboard(bot, bram, kern="Driehuis")
    await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
    await bot.press(anna, "Opslaan")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press_data(bram, initiative.JOIN.build(1))
    await bot.press(bram, "Overslaan")  # no note for Anna
    await save_idea(bot, bram, "Repair café")
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):  # Monday
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    with time_machine.travel(local("2026-06-02 11:00"), tick=False):
        await bot.press(piet, "Beantwoorden")
        await bot.send(piet, "Wordt morgen opgehaald.")
        await bot.press(piet, "Versturen")


async def test_stats_are_for_moderators_only(qbot: BotHarness) -> None:
    anna = qbot.person(1001, "Anna")
    await onboard(qbot, anna)
    [reply] = await qbot.send(anna, "/stats")
    assert reply.text == "Dit kunnen alleen moderatoren."
    assert qbot.calls("sendPhoto") == []


async def test_stats_give_figures_and_a_chart(qbot: BotHarness) -> None:
    await busy_municipality(qbot)
    mo = qbot.person(MODERATOR_ID, "Mo")
    text, chart = await qbot.send(mo, "/stats")
    assert "<b>Ideeën:</b> 2 (IJmuiden 2)" in text.text
    # Topic names as the taxonomy has them, in the reader's language.
    assert "<b>Ideeën per onderwerp:</b> Melding openbare ruimte 2" in text.text
    assert "<b>Vragen per onderwerp:</b> Melding openbare ruimte 1" in text.text
    assert "<b>Meedoen:</b> 1 keer" in text.text
    assert "<b>Vragen aan de gemeente:</b> 1, waarvan 1 open" in text.text
    # Monday 10:00 to Tuesday 11:00: 14/24 + 11/24 of a working day.
    assert "<b>Tijd tot antwoord:</b> de helft van de vragen binnen 1 werkdag" in text.text
    assert "<b>Niet op tijd beantwoord:</b> 0" in text.text
    assert chart.method == "sendPhoto"
    name, content, _ = chart.files["photo"]
    assert name == "burgerbeest-stats.png" and content.startswith(b"\x89PNG")


async def test_export_writes_anonymised_csvs(qbot: BotHarness, tmp_path: Path, monkeypatch) -> None:
    await busy_municipality(qbot)
    config = tmp_path / "export-config.toml"
    config.write_text(
        f'[database]\nurl = "{qbot.config.database_url}"\n'
        '[municipality]\nname = "Velsen"\nkernen = ["IJmuiden", "Driehuis"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BURGERBEEST_TOKEN", "123:export-test")
    out = tmp_path / "export"
    await qbot.stop()  # the CLI opens the database on its own, as it would next to the bot
    command = ["export", "--out", str(out), "--config", str(config)]
    assert await asyncio.to_thread(main, command) == 0
    with (out / "initiatieven.csv").open(encoding="utf-8") as f:
        initiatives = list(csv.DictReader(f))
    assert [(r["titel"], r["kern"], r["onderwerp"], r["mensen"]) for r in initiatives] == [
        ("Hondenspeeltuin in het park", "IJmuiden", "openbare-ruimte", "2"),
        ("Repair café", "IJmuiden", "openbare-ruimte", "1"),
    ]
    with (out / "initiatieven_per_onderwerp.csv").open(encoding="utf-8") as f:
        [per_topic] = list(csv.DictReader(f))
    assert per_topic["onderwerp"] == "openbare-ruimte" and per_topic["aantal"] == "2"
    assert per_topic["naam"] == "Melding openbare ruimte"
    with (out / "vragen.csv").open(encoding="utf-8") as f:
        [question] = list(csv.DictReader(f))
    assert question["deadline_gemist"] == "nee" and float(question["werkdagen_tot_antwoord"]) > 0
    exported = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.csv"))
    for personal in ("Anna", "Bram", "Piet", "grofvuil", "opgehaald"):
        assert personal not in exported


async def _set(bot: BotHarness, number: int, **values: object) -> None:
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(update(Initiative).where(Initiative.id == number).values(**values))


async def test_stats_per_topic_in_english_with_unknown_and_without_rejected(
    qbot: BotHarness,
) -> None:
    await busy_municipality(qbot)
    # A third idea the classifier was unsure of, a fourth a moderator rejected (spam).
    anna = qbot.person(1001, "Anna")
    for title in ("Iets leuks", "Koop nu goedkope zonnebrillen"):
        await save_idea(qbot, anna, title)
    await _set(qbot, 3, topic=None)
    await _set(qbot, 4, visibility=Visibility.REJECTED)
    mo = qbot.person(MODERATOR_ID, "Mo", language_code="en")
    text, chart = await qbot.send(mo, "/stats")
    assert "<b>Ideas:</b> 3 (IJmuiden 3)" in text.text
    assert "<b>Ideas by topic:</b> Report about public space 2, unknown 1" in text.text
    assert "<b>Questions by topic:</b> Report about public space 1" in text.text
    assert chart.files["photo"][1].startswith(b"\x89PNG")
    figures = await services(qbot).stats.compute()
    assert figures.initiatives_by_topic == Counter({"openbare-ruimte": 2, UNKNOWN: 1})
    [month] = figures.initiatives_by_month_topic.values()
    assert month == figures.initiatives_by_topic


async def test_export_leaves_out_rejected_and_titles_not_yet_moderated(
    qbot: BotHarness, tmp_path: Path
) -> None:
    await busy_municipality(qbot)
    await _set(qbot, 1, visibility=Visibility.HIDDEN)
    await _set(qbot, 2, visibility=Visibility.REJECTED, topic=None)
    tables = await services(qbot).stats.export_tables()
    header, rows = tables["initiatieven.csv"]
    assert [dict(zip(header, row, strict=True))["titel"] for row in rows] == [""]
    _, per_topic = tables["initiatieven_per_onderwerp.csv"]
    assert [(topic, n) for _, topic, _, n in per_topic] == [("openbare-ruimte", 1)]


async def test_a_deadline_passed_before_its_escalation_still_counts_as_missed(
    qbot: BotHarness,
) -> None:
    """Escalation waits for the next dispatch time after the deadline; an answer (or nothing)
    in between is still late."""
    await busy_municipality(qbot)  # answered Tuesday 11:00
    bram = qbot.person(1002, "Bram")
    with time_machine.travel(local("2026-06-03 10:00"), tick=False):
        await ask(qbot, bram)
    async with qbot.app.bot_data["sessions"].begin() as session:
        # The first was due Tuesday 10:00, the second Wednesday 12:00: both passed, neither
        # escalated yet.
        await session.execute(
            update(Question).where(Question.id == 1).values(deadline_at=local("2026-06-02 10:00"))
        )
        await session.execute(
            update(Question).where(Question.id == 2).values(deadline_at=local("2026-06-03 12:00"))
        )
    figures = await services(qbot).stats.compute()
    assert figures.deadlines_missed == 2
    tables = await services(qbot).stats.export_tables()
    header, rows = tables["vragen.csv"]
    assert [dict(zip(header, row, strict=True))["deadline_gemist"] for row in rows] == [
        "ja",
        "ja",
    ]
    # Answered in time, or not yet due: not missed.
    async with qbot.app.bot_data["sessions"].begin() as session:
        await session.execute(update(Question).values(deadline_at=local("2036-06-03 12:00")))
    assert (await services(qbot).stats.compute()).deadlines_missed == 0


async def _subtopics(bot: BotHarness) -> None:
    """Five ideas: two under the same subtopic, one under another, one known no further than its
    main topic, and one of another main topic without subtopic."""
    await busy_municipality(bot)
    anna = bot.person(1001, "Anna")
    for title in ("Geveltuinen", "Kunstroute", "Buurtfeest"):
        await save_idea(bot, anna, title)
    await _set(bot, 1, topic="initiatieven/groen")
    await _set(bot, 2, topic="openbare-ruimte")
    await _set(bot, 3, topic="initiatieven/groen")
    await _set(bot, 4, topic="initiatieven/cultuur-kunst")
    await _set(bot, 5, topic="initiatieven")


async def test_stats_count_per_main_topic_and_break_the_biggest_down_per_subtopic(
    qbot: BotHarness,
) -> None:
    await _subtopics(qbot)
    mo = qbot.person(MODERATOR_ID, "Mo", language_code="en")
    text, _ = await qbot.send(mo, "/stats")
    # Per main topic as before; below it the subtopics (short names), those without one last.
    assert (
        "<b>Ideas by topic:</b> Resident initiatives and participation 4, "
        "Report about public space 1\n"
        "  ↳ Resident initiatives and participation: Greening the neighbourhood 2, "
        "Art and culture 1, general 1\n"
        "<b>Joining:</b>" in text.text
    )
    figures = await services(qbot).stats.compute()
    assert figures.initiatives_by_topic == Counter({"initiatieven": 4, "openbare-ruimte": 1})
    assert figures.initiatives_by_subtopic == {
        "initiatieven": Counter(
            {"initiatieven/groen": 2, "initiatieven/cultuur-kunst": 1, "initiatieven": 1}
        ),
        "openbare-ruimte": Counter({"openbare-ruimte": 1}),
    }
    # The chart counts per main topic.
    [month] = figures.initiatives_by_month_topic.values()
    assert month == figures.initiatives_by_topic


async def test_export_counts_per_main_topic_and_per_subtopic(qbot: BotHarness) -> None:
    await _subtopics(qbot)
    tables = await services(qbot).stats.export_tables()
    header, rows = tables["initiatieven.csv"]
    assert [
        (row[header.index("onderwerp")], row[header.index("subonderwerp")]) for row in rows
    ] == [
        ("initiatieven", "initiatieven/groen"),
        ("openbare-ruimte", ""),
        ("initiatieven", "initiatieven/groen"),
        ("initiatieven", "initiatieven/cultuur-kunst"),
        ("initiatieven", ""),
    ]
    _, per_topic = tables["initiatieven_per_onderwerp.csv"]
    assert [(topic, name, n) for _, topic, name, n in per_topic] == [
        ("initiatieven", "Bewonersinitiatieven en meedoen", 4),
        ("openbare-ruimte", "Melding openbare ruimte", 1),
    ]
    header, per_subtopic = tables["initiatieven_per_subonderwerp.csv"]
    assert header == ("maand", "onderwerp", "subonderwerp", "naam", "aantal")
    assert [row[1:] for row in per_subtopic] == [
        ("initiatieven", "", "", 1),
        ("initiatieven", "initiatieven/cultuur-kunst", "Kunst en cultuur", 1),
        (
            "initiatieven",
            "initiatieven/groen",
            "Groen in de buurt (geveltuinen, buurttuinen, vergroening)",
            2,
        ),
        ("openbare-ruimte", "", "", 1),
    ]


async def test_topic_names_are_escaped_once(qbot: BotHarness, monkeypatch) -> None:
    import handlers.moderators.stats

    await _subtopics(qbot)
    names = {"initiatieven": "Meedoen <samen>", "initiatieven/cultuur-kunst": "Kunst & cultuur"}
    monkeypatch.setattr(
        handlers.moderators.stats,
        "_topic_namer",
        lambda context, t: lambda key: names.get(key, key),
    )
    mo = qbot.person(MODERATOR_ID, "Mo")
    text, _ = await qbot.send(mo, "/stats")
    assert "Meedoen &lt;samen&gt;: " in text.text and "Kunst &amp; cultuur 1" in text.text
    assert "&amp;amp;" not in text.text and "&amp;lt;" not in text.text
