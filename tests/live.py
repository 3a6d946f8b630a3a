"""The bot as its own process, over HTTP, against the local stand-in of the Bot API: the
helpers that process-level tests share (start/stop the process, act as a resident, seed
questions waiting for their dispatch)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update

from bot.migrate import upgrade
from bot.services.questions import QuestionDraft, QuestionService
from models import CivilServant, Question, Role, ScheduledWork, User, WorkKind, WorkState
from models.base import utcnow
from models.database import create_engine, create_sessionmaker
from testing.fake_telegram.server import FakeBotApi
from testing.fake_telegram.updates import user

TOKEN = "4242:process-test-secret-token"
# Generous: under a loaded CI machine a bot process can take several seconds to start.
WAIT = 60.0


def write_config(directory: Path, api: FakeBotApi, database_url: str) -> Path:
    path = directory / "config.toml"
    path.write_text(
        "[telegram]\n"
        f'api_base_url = "{api.base_url}"\n'
        "[database]\n"
        f'url = "{database_url}"\n'
        "[municipality]\n"
        'name = "Velsen"\n'
        'kernen = ["IJmuiden", "Driehuis", "Velserbroek"]\n',
        encoding="utf-8",
    )
    return path


@contextmanager
def bot_process(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "BURGERBEEST_TOKEN": TOKEN}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=WAIT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class Resident:
    """A person in the stand-in's chat: types, presses buttons, reads what the bot sent."""

    def __init__(self, api: FakeBotApi, **profile: object) -> None:
        self.api = api
        self.user = user(**profile)  # type: ignore[arg-type]
        self.id = self.user["id"]

    def says(self, text: str) -> str:
        mark = self.api.mark()
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            self.api.enqueue(self.api.updates.command(self.user, command, args))
        else:
            self.api.enqueue(self.api.updates.text(self.user, text))
        return self.api.wait_for_sync(
            "sendMessage", chat_id=self.id, since=mark, timeout=WAIT, ok=True
        ).text

    def expects(self, fragment: str) -> str:
        """Wait for a message with `fragment` that was not read yet (a second reply)."""
        call = self.api.wait_for_sync(
            "sendMessage", lambda c: fragment in c.text, chat_id=self.id, timeout=WAIT, ok=True
        )
        return call.text

    def presses(self, label: str, expect: str = "sendMessage") -> str:
        """Press the newest button whose label contains `label`; the text of the bot's next
        `expect` call (a new message, or an edit for buttons that change in place)."""
        for message in reversed(self.api.chat_messages(self.id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        mark = self.api.mark()
                        self.api.enqueue(
                            self.api.updates.press(
                                self.user, button["callback_data"], message=message
                            )
                        )
                        return self.api.wait_for_sync(
                            expect, chat_id=self.id, since=mark, timeout=WAIT, ok=True
                        ).text
        raise AssertionError(f"no button {label!r} in the chat")


# --- questions waiting for their dispatch ---------------------------------------------------

NUMBER = re.compile(r"V-\d{4}-\d{4}")
FIRST_ASKER = 60_000


@dataclass(frozen=True)
class Servant:
    """A civil servant as the process tests seed one: who, which topic, whose backup."""

    telegram_id: int
    name: str
    topic: str
    backup: int | None = None  # the backup's Telegram id


def seed_questions(database_url: str, servants: Sequence[Servant], topics: Sequence[str]) -> None:
    """The schema, the civil servants, and one question per entry of `topics` asked through the
    question service, routed by the servants' profiles. A process cannot be time-travelled, so
    every digest header and card is then made due already (urgent cards are due at once)."""

    async def seed() -> None:
        engine = create_engine(database_url)
        sessions = create_sessionmaker(engine)
        try:
            await upgrade(engine)
            async with sessions.begin() as session:
                by_id: dict[int, CivilServant] = {}
                for servant in servants:
                    account = User(
                        telegram_id=servant.telegram_id,
                        consent_at=utcnow(),
                        language="nl",
                        role=Role.CIVIL_SERVANT,
                    )
                    profile = CivilServant(
                        user=account,
                        name=servant.name,
                        department="Gemeente",
                        topics=[servant.topic],
                    )
                    session.add(profile)
                    by_id[servant.telegram_id] = profile
                await session.flush()
                for servant in servants:
                    if servant.backup is not None:
                        by_id[servant.telegram_id].backup_id = by_id[servant.backup].id
                askers = [
                    User(telegram_id=FIRST_ASKER + n, consent_at=utcnow(), kern="IJmuiden")
                    for n in range(len(topics))
                ]
                session.add_all(askers)
            questions = QuestionService(sessions)
            for n, (asker, topic) in enumerate(zip(askers, topics, strict=True)):
                draft = QuestionDraft(text=f"Vraag {n} over {topic}", topic_key=topic, confidence=1)
                assert (await questions.submit(asker, draft)).ok
            async with sessions.begin() as session:
                await session.execute(
                    update(ScheduledWork)
                    .where(
                        ScheduledWork.kind.in_([WorkKind.DIGEST, WorkKind.DELIVER]),
                        ScheduledWork.state == WorkState.PENDING,
                    )
                    .values(due_at=utcnow() - timedelta(minutes=1))
                )
        finally:
            await engine.dispose()

    asyncio.run(seed())


@dataclass(frozen=True)
class Work:
    """A scheduled message as the database has it after the run."""

    kind: WorkKind
    state: WorkState
    number: str | None  # the question's number
    recipient: int | None  # Telegram id
    assignee: int | None  # Telegram id of the question's civil servant now


def scheduled_work(database_url: str) -> list[Work]:
    async def read() -> list[Work]:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                rows = await session.scalars(select(ScheduledWork).order_by(ScheduledWork.id))
                work = []
                for row in rows:
                    question = await session.get(Question, row.question_id or 0)
                    recipient = await session.get(User, row.recipient_id or 0)
                    assignee = (
                        await session.get(CivilServant, question.assignee_id or 0)
                        if question
                        else None
                    )
                    work.append(
                        Work(
                            row.kind,
                            row.state,
                            question.number if question else None,
                            recipient.telegram_id if recipient else None,
                            assignee.user.telegram_id if assignee else None,
                        )
                    )
                return work
        finally:
            await engine.dispose()

    return asyncio.run(read())


def wait_until_dispatched(database_url: str, timeout: float) -> None:
    """Until nothing is due or claimed any more (reminders and escalations lie ahead)."""

    async def busy() -> int:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                rows = await session.scalars(
                    select(ScheduledWork.id).where(
                        or_(
                            ScheduledWork.state == WorkState.CLAIMED,
                            (ScheduledWork.state == WorkState.PENDING)
                            & (ScheduledWork.due_at <= utcnow()),
                        )
                    )
                )
                return len(list(rows))
        finally:
            await engine.dispose()

    deadline = time.monotonic() + timeout
    while left := asyncio.run(busy()):
        assert time.monotonic() < deadline, f"{left} scheduled messages still due or claimed"
        time.sleep(0.5)


def delivered_numbers(api: FakeBotApi) -> dict[str, Counter[int]]:
    """Per question number, the chats that received a message about it (once per message)."""
    seen: dict[str, Counter[int]] = {}
    for call in api.calls("sendMessage"):
        if call.ok and isinstance(call.chat_id, int):
            for number in set(NUMBER.findall(call.text)):
                seen.setdefault(number, Counter())[call.chat_id] += 1
    return seen
