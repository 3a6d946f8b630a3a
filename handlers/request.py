"""The HTTP layer to the Bot API, with retries where a retry cannot send anything twice.

A 500, 502 or 503 answer means the Bot API server did not carry out the call, so it is retried
with backoff. A timeout is not retried: the message may have been delivered, and a second copy
is worse than a late apology. A 504 is a timeout too, one a proxy in front of a (self-hosted)
Bot API ran into while the server may still have carried out the call: it is raised as
TimedOut, so every caller treats it as one. 429 is the rate limiter's business (it waits
retry_after).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import TimedOut
from telegram.request import HTTPXRequest, RequestData

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503})
GATEWAY_TIMEOUT = 504
ATTEMPTS = 4
FIRST_DELAY_S = 0.5


class RetryingRequest(HTTPXRequest):
    def __init__(self, *args: Any, first_delay_s: float = FIRST_DELAY_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._first_delay_s = first_delay_s

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        delay = self._first_delay_s
        for attempt in range(1, ATTEMPTS + 1):
            status, payload = await super().do_request(url, method, request_data, *args, **kwargs)
            if status == GATEWAY_TIMEOUT:
                raise TimedOut("Gateway Timeout (504): the call may have been carried out")
            if status not in RETRY_STATUSES or attempt == ATTEMPTS:
                return status, payload
            # The URL holds the token; the method name is all the log needs.
            log.warning(
                "Bot API answered %s to %s; retry %s in %.1fs",
                status,
                url.rsplit("/", 1)[-1],
                attempt,
                delay,
            )
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # the loop returns on the last attempt
