"""Several instances on one database: their scheduled work runs at the same moment, and still
every question is forwarded once (claims in a transaction; SKIP LOCKED-free conditional
updates, so the same holds on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import time_machine

from handlers.dispatch import dispatch_tick
from tests.flows import onboard
from tests.harness import BotHarness
from tests.questions_support import ask, join, local, qbot

__all__ = ["qbot"]

QUESTIONS = 20


async def test_two_instances_dispatch_at_once_and_each_question_is_forwarded_once(
    qbot: BotHarness,
) -> None:
    first = qbot
    anna, piet = first.person(1001, "Anna"), first.person(2001, "Piet")
    await onboard(first, anna)
    await join(first, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):  # Monday
        for n in range(QUESTIONS):
            await ask(
                first, anna, f"Container nummer {n} bij de flat is vol, het afval ligt ernaast."
            )

    second = BotHarness(first.config)
    await second.start()
    try:
        with time_machine.travel(local("2026-06-01 14:00"), tick=False):
            await asyncio.gather(dispatch_tick(first.context()), dispatch_tick(second.context()))
        sent = [
            c.text for bot in (first, second) for c in bot.replies(piet) if c.result is not None
        ]
    finally:
        await second.stop()
    tickets = Counter(m.group(0) for text in sent for m in re.finditer(r"V-2026-\d{4}", text))
    cards = [t for t in sent if t.startswith("📨")]
    assert len(cards) == QUESTIONS
    assert sorted(tickets) == [f"V-2026-{n:04d}" for n in range(1, QUESTIONS + 1)]
    assert set(tickets.values()) == {1}
    assert sum("nieuwe vragen" in t for t in sent) == 1  # one digest header, not one each
    assert not second.errors
