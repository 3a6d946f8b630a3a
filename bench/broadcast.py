"""Broadcast benchmark: the real sender (bot/services/broadcasts.py with the Telegram sender of
handlers/moderators/scheduled.py and a PTB Bot) against the local Bot API stand-in, zero latency.

    .venv/bin/python bench/broadcast.py [--residents 10000] [--paced-seconds 20] [--rate 25]

1. Unpaced: one announcement to every resident (10,000 generated, in a scratch SQLite database)
   with pacing off: the bot side's throughput, database claims and records included.
2. Paced: an announcement to `rate × paced-seconds` followers of a topic at the configured cap
   (a shorter run than 10,000 at 25/s, which would take 400 s); the achieved rate is measured
   from the stand-in's arrival times of the sends, first to last.
3. Crash and resume: an announcement to 2,000 residents, paced at a high cap (400/s, so it
   claims rows as the bot does in production: only what is about to go out), whose sender is
   cancelled halfway as if the process died, then resumed by a new sender once the dead one's
   lease ran out. Rows in flight at the crash become `unknown` and are not sent again.

Duplicates (recipients with more than one successful sendMessage of one announcement) and lost
(audience members with none) are counted from the stand-in's call log, which runs in a child
process so that its work does not share the bot's interpreter. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MARK = re.compile(r"BENCH-(\d+)")


# --- the stand-in, in a child process --------------------------------------------------------


def serve() -> None:
    """Child: run the stand-in; answer "calls" with the successful sends, "quit" to stop."""
    from testing.fake_telegram import server

    class KeepAlive(server._Handler):
        # Telegram keeps connections open; the stand-in closes each one (so that stop() cuts a
        # bot off), which would make the benchmark measure TCP handshakes.
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, delayed ACKs stall each.
        disable_nagle_algorithm = True

    class KeepAliveBotApi(server.FakeBotApi):
        def start(self) -> KeepAliveBotApi:
            super().start()
            self._httpd.RequestHandlerClass = KeepAlive
            return self

    # Not strict: the generated residents never sent the bot an update.
    api = KeepAliveBotApi(strict=False).start()
    print(json.dumps({"base_url": api.base_url, "token": api.token}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "calls":
            sends = []
            for call in api.calls("sendMessage"):
                match = MARK.search(call.text)
                if call.ok and match:
                    sends.append((call.chat_id, int(match.group(1)), call.monotonic))
            print(json.dumps(sends), flush=True)
        elif command == "quit":
            break
    api.stop()


class StandIn:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        hello = json.loads(self.process.stdout.readline())
        self.base_url, self.token = hello["base_url"], hello["token"]

    def sends(self) -> list[tuple[int, int, float]]:
        self.process.stdin.write("calls\n")
        self.process.stdin.flush()
        return [tuple(s) for s in json.loads(self.process.stdout.readline())]

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait(timeout=10)


# --- the bot side --------------------------------------------------------------------------


async def make_residents(sessions, count: int, followers: int) -> list[int]:
    from sqlalchemy import insert, select

    from bot.config import LANGUAGES
    from models import Follow, FollowKind, User
    from models.base import utcnow

    kernen = ("IJmuiden", "Velsen-Zuid", "Velsen-Noord", "Driehuis", "Velserbroek")
    now = utcnow()
    rows = [
        {
            "telegram_id": 10_000_000 + n,
            "consent_at": now,
            "kern": kernen[n % len(kernen)],
            "language": LANGUAGES[n % 5 == 0],
            "display_name": f"Inwoner {n}",
            "active": True,
        }
        for n in range(count)
    ]
    async with sessions.begin() as session:
        await session.execute(insert(User), rows)
        ids = list(await session.scalars(select(User.id).order_by(User.id)))
        await session.execute(
            insert(Follow),
            [
                {"user_id": i, "kind": FollowKind.TOPIC, "value": "gemeente"}
                for i in ids[:followers]
            ],
        )
        await session.execute(
            insert(Follow),
            [
                {"user_id": i, "kind": FollowKind.TOPIC, "value": "evenementen"}
                for i in ids[followers : followers + 2000]
            ],
        )
    return ids


async def telegram_ids(sessions, audience) -> set[int]:
    from sqlalchemy import select

    from bot.services.broadcasts import audience_filter
    from models import User

    async with sessions() as session:
        return set(await session.scalars(select(User.telegram_id).where(audience_filter(audience))))


async def announce(service, author_id: int, number: int, audience) -> int:
    from models.base import utcnow

    draft = await service.create_draft(
        author_id, f"BENCH-{number}: de <b>Kennemerlaan</b> is zaterdag dicht.", None
    )
    await service.set_audience(draft.id, audience)
    await service.schedule(draft.id, utcnow())
    assert await service.acquire(draft.id)
    return draft.id


def tally(sends: list[tuple[int, int, float]], number: int, audience: set[int]) -> tuple[int, int]:
    copies = Counter(chat for chat, mark, _ in sends if mark == number)
    duplicates = sum(1 for n in copies.values() if n > 1)
    lost = sum(1 for chat in audience if copies[chat] == 0)
    return duplicates, lost


async def run(args: argparse.Namespace) -> dict[str, object]:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.migrate import upgrade
    from bot.services.broadcasts import Audience, BroadcastService, SenderSettings
    from handlers.moderators.scheduled import CONCURRENCY, telegram_sender
    from models.database import create_engine, create_sessionmaker

    stand_in = StandIn()
    scratch = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    engine = create_engine(f"sqlite+aiosqlite:///{scratch / 'bench.sqlite3'}")
    await upgrade(engine)
    sessions = create_sessionmaker(engine)
    paced_count = int(args.rate * args.paced_seconds)
    ids = await make_residents(sessions, args.residents, paced_count)
    bot = Bot(
        stand_in.token,
        base_url=f"{stand_in.base_url}/bot",
        request=HTTPXRequest(connection_pool_size=args.concurrency),
    )
    await bot.initialize()
    sender = telegram_sender(bot, "Velsen")
    service = BroadcastService(sessions)
    result: dict[str, object] = {}
    try:
        # 1. Unpaced, everyone.
        everyone = Audience("everyone")
        audience = await telegram_ids(sessions, everyone)
        broadcast_id = await announce(service, ids[0], 1, everyone)
        started = time.perf_counter()
        unpaced = await service.send(
            broadcast_id, sender, SenderSettings(rate=None, concurrency=args.concurrency)
        )
        elapsed = time.perf_counter() - started
        duplicates, lost = tally(stand_in.sends(), 1, audience)
        print(
            f"unpaced: {unpaced.sent:,} of {unpaced.total:,} sent in {elapsed:.1f} s "
            f"= {unpaced.sent / elapsed:.0f} msgs/s (concurrency {args.concurrency}); "
            f"duplicates {duplicates}, lost {lost}"
        )
        result["msgs_per_s_unpaced"] = round(unpaced.sent / elapsed, 1)

        # 2. Paced at the cap, the followers of one topic.
        followers = Audience("topics", ("gemeente",))
        audience = await telegram_ids(sessions, followers)
        broadcast_id = await announce(service, ids[0], 2, followers)
        paced = await service.send(
            broadcast_id, sender, SenderSettings(rate=args.rate, concurrency=CONCURRENCY)
        )
        sends = stand_in.sends()
        times = sorted(t for _, mark, t in sends if mark == 2)
        achieved = (len(times) - 1) / (times[-1] - times[0])
        paced_duplicates, paced_lost = tally(sends, 2, audience)
        print(
            f"paced: {paced.sent} sent at {achieved:.2f} msgs/s against a cap of {args.rate:g} "
            f"(ratio {achieved / args.rate:.3f}) over {times[-1] - times[0]:.1f} s; "
            f"duplicates {paced_duplicates}, lost {paced_lost}"
        )
        result["paced_ratio"] = round(achieved / args.rate, 4)
        result["duplicates"] = duplicates + paced_duplicates
        result["lost"] = lost + paced_lost

        # 3. Crash halfway, then resume.
        if args.crash:
            result.update(await crash_and_resume(sessions, sender, ids[0], stand_in, args))
    finally:
        await bot.shutdown()
        await engine.dispose()
        stand_in.close()
    return result


async def crash_and_resume(sessions, sender, author_id, stand_in, args) -> dict[str, int]:
    from bot.services.broadcasts import Audience, BroadcastService, SenderSettings
    from bot.services.delivery import Outcome
    from handlers.moderators.scheduled import CONCURRENCY

    audience_spec = Audience("topics", ("evenementen",))
    audience = await telegram_ids(sessions, audience_spec)
    # A short lease, so the resume need not wait a minute for the dead sender's to run out.
    first = BroadcastService(sessions, lease=timedelta(seconds=2))
    broadcast_id = await announce(first, author_id, 3, audience_spec)
    settings = SenderSettings(rate=400, concurrency=CONCURRENCY)
    done = 0
    halfway = asyncio.Event()

    async def counting(message, recipient):
        nonlocal done
        result = await sender(message, recipient)
        if result.outcome is Outcome.SENT:  # a confirmed send
            done += 1
            if done >= len(audience) // 2:
                halfway.set()
        return result

    task = asyncio.create_task(first.send(broadcast_id, counting, settings))
    await halfway.wait()
    task.cancel()  # the process dies: nothing more is recorded
    with_crash = done
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await asyncio.sleep(2.1)
    second = BroadcastService(sessions)
    assert await second.acquire(broadcast_id)
    final = await second.send(broadcast_id, sender, settings)
    duplicates, lost = tally(stand_in.sends(), 3, audience)
    print(
        f"crash and resume: {len(audience):,} recipients, crashed after {with_crash:,} "
        f"confirmed sends; {final.sent:,} recorded sent, {final.unknown} unknown (in flight at "
        f"the crash, not sent again); duplicates {duplicates}, lost {lost}"
    )
    return {"crash_duplicates": duplicates, "crash_lost": lost, "crash_unknown": final.unknown}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="the configured cap, msgs/s")
    parser.add_argument("--paced-seconds", type=float, default=20.0)
    # Few connections: httpcore's pool costs more per request the more requests wait on it.
    parser.add_argument("--concurrency", type=int, default=4, help="sends in flight, unpaced")
    parser.add_argument("--no-crash", dest="crash", action="store_false")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
