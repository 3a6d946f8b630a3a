"""Conversation state that cannot be written (a full disk): the person is told to try again and
is back at their last stored step, /metrics counts the failed writes, /healthz is unhealthy
until a write succeeds again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from handlers.persistence import StateNotSaved
from tests.flows import onboard
from tests.harness import BotHarness
from tests.test_shared_state import pair, stored_state
from tests.test_web import web

__all__ = ["pair", "web"]
NOT_SAVED = "kon ik dit niet bewaren"


@contextmanager
def disk_full(bot: BotHarness) -> Iterator[None]:
    """Every write to bot_state fails as SQLite fails on a full disk."""
    engine = bot.app.bot_data["engine"].sync_engine

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "bot_state" in statement and not statement.lstrip().startswith("SELECT"):
            raise OperationalError(statement, None, Exception("database or disk is full"))

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


async def test_a_state_that_cannot_be_written_is_told_counted_and_unhealthy(
    bot: BotHarness, web: httpx.AsyncClient
) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/idee")
    with disk_full(bot):
        replies = await bot.send(anna, "Hondenspeeltuin")
        assert NOT_SAVED in replies[-1].text
        assert [type(e) for e in bot.errors] == [StateNotSaved]
        bot.errors.clear()
        metrics = (await web.get("/metrics")).text
        # The draft in user_data and the step: two writes.
        assert "burgerbeest_state_write_failures_total 2.0" in metrics
        health = await web.get("/healthz")
        assert health.status_code == 503
        assert health.json()["state_writes"] == "failing"

    # Back at the title, as stored: trying again is answering it again.
    assert "2/6" in (await bot.send(anna, "Hondenspeeltuin"))[-1].text
    assert (await stored_state(bot, anna))["user_data"]["draft"]["title"] == "Hondenspeeltuin"
    health = await web.get("/healthz")
    assert health.status_code == 200 and health.json()["state_writes"] == "ok"


async def test_on_shared_state_instances_the_person_is_told_once(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    a, b = pair
    anna = a.person(1001, "Anna")
    await onboard(a, anna)
    await a.send(anna, "/idee")
    with disk_full(b):
        replies = await b.send(anna, "Hondenspeeltuin")
    assert [NOT_SAVED in r.text for r in replies] == [False, True]
    assert [type(e) for e in b.errors] == [StateNotSaved]
    b.errors.clear()
    assert "2/6" in (await a.send(anna, "Hondenspeeltuin"))[-1].text
