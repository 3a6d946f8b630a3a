"""Nothing lost, nothing left behind: ids are never reused, erasure and retention leave no words
in scheduled work, restoring is idempotent, database errors log no words, names are cleaned."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, text

from bot.logs import configure_logging
from bot.migrate import downgrade, upgrade
from handlers.jobs import apply_retention
from handlers.residents import initiative as idee
from handlers.residents import introductions
from models import Base, MatchNotice, ScheduledWork
from models.database import create_engine
from tests import databases
from tests.flows import DESCRIPTION, answer_until_summary, onboard
from tests.harness import TOKEN, BotHarness, Person
from tests.moderators.test_moderation import _bot as moderation_bot
from tests.moderators.test_moderation import people, submit
from tests.questions_support import AFVAL, ask, join, local, qbot, tick

__all__ = ["qbot"]
REPLY_WORDS = "De container bij Kennemerlaan 12, naast mijn voordeur."
CHECK_IN = "idee.check_in"
REPLY = "vraag.reply_to_servant"
REFUSE_INITIATIVES = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON initiatives"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE unique_violation USING MESSAGE = 'refused'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON initiatives FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}
NEW_INITIATIVE = (
    "INSERT INTO initiatives (author_id, title, description, motivation, kern, needs,"
    " allow_introductions, status, updated_at)"
    " VALUES (1, '{title}', '', '', 'IJmuiden', '[]', true, 'idee', {now})"
)
NEVER_REUSED_TABLES = [
    t.name for t in Base.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]
]


async def _erase(bot: BotHarness, who: Person) -> None:
    await bot.send(who, "/vergeetmij")
    await bot.press(who, "Ja, wis alles")
    assert "ik ben je vergeten" in bot.last_text(who)


async def test_an_idea_can_be_saved_after_the_newest_ideas_author_was_erased(
    bot: BotHarness,
) -> None:
    anna = bot.person(1001, "Anna")
    bram = bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
    await bot.press(anna, "Opslaan")
    await _erase(bot, anna)
    await answer_until_summary(bot, bram, "Moestuin bij de school")
    await bot.press(bram, "Opslaan")
    assert "Opgeslagen" in bot.last_text(bram), bot.last_text(bram)
    async with bot.app.bot_data["sessions"]() as session:
        keys = list(await session.scalars(select(ScheduledWork.key)))
    # Anna's check-in went with her; Bram's idea got an id of its own.
    assert keys == ["check-in:2"]


async def test_restoring_a_hidden_initiative_that_already_made_notices(
    tmp_path: Path, database_url: str
) -> None:
    bot = await moderation_bot(tmp_path, database_url, "post")
    try:
        anna, bob, moderator = await people(bot)
        await submit(bot, anna, "Hondenspeeltuin in het park")
        await answer_until_summary(bot, bob, "Hondenspeeltuin bij het park")
        await bot.press(bob, idee.SAVE.build())
        await bot.press(bob, idee.DIFFERENT.build())  # shown Anna's: saves his own
        number = 2
        async with bot.app.bot_data["sessions"]() as session:
            notices = list(await session.scalars(select(MatchNotice.new_initiative_id)))
        assert notices == [number]  # Anna hears of Bob's newer idea
        await bot.send(moderator, f"/verberg {number}")
        await bot.send(moderator, "/wachtrij")
        await bot.press(moderator, "Terugzetten")
        assert "Sorry" not in bot.last_text(moderator)
        async with bot.app.bot_data["sessions"]() as session:
            assert list(await session.scalars(select(MatchNotice.new_initiative_id))) == [number]
    finally:
        await bot.stop()
    assert not bot.errors, f"handlers raised: {bot.errors!r}"


async def test_a_name_with_bidi_overrides_reaches_others_cleaned(bot: BotHarness) -> None:
    # U+202E turns "exe.txt" around on screen (txt.exe); U+200B hides in "Bra\u200bm".
    anna = bot.person(1001, "Anna", username="anna_ijm")
    bram = bot.person(1002, "Bram\u202eexe.txt \u2066Bra\u200bm\u2069")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
    await bot.press(anna, "Opslaan")
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, idee.MEET.build(1))
    await bot.press(anna, introductions.DECIDE.build("accept", 1))
    to_anna = bot.last_text(anna)
    assert '<a href="tg://user?id=1002">Bramexe.txt Bram</a>' in to_anna
    assert not any(ch in c.text for c in bot.replies(anna) for ch in "\u202e\u2066\u2069\u200b")


async def test_migrating_keeps_rows_forgets_words_and_never_reuses_an_id(
    empty_database_url: str,
) -> None:
    """0008 on a database with history: rows that refer to rebuilt tables survive (SQLite
    rebuilds them), the next initiative gets a number none ever had, and scheduled work keeps
    references, not words, and nothing for an erased person; downgrading puts words back."""
    engine = create_engine(empty_database_url)
    now = "CURRENT_TIMESTAMP"
    try:
        await upgrade(engine, "0007")
        async with engine.begin() as db:
            await db.execute(
                text(
                    "INSERT INTO users (id, telegram_id, display_name) VALUES"
                    " (1, 1001, :anna), (2, -2, NULL), (3, 1003, 'Ambtenaar')"
                ),
                {"anna": "Anna\u202e Smit"},
            )
            for _ in range(5):  # ids 1 to 5, given by the database as the bot's are
                await db.execute(text(NEW_INITIATIVE.format(title="Hondenspeeltuin", now=now)))
            await db.execute(text("INSERT INTO supporters (initiative_id, user_id) VALUES (1, 1)"))
            await db.execute(text("DELETE FROM initiatives WHERE id = 5"))
            await db.execute(
                text(
                    "INSERT INTO questions (id, resident_id, text, details, status, updated_at)"
                    f" VALUES (1, 1, 'Waar blijft mijn paspoort?', '{{}}', 'bij_ambtenaar', {now})"
                )
            )
            await db.execute(
                text(
                    "INSERT INTO question_events (id, question_id, kind, text, at)"
                    f" VALUES (7, 1, 'resident_replied', 'Mijn woorden', {now})"
                )
            )
            for key, recipient, question, payload in (
                ("check-in:5", 2, None, {"key": CHECK_IN, "values": {"title": "Geheim"}}),
                ("check-in:1", 1, None, {"key": CHECK_IN, "values": {"title": "Hondenspeeltuin"}}),
                (None, 3, 1, {"key": REPLY, "values": {"reply": "Mijn woorden"}}),
            ):
                payload = {**payload, "initiative_id": int(key[9:])} if key else payload
                await db.execute(
                    text(
                        "INSERT INTO scheduled_work (kind, state, due_at, question_id,"
                        " recipient_id, payload, key, attempts) VALUES ('notice', 'pending',"
                        f" {now}, :question, :recipient, :payload, :key, 0)"
                    ),
                    {
                        "question": question,
                        "recipient": recipient,
                        "payload": json.dumps(payload),
                        "key": key,
                    },
                )

        await upgrade(engine)
        async with engine.begin() as db:
            assert await db.scalar(text("SELECT COUNT(*) FROM supporters")) == 1
            assert await db.scalar(text("SELECT display_name FROM users WHERE id = 1")) == (
                "Anna Smit"
            )
            work = (await db.execute(text("SELECT key, payload FROM scheduled_work"))).all()
            payloads = {key: _json(payload) for key, payload in work}
            assert payloads == {
                "check-in:1": {"key": CHECK_IN, "values": {}, "initiative_id": 1},
                None: {"key": REPLY, "values": {}, "event_texts": {"reply": 7}},
            }
            if databases.dialect() == "sqlite":
                for table in NEVER_REUSED_TABLES:
                    create = await db.scalar(
                        text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}
                    )
                    assert "PRIMARY KEY AUTOINCREMENT" in create, table
            await db.execute(text(NEW_INITIATIVE.format(title="Moestuin", now=now)))
            assert await db.scalar(text("SELECT MAX(id) FROM initiatives")) == 6

        await downgrade(engine, "0007")
        async with engine.connect() as db:
            work = (await db.execute(text("SELECT key, payload FROM scheduled_work"))).all()
            payloads = {key: _json(payload) for key, payload in work}
            assert payloads[None]["values"] == {"reply": "Mijn woorden"}
            assert payloads["check-in:1"]["values"] == {"title": "Hondenspeeltuin", "number": 1}
            assert await db.scalar(text("SELECT COUNT(*) FROM supporters")) == 1
        await upgrade(engine)
    finally:
        await engine.dispose()


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


async def _work_texts(bot: BotHarness) -> str:
    """Every scheduled_work payload, as one text to search."""
    async with bot.app.bot_data["sessions"]() as session:
        return json.dumps(list(await session.scalars(select(ScheduledWork.payload))))


async def _asked_and_replied(bot: BotHarness, anna: Person, piet: Person) -> None:
    """Anna asks; Piet asks her for more ('Meer info vragen'); she replies with REPLY_WORDS,
    which reach him."""
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna)
    await tick(bot, "2026-06-01 14:00")
    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        await bot.press(piet, "Meer info vragen")
        await bot.send(piet, "Om welke container gaat het precies?")
        await bot.press(piet, "Versturen")
        await bot.press(anna, "Antwoord geven")
        await bot.send(anna, REPLY_WORDS)
    assert REPLY_WORDS in bot.last_text(piet)  # read from its event when sent


async def test_erasure_leaves_no_words_of_the_resident_in_scheduled_work(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await _asked_and_replied(bot, anna, piet)
    await answer_until_summary(bot, anna, "Geheime moestuin achter het huis")
    await bot.press(anna, "Opslaan")
    await _erase(bot, anna)
    stored = await _work_texts(bot)
    for words in (REPLY_WORDS, "Geheime moestuin", AFVAL[:30]):
        assert words not in stored


async def test_retention_leaves_no_words_of_the_resident_in_scheduled_work(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await _asked_and_replied(bot, anna, piet)
    with time_machine.travel(local("2026-06-01 16:00"), tick=False):
        await bot.press(piet, "Sluiten")
    with time_machine.travel(local("2027-07-01 10:00"), tick=False):
        await apply_retention(bot.context())
    assert REPLY_WORDS not in await _work_texts(bot)


@contextlib.contextmanager
def _logging_as_run_does() -> Iterator[None]:
    """The process's logging set-up, at its most talkative, put back afterwards."""
    root = logging.getLogger()
    loggers = [root, *logging.Logger.manager.loggerDict.values()]
    levels = {lg: lg.level for lg in loggers if isinstance(lg, logging.Logger)}
    handlers = root.handlers[:]
    configure_logging("DEBUG", [TOKEN])
    try:
        yield
    finally:
        root.handlers[:] = handlers
        for logger, level in levels.items():
            logger.setLevel(level)


async def test_a_database_error_logs_no_words_of_the_resident(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await answer_until_summary(bot, anna, "Moestuin van Anna Jansen")
    # Any failing statement will do: here the database refuses every new initiative.
    async with bot.app.bot_data["engine"].begin() as db:
        for statement in REFUSE_INITIATIVES[databases.dialect()]:
            await db.execute(text(statement))
    with _logging_as_run_does():
        await bot.press(anna, "Opslaan")
    assert "Sorry" in bot.last_text(anna)
    assert [type(e).__name__ for e in bot.errors] == ["IntegrityError"]
    bot.errors.clear()  # the error this test provoked
    lines = capsys.readouterr().err
    assert "IntegrityError" in lines and "INSERT INTO initiatives" in lines  # logged, usefully
    assert "Anna Jansen" not in lines and DESCRIPTION[:40] not in lines
