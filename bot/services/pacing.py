"""A token bucket that keeps a sender at a configured rate, measured over the whole run.

Tokens accrue on the clock (not "sleep 1/rate after each send"), so time spent sending, writing
to the database or waiting for Telegram is not added to the interval: the achieved rate tracks
the cap. The bucket starts with one token and holds at most `burst`, so a pause (a slow batch,
a database write) is made up by a short burst no larger than that, never by a flood.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

_EPSILON = 1e-9


class Pacer:
    def __init__(
        self,
        rate: float | None,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """`rate` in sends per second; None or 0 means no pacing at all (benchmarks)."""
        if rate is not None and rate < 0:
            raise ValueError("rate must be positive")
        self.rate = rate or None
        # A fifth of a second's worth absorbs the gaps of a sender, well under Telegram's margin.
        self.burst = max(1.0, burst if burst is not None else (self.rate or 0) * 0.2)
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0
        self._stamp = clock()
        self._hold_until = 0.0

    @property
    def paced(self) -> bool:
        return self.rate is not None

    def _refill(self) -> float:
        now = self._clock()
        if self.rate is not None and now > self._stamp:
            # No tokens accrue while held: a RetryAfter is a pause, not a credit.
            start = max(self._stamp, min(self._hold_until, now))
            self._tokens = min(self.burst, self._tokens + (now - start) * self.rate)
        self._stamp = now
        return now

    async def take(self, most: int = 1) -> int:
        """Wait for at least one token; take as many as are there, up to `most`."""
        if most < 1:
            raise ValueError("take at least one")
        while True:
            now = self._refill()
            if now < self._hold_until:
                await self._sleep(self._hold_until - now)
                continue
            if self.rate is None:
                return most
            # The epsilon: refills in float steps may land a hair under a whole token.
            if self._tokens >= 1 - _EPSILON:
                taken = min(most, max(1, int(self._tokens + _EPSILON)))
                self._tokens -= taken
                return taken
            await self._sleep((1 - self._tokens) / self.rate)

    async def acquire(self) -> None:
        await self.take(1)

    def hold(self, seconds: float) -> None:
        """Telegram said "retry after": no sends, for anyone, until then."""
        self._refill()
        self._hold_until = max(self._hold_until, self._clock() + seconds)
        self._tokens = min(self._tokens, 0.0)
