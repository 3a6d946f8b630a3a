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


def test_an_unreachable_bot_api_is_one_line_not_a_traceback(capsys) -> None:
    import logging

    from telegram.error import NetworkError

    from bot.logs import configure_logging

    configure_logging("INFO", [TOKEN], one_line=(NetworkError,))
    try:
        raise NetworkError(f"httpx.ConnectError at /bot{TOKEN}/getMe")
    except NetworkError:
        logging.getLogger("telegram.ext").exception("Network Retry Loop: Aborting.")
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert "Aborting. (httpx.ConnectError at /bot<token>/getMe)" in err
