"""Per-user flood control: a friendly slow-down for someone sending faster than a person types.

Kept in memory per process: it protects this process's work, and a burst spread over several
instances is slow enough for each of them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

# 20 updates in 10 seconds is more than anyone answering the bot's questions needs.
DEFAULT_LIMIT = 20
DEFAULT_WINDOW_S = 10.0
MAX_TRACKED = 10_000  # above this many users, idle ones are forgotten


class Verdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"  # the first update over the limit: tell them once
    DROP = "drop"  # later ones in the same burst: silence, so the warning is not spammed


@dataclass
class _Window:
    times: deque[float]
    warned: bool = False


class FloodGuard:
    def __init__(self, limit: int = DEFAULT_LIMIT, window_s: float = DEFAULT_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._users: dict[int, _Window] = {}

    def check(self, user_id: int, now: float) -> Verdict:
        if len(self._users) > MAX_TRACKED:
            self.forget_idle(now)
        window = self._users.get(user_id)
        if window is None:
            window = self._users[user_id] = _Window(deque())
        while window.times and now - window.times[0] >= self.window_s:
            window.times.popleft()
        if len(window.times) < self.limit:
            window.times.append(now)
            window.warned = False
            return Verdict.ALLOW
        if window.warned:
            return Verdict.DROP
        window.warned = True
        return Verdict.WARN

    def forget_idle(self, now: float) -> None:
        """Drop users whose window is empty, so memory follows active users, not all users."""
        idle = [
            user_id
            for user_id, window in self._users.items()
            if not window.times or now - window.times[-1] >= self.window_s
        ]
        for user_id in idle:
            del self._users[user_id]
