"""Telegram's answer to a send, read once for every sender (scheduled work and announcements)."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.services.delivery import SENT, Outcome, Result

# httpx errors that happen before a request leaves: nothing can have been delivered.
_NOT_SENT = {"ConnectError", "ConnectTimeout", "PoolTimeout"}


class PartlySent(TelegramError):
    """A split text of which the first parts arrived and a later one did not."""

    def __init__(self, sent: int, of: int, cause: TelegramError) -> None:
        super().__init__(f"{sent} of {of} parts sent: {cause.message}")
        self.sent, self.of, self.cause = sent, of, cause


async def attempt(send: Awaitable[object]) -> Result:
    """Await one Bot API send and say what became of it."""
    try:
        await send
    except TelegramError as error:
        return outcome_of(error)
    return SENT


def outcome_of(error: TelegramError) -> Result:
    """A refusal or a missing answer; a send that may have arrived is unknown, never retried."""
    if isinstance(error, PartlySent):
        # The first parts arrived: sending it again would repeat them.
        if isinstance(error.cause, Forbidden):
            return Result(Outcome.BLOCKED, error=error.message)
        return Result(Outcome.UNKNOWN, error=error.message)
    if isinstance(error, Forbidden):
        return Result(Outcome.BLOCKED, error=error.message)
    if isinstance(error, RetryAfter):
        return Result(Outcome.RETRY, retry_after=retry_seconds(error), error="flood control")
    if isinstance(error, BadRequest):  # a NetworkError to PTB, but it will not get better
        return Result(Outcome.FAILED, error=error.message)
    if isinstance(error, NetworkError):
        cause = type(error.__cause__).__name__ if error.__cause__ else None
        if cause in _NOT_SENT or (cause is None and not isinstance(error, TimedOut)):
            # Refused before sending, or a 5xx answer (the server did not carry it out).
            return Result(Outcome.RETRY, error=error.message)
        return Result(Outcome.UNKNOWN, error=error.message)
    return Result(Outcome.FAILED, error=error.message)


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asks to wait, in seconds."""
    with warnings.catch_warnings():  # PTB 22 warns about the int form of retry_after
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
