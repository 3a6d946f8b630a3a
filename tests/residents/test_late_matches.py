"""Late matches ("Nieuwe ideeën die lijken op het jouwe") skip people who already know each
other: an introduction asked either way, or one of them joined the other's idea."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from bot.services import Services
from handlers.residents.introductions import send_match_notices
from models import MatchNotice
from tests.flows import onboard, save_idea
from tests.harness import BotHarness, Person

GARDEN = "Groenten kweken met de kinderen van de school."


def services(bot: BotHarness) -> Services:
    return bot.app.bot_data["services"]


async def user_id(bot: BotHarness, who: Person) -> int:
    return (await services(bot).users.get(who.id)).id


async def notices(bot: BotHarness) -> list[tuple[int, int, int]]:
    """(recipient, own idea, new idea) of every notice kept."""
    async with bot.app.bot_data["sessions"]() as session:
        rows = await session.execute(
            select(
                MatchNotice.recipient_id,
                MatchNotice.own_initiative_id,
                MatchNotice.new_initiative_id,
            ).order_by(MatchNotice.id)
        )
        return [tuple(row) for row in rows]


async def people(bot: BotHarness, *names: str) -> list[Person]:
    found = []
    for number, name in enumerate(names, 1):
        person = bot.person(1000 + number, name)
        await onboard(bot, person)
        found.append(person)
    return found


async def test_no_notice_for_a_pair_with_an_introduction_either_way(bot: BotHarness) -> None:
    anna, bram, cara = await people(bot, "Anna", "Bram", "Cara")
    await save_idea(bot, anna, "Hondenspeeltuin in het park")  # 1
    await save_idea(bot, cara, "Moestuin bij de basisschool", GARDEN)  # 2
    # Anna asked to meet Cara (about another idea): Cara's look-alike is no news to her.
    asked = await services(bot).matching.request_introduction(await user_id(bot, anna), 2)
    assert asked.ok
    await save_idea(bot, cara, "Speeltuin voor honden")  # 3
    assert await notices(bot) == []
    # Asked the other way round, the same: Bram asks Anna, then saves his look-alike.
    asked = await services(bot).matching.request_introduction(await user_id(bot, bram), 1)
    assert asked.ok
    await save_idea(bot, bram, "Hondenspeeltuin bij het park")  # 4
    # Only Cara, who never met Bram, hears of his idea (about her own, the older one).
    assert await notices(bot) == [(await user_id(bot, cara), 3, 4)]
    assert await send_match_notices(bot.context()) == 1
    assert "Hondenspeeltuin bij het park" in bot.last_text(cara)
    assert "Nieuwe ideeën" not in bot.last_text(anna)


async def _anna_joins_the_new_idea(bot: BotHarness, anna: int, bram: int) -> None:
    assert (await services(bot).matching.join(anna, 2)).ok


async def _bram_joins_the_old_idea(bot: BotHarness, anna: int, bram: int) -> None:
    assert (await services(bot).matching.join(bram, 1)).ok


async def _bram_asks_anna(bot: BotHarness, anna: int, bram: int) -> None:
    assert (await services(bot).matching.request_introduction(bram, 1)).ok


async def _anna_asks_bram(bot: BotHarness, anna: int, bram: int) -> None:
    assert (await services(bot).matching.request_introduction(anna, 2)).ok


@pytest.mark.parametrize(
    "meanwhile",
    [_anna_joins_the_new_idea, _bram_joins_the_old_idea, _bram_asks_anna, _anna_asks_bram],
)
async def test_a_notice_of_a_pair_that_met_in_the_meantime_is_not_sent(
    bot: BotHarness, meanwhile: Callable[[BotHarness, int, int], Awaitable[None]]
) -> None:
    anna, bram = await people(bot, "Anna", "Bram")
    await save_idea(bot, anna, "Hondenspeeltuin in het park")  # 1
    await save_idea(bot, bram, "Speeltuin voor honden")  # 2
    assert await notices(bot) == [(await user_id(bot, anna), 1, 2)]
    before = len(bot.replies(anna))

    await meanwhile(bot, await user_id(bot, anna), await user_id(bot, bram))
    assert await send_match_notices(bot.context()) == 0
    # Nothing about the look-alike reached Anna, and the notice is gone for good.
    assert all("Nieuwe ideeën" not in c.text for c in bot.replies(anna)[before:])
    assert await notices(bot) == []
    async with bot.app.bot_data["engine"].connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(MatchNotice)) == 0


async def test_a_notice_still_goes_when_nobody_met(bot: BotHarness) -> None:
    anna, bram = await people(bot, "Anna", "Bram")
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await save_idea(bot, bram, "Speeltuin voor honden")
    assert await send_match_notices(bot.context()) == 1
    assert "Speeltuin voor honden" in bot.last_text(anna)
