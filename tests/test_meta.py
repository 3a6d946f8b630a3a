"""The start-up passes' fingerprints: two instances starting at once may both run a pass and
both write its fingerprint; the second must not fail on the first one's row."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.meta import read_fingerprint, write_fingerprint
from tests.test_broadcast_service import sessions

__all__ = ["sessions"]


async def test_a_fingerprint_another_instance_wrote_meanwhile_is_overwritten_not_an_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as first:
        assert await read_fingerprint(first, "topics") is None
        # Meanwhile another instance finished the same pass.
        async with sessions.begin() as second:
            assert await read_fingerprint(second, "topics") is None
            await write_fingerprint(second, "topics", "abc")
        await write_fingerprint(first, "topics", "abc")
    async with sessions() as session:
        assert await read_fingerprint(session, "topics") == "abc"
    async with sessions.begin() as session:
        await write_fingerprint(session, "topics", "def")
    async with sessions() as session:
        assert await read_fingerprint(session, "topics") == "def"
