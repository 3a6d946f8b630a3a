"""The HTTP layer's retries: what the Bot API server did not carry out is tried again; what it
may have carried out (a 504 from a proxy in front of it) is a timeout, tried once."""

from __future__ import annotations

import pytest
from telegram.error import TimedOut
from telegram.request import HTTPXRequest

from handlers.request import ATTEMPTS, RetryingRequest


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The status codes the server gives, one per call, in order; the calls made are counted
    by what is left."""
    queue: list[int] = []

    async def server(self, url, method, request_data=None, *args, **kwargs):
        return queue.pop(0), b'{"ok": true, "result": true}'

    monkeypatch.setattr(HTTPXRequest, "do_request", server)
    return queue


async def test_5xx_is_tried_again_until_it_works(answers: list[int]) -> None:
    answers[:] = [502, 503, 200]
    request = RetryingRequest(first_delay_s=0)
    assert await request.do_request("https://x/bot1:a/sendMessage", "POST") == (
        200,
        b'{"ok": true, "result": true}',
    )
    assert answers == []


async def test_5xx_gives_up_after_the_last_attempt(answers: list[int]) -> None:
    answers[:] = [500] * ATTEMPTS + [200]
    status, _ = await RetryingRequest(first_delay_s=0).do_request("https://x/m", "POST")
    assert status == 500 and answers == [200]


async def test_a_gateway_timeout_is_a_timeout_and_not_tried_again(answers: list[int]) -> None:
    answers[:] = [504, 200]
    with pytest.raises(TimedOut):
        await RetryingRequest(first_delay_s=0).do_request("https://x/m", "POST")
    assert answers == [200]  # one call only
