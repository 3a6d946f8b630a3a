"""Flood control: the service's arithmetic, and the friendly slow-down in the chat."""

from __future__ import annotations

from bot.services.flood import FloodGuard, Verdict
from tests.flows import onboard
from tests.harness import BotHarness


def test_the_limit_warns_once_then_drops_until_the_window_passes() -> None:
    guard = FloodGuard(limit=3, window_s=10)
    verdicts = [guard.check(1, t) for t in (0, 1, 2, 3, 4)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP]
    assert guard.check(2, 4) is Verdict.ALLOW  # other users are not affected
    assert guard.check(1, 10.5) is Verdict.ALLOW  # the first message left the window


def test_idle_users_are_forgotten() -> None:
    guard = FloodGuard(limit=3, window_s=10)
    guard.check(1, 0)
    guard.check(2, 15)
    guard.forget_idle(20)
    assert list(guard._users) == [2]


async def test_a_flooding_resident_is_slowed_down_kindly(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    bot.app.bot_data["flood"] = FloodGuard(limit=5, window_s=60)
    replies = []
    for n in range(8):
        replies += await bot.send(anna, f"/mijn {n}")
    texts = [r.text for r in replies]
    assert texts.count("Je hebt nog geen ideeën ingestuurd. Begin met /idee!") == 5
    assert texts[5] == (
        "Rustig aan even: je stuurt meer berichten dan ik bij kan houden. "
        "Probeer het over een minuutje opnieuw."
    )
    assert len(texts) == 6  # the rest of the burst is dropped without an answer
