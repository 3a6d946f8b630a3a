"""Logging set-up that never lets the bot token reach a log line.

PTB and httpx put the token in request URLs, and exceptions may carry those URLs; so the redaction
happens on the fully formatted record, traceback included, not on the message alone.
"""

from __future__ import annotations

import logging
import sys

REDACTED = "<token>"


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: list[str], fmt: str) -> None:
        super().__init__(fmt)
        # Also the secret half alone: some messages show only the part after "<id>:".
        parts = {s for s in secrets if s} | {s.partition(":")[2] for s in secrets if ":" in s}
        self._secrets = sorted((p for p in parts if len(p) >= 4), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (tests swap it)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class _OneLineErrors(logging.Filter):
    """An unreachable Bot API is an operational fact, not a bug: one line, not a traceback.
    The errors that mean it are the Telegram side's (NetworkError), given by the caller."""

    def __init__(self, kinds: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self._kinds = kinds

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if self._kinds and isinstance(error, self._kinds):
            record.msg = f"{record.getMessage()} ({error})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(
    level: str, secrets: list[str], one_line: tuple[type[BaseException], ...] = ()
) -> None:
    """Route all logging to stderr through the redacting formatter; errors of the `one_line`
    kinds are logged as one line, without a traceback."""
    handler = _StderrHandler()
    handler.addFilter(_OneLineErrors(one_line))
    handler.setFormatter(
        RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL (which contains the token) at INFO: only its warnings matter.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters (residents' words) at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
