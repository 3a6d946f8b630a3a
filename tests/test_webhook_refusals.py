"""The webhook refuses what is not Telegram's, briefly: a wrong secret or a body that is not an
update gets a short 4xx answer and at most one log line a minute, never a 500 or a traceback."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from handlers.web import SECRET_HEADER
from tests.harness import BotHarness
from tests.test_web import SECRET, _settle, web

__all__ = ["web"]


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What reached the log at WARNING or above, from any logger (tornado's access log too)."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_calls_without_the_secret_log_one_line_a_minute(
    bot: BotHarness,
    web: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    update = bot.updates.command(bot.person(1001).payload, "help")
    caplog.set_level(logging.INFO)
    for _ in range(30):
        response = await web.post("/telegram", json=update, headers={SECRET_HEADER: "wrong"})
        assert response.status_code == 403
        assert len(response.content) < 40
    [line] = lines(caplog)
    assert "without the right secret token" in line.getMessage()

    started = time.monotonic()
    monkeypatch.setattr("handlers.web.monotonic", lambda: started + 61)
    caplog.clear()
    await web.post("/telegram", json=update)
    [line] = lines(caplog)
    assert "29 more like it" in line.getMessage()
    assert bot.replies(bot.person(1001)) == []


MALFORMED = (
    b"not json",
    b"\xff\xfe",
    b"[]",
    b'"an update"',
    b"null",
    b"{}",
    b'{"update_id": "7"}',
    b'{"update_id": 1, "message": "hallo"}',
    b'{"update_id": 1, "message": {"message_id": 1}}',
    b'{"update_id": 1, "message": {"message_id": 1, "date": 1e400, "chat": {"id": 1, "type": '
    b'"private"}}}',
    b"[" * 100_000,  # nested deeper than json can read
)


async def test_a_malformed_body_with_the_secret_is_a_400_and_one_short_line(
    bot: BotHarness, web: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for body in MALFORMED:
        response = await web.post("/telegram", content=body, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 400, body[:60]
        assert response.text == "400 Bad Request\n"
    [line] = lines(caplog)  # the first; the rest are counted, within the minute
    assert "is not an update" in line.getMessage()
    assert line.exc_info is None and "Traceback" not in caplog.text

    # Telegram's own updates still go through.
    anna = bot.person(1001, "Anna")
    update = bot.updates.command(anna.payload, "help")
    response = await web.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    await _settle(bot)
    assert "/idee" in bot.last_text(anna)
