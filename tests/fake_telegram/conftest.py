from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import Bot

from testing.fake_telegram import FakeBotApi


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
async def tg(api: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    """A real PTB Bot talking HTTP to the fake server (initialize() calls getMe)."""
    # PTB 22 warns on int time periods unless opted in to timedelta (RetryAfter.retry_after).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    bot = Bot(
        api.token,
        base_url=f"{api.base_url}/bot",
        base_file_url=f"{api.base_url}/file/bot",
    )
    async with bot:
        yield bot
