"""The token never reaches a log line, not even inside a traceback."""

from __future__ import annotations

import logging

from bot.logs import REDACTED, RedactingFormatter

TOKEN = "123456:AAsecret-token-value_xyz"


def record(message: str, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("t", logging.ERROR, __file__, 1, message, None, exc_info)  # type: ignore[arg-type]


def test_the_token_is_redacted_from_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter([TOKEN], "%(message)s")
    line = formatter.format(record(f"POST https://api.telegram.org/bot{TOKEN}/getMe"))
    assert TOKEN not in line and f"/bot{REDACTED}/getMe" in line
    try:
        raise RuntimeError(f"failed: https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError:
        import sys

        line = formatter.format(record("boom", sys.exc_info()))
    assert "Traceback" in line and TOKEN not in line


def test_the_secret_half_alone_is_redacted_too() -> None:
    formatter = RedactingFormatter([TOKEN], "%(message)s")
    assert "AAsecret" not in formatter.format(record("secret: AAsecret-token-value_xyz"))
