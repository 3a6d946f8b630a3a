"""What became of one message sent to one person: the words the dispatch loop and the broadcast
sender share. Free of Telegram: the Telegram side reads its answer into a `Result`
(handlers/delivery.py), and each loop maps it onto its own stored states.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the recipient blocked the bot: never retried, they become inactive
    # A passing failure, nothing delivered: the same message may be tried again. With a
    # `retry_after` it is flood control (Telegram pausing the bot, not this message failing).
    RETRY = "retry"
    FAILED = "failed"  # will not work however often it is tried (a 400: chat not found, …)
    UNKNOWN = "unknown"  # no answer: it may have arrived, so it is never sent again


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    retry_after: float | None = None  # seconds, for flood control
    error: str = ""

    @property
    def flood_control(self) -> bool:
        return self.outcome is Outcome.RETRY and self.retry_after is not None


SENT = Result(Outcome.SENT)
