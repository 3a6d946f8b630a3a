"""Telegram's answer to a send, read once for scheduled work and announcements alike: only a send
that cannot have arrived is tried again; one that may have is unknown."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.services.delivery import Outcome
from handlers.delivery import outcome_of


def _caused_by(error: Exception, cause: Exception) -> Exception:
    error.__cause__ = cause
    return error


# PTB's own RetryAfter() warns about its future retry_after type.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_telegram_errors_read_as_delivery_outcomes() -> None:
    assert outcome_of(Forbidden("blocked")).outcome is Outcome.BLOCKED
    assert outcome_of(Forbidden("bot was blocked")).outcome is Outcome.BLOCKED
    limited = outcome_of(RetryAfter(timedelta(seconds=7)))
    assert (limited.outcome, limited.retry_after) == (Outcome.RETRY, 7.0)
    assert outcome_of(NetworkError("Bad Gateway")).outcome is Outcome.RETRY  # a 5xx answer
    not_sent = _caused_by(TimedOut(), httpx.ConnectTimeout("connect"))
    assert outcome_of(not_sent).outcome is Outcome.RETRY
    assert outcome_of(TimedOut()).outcome is Outcome.UNKNOWN
    no_answer = _caused_by(TimedOut(), httpx.ReadTimeout("read"))
    assert outcome_of(no_answer).outcome is Outcome.UNKNOWN
    dropped = _caused_by(NetworkError("gone"), httpx.RemoteProtocolError("disconnected"))
    assert outcome_of(dropped).outcome is Outcome.UNKNOWN
    # A 400 ("chat not found", a deleted account) will not get better: no retry.
    assert outcome_of(BadRequest("Chat not found")).outcome is Outcome.FAILED
