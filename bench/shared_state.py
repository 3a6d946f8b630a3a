"""Shared-state benchmark: what reloading a resident's conversation state before each update
costs (handlers/persistence.py SharedStateApplication, webhook mode), against PTB's own per-process
state (polling mode).

    python bench/shared_state.py [--residents 20] [--rounds 5] [--database-url URL]

The real Application through the offline harness (tests/harness.py: no network, Bot API calls
recorded in memory), on a scratch SQLite file unless a PostgreSQL URL is given (an empty
database; it is migrated). Each resident is onboarded, then writes an idea up to the summary and
cancels it, `rounds` times: 12 updates a round, each one a conversation step that reads and
writes state. Both modes run the same updates, alternating in blocks so that warm-up and the
machine's mood fall on both alike; the figure is updates per second of wall time, the handlers'
own database work included (which is most of it). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODES = ("per_process", "shared")


# One round per resident: the steps of /idee up to the summary, cancelled, and two updates
# outside any conversation. Buttons are pressed by their data, as offered.
ROUND = (
    "/idee",
    "Hondenspeeltuin",
    "DESCRIPTION",
    "Voor iedereen met een hond in de wijk.",
    "press:idee:kern:0",
    "press:idee:place:skip",
    "press:idee:need:helpers",
    "press:idee:needs:done",
    "press:idee:intro:no",
    "/annuleer",
    "Hallo?",
    "/help",
)


async def one_round(bot, people) -> int:
    from tests.flows import DESCRIPTION

    for who in people:
        for step in ROUND:
            if step.startswith("press:"):
                await bot.press_data(who, step.removeprefix("press:"))
            else:
                await bot.send(who, DESCRIPTION if step == "DESCRIPTION" else step)
    # The harness keeps every call; the benchmark needs none of them.
    bot.request.calls.clear()
    return len(people) * len(ROUND)


async def run(database_url: str, residents: int, rounds: int, blocks: int) -> dict:
    from telegram.ext import Application

    from handlers.persistence import SharedStateApplication
    from tests.flows import onboard
    from tests.harness import BotHarness, make_config

    shared = SharedStateApplication.process_update
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as scratch:
        config = make_config(Path(scratch), database_url)
        webhook = replace(config.http, webhook_url="https://bot.example.nl/telegram")
        bot = BotHarness(replace(config, http=webhook))
        await bot.start()
        try:
            people = [bot.person(50_000 + n, f"Inwoner{n}") for n in range(residents)]
            for who in people:
                await onboard(bot, who)
            await one_round(bot, people)  # warm-up: caches, the match index, prepared queries
            for block in range(blocks):
                for mode in MODES if block % 2 == 0 else reversed(MODES):
                    # One Application for both: per_process runs PTB's own process_update, as
                    # polling mode does; shared adds the reload, turn and write-back around it.
                    SharedStateApplication.process_update = (  # type: ignore[method-assign]
                        shared if mode == "shared" else Application.process_update
                    )
                    started = time.perf_counter()
                    updates = sum([await one_round(bot, people) for _ in range(rounds)])
                    rates[mode].append(updates / (time.perf_counter() - started))
        finally:
            SharedStateApplication.process_update = shared  # type: ignore[method-assign]
            await bot.stop()
        assert not bot.errors, bot.errors
    per_process = statistics.median(rates["per_process"])
    with_reload = statistics.median(rates["shared"])
    return {
        "database": database_url.split(":", 1)[0],
        "updates_per_block": residents * rounds * len(ROUND),
        "blocks": blocks,
        "updates_per_s_per_process": round(per_process, 1),
        "updates_per_s_shared": round(with_reload, 1),
        "ms_per_update_per_process": round(1000 / per_process, 3),
        "ms_per_update_shared": round(1000 / with_reload, 3),
        "extra_ms_per_update": round(1000 / with_reload - 1000 / per_process, 3),
        "slowdown_pct": round(100 * (per_process / with_reload - 1), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=6, help="timed blocks per mode")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.sqlite3'}"
        if args.database_url:
            from bot.migrate import upgrade
            from models.database import create_engine

            async def migrate() -> None:
                engine = create_engine(url)
                try:
                    await upgrade(engine)
                finally:
                    await engine.dispose()

            asyncio.run(migrate())
        result = asyncio.run(run(url, args.residents, args.rounds, args.blocks))
    for mode in MODES:
        print(f"{mode:>12}: {result[f'updates_per_s_{mode}']:8.1f} updates/s")
    print(f"reload (+ lock on PostgreSQL): +{result['extra_ms_per_update']} ms per update")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
