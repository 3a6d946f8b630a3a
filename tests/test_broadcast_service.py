"""The broadcast service without a bot: audience, pacing, Telegram's answers, cancel, crash and
resume. A fake sender stands in for Telegram and records who got what."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.migrate import upgrade
from bot.services.broadcasts import (
    Audience,
    BroadcastService,
    Message,
    Progress,
    Recipient,
    SenderSettings,
    audience_filter,
)
from bot.services.delivery import SENT, Outcome, Result
from bot.services.following import FollowingService
from bot.services.pacing import Pacer
from models import (
    Broadcast,
    BroadcastDelivery,
    BroadcastState,
    DeliveryState,
    FollowKind,
    Role,
    User,
)
from models.base import utcnow
from models.database import create_engine, create_sessionmaker

# Small claims, as paced sending makes them: what is claimed is what is on its way.
FAST = SenderSettings(rate=None, concurrency=4, claim_batch=4, backoff_s=0.001, progress_every_s=0)


class Crash(BaseException):
    """The process dies: nothing after this point is written."""


@dataclass
class FakeTelegram:
    """Delivers at once unless told otherwise; `delivered` is every message that arrived."""

    delivered: list[int] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    retry_after: dict[int, float] = field(default_factory=dict)  # once per chat
    flaky: dict[int, int] = field(default_factory=dict)  # chat → temporary failures first
    refused: set[int] = field(default_factory=set)
    timing_out: set[int] = field(default_factory=set)  # delivered, but the answer never came
    crash_after: int | None = None  # die right after this many deliveries
    block_after: tuple[int, int] | None = None  # (deliveries, chat): blocks the bot mid-way
    calls: int = 0

    async def __call__(self, message: Message, recipient: Recipient) -> Result:
        self.calls += 1
        chat = recipient.telegram_id
        if self.block_after and len(self.delivered) >= self.block_after[0]:
            self.blocked.add(self.block_after[1])
        if chat in self.blocked:
            return Result(Outcome.BLOCKED)
        if chat in self.retry_after:
            return Result(Outcome.RETRY, retry_after=self.retry_after.pop(chat))
        if self.flaky.get(chat, 0) > 0:
            self.flaky[chat] -= 1
            return Result(Outcome.RETRY, error="Bad Gateway")
        if chat in self.refused:
            return Result(Outcome.FAILED, error="chat not found")
        self.delivered.append(chat)
        if chat in self.timing_out:
            return Result(Outcome.UNKNOWN, error="Timed out")
        if self.crash_after is not None and len(self.delivered) >= self.crash_after:
            raise Crash
        await asyncio.sleep(0)  # a real request yields while it waits for the answer
        return SENT


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def residents(
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    *,
    kern: str = "IJmuiden",
    first: int = 1000,
    **fields: object,
) -> list[User]:
    values = {"consent_at": utcnow(), "kern": kern, "language": "nl", **fields}
    users = [User(telegram_id=first + n, **values) for n in range(count)]
    async with sessions.begin() as session:
        session.add_all(users)
    return users


async def due_broadcast(
    service: BroadcastService, author: User, audience: Audience | None = None
) -> int:
    draft = await service.create_draft(author.id, "<b>Let op</b>: werk aan de weg", None)
    await service.set_audience(draft.id, audience or Audience("everyone"))
    await service.schedule(draft.id, utcnow())
    return draft.id


async def deliveries(sessions: async_sessionmaker[AsyncSession], broadcast_id: int) -> Counter:
    async with sessions() as session:
        states = await session.scalars(
            select(BroadcastDelivery.state).where(BroadcastDelivery.broadcast_id == broadcast_id)
        )
        return Counter(states)


# --- audience ------------------------------------------------------------------------------


async def test_audiences_respect_consent_activity_muting_kern_and_follows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    service, following = BroadcastService(sessions), FollowingService(sessions)
    [ijmuiden] = await residents(sessions, 1, kern="IJmuiden", first=1)
    [driehuis] = await residents(sessions, 1, kern="Driehuis", first=2)
    [follower] = await residents(sessions, 1, kern="Velserbroek", first=3)
    [muted] = await residents(sessions, 1, kern="IJmuiden", first=4)
    await residents(sessions, 1, kern="IJmuiden", first=5, active=False)
    await residents(sessions, 1, kern=None, first=6)  # consented, no kern chosen yet
    await residents(sessions, 1, kern="IJmuiden", first=7, consent_at=None)
    await residents(sessions, 1, kern=None, first=8, role=Role.CIVIL_SERVANT)
    await residents(sessions, 1, kern=None, first=9, role=Role.CIVIL_SERVANT, active=False)
    await residents(sessions, 1, kern="Driehuis", first=10, role=Role.MODERATOR)
    await following.toggle(follower.id, FollowKind.KERN, "IJmuiden")
    await following.toggle(follower.id, FollowKind.TOPIC, "groen")
    await following.toggle(muted.id, FollowKind.TOPIC, "groen")
    await following.set_muted(muted.id, True)

    async def who(audience: Audience) -> set[int]:
        async with sessions() as session:
            found = await session.scalars(select(User.telegram_id).where(audience_filter(audience)))
            return set(found)

    assert await who(Audience("everyone")) == {1, 2, 3, 10}
    assert await who(Audience("kernen", ("IJmuiden",))) == {1, 3}
    assert await who(Audience("kernen", ("IJmuiden", "Driehuis"))) == {1, 2, 3, 10}
    assert await who(Audience("civil_servants")) == {8}
    assert await who(Audience("topics", ("groen",))) == {3}
    assert await service.count_audience(Audience("kernen", ("Driehuis",))) == 2

    await following.set_muted(muted.id, False)
    assert await who(Audience("topics", ("groen",))) == {3, 4}
    assert ijmuiden.id and driehuis.id


def test_an_audience_survives_json_and_refuses_nonsense() -> None:
    audience = Audience("kernen", ("IJmuiden", "Driehuis"))
    assert Audience.from_json(audience.to_json()) == audience
    assert Audience.from_json({"kind": "kernen", "values": []}) is None
    assert Audience.from_json({"kind": "everybody"}) is None
    assert Audience.from_json(None) is None


# --- sending -------------------------------------------------------------------------------


async def test_everyone_gets_one_copy_and_the_broadcast_is_done(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = BroadcastService(sessions)
    people = await residents(sessions, 30)
    broadcast_id = await due_broadcast(service, people[0])
    reports: list[Progress] = []

    async def on_progress(progress: Progress) -> None:
        reports.append(progress)

    assert await service.due() == [broadcast_id]
    assert await service.acquire(broadcast_id)
    final = await service.send(broadcast_id, (tg := FakeTelegram()), FAST, on_progress=on_progress)

    assert sorted(tg.delivered) == [p.telegram_id for p in people]
    assert (final.state, final.total, final.sent, final.pending) == (BroadcastState.DONE, 30, 30, 0)
    assert reports and reports[-1].sent == 30
    assert await deliveries(sessions, broadcast_id) == {DeliveryState.SENT: 30}
    assert await service.due() == []
    broadcast = await service.get(broadcast_id)
    assert broadcast.finished_at is not None and broadcast.lease_owner is None


async def test_a_resident_who_blocks_the_bot_midway_is_marked_inactive(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = BroadcastService(sessions)
    people = await residents(sessions, 20)
    last = people[-1].telegram_id
    broadcast_id = await due_broadcast(service, people[0])
    await service.acquire(broadcast_id)
    tg = FakeTelegram(
        block_after=(5, last),
        refused={people[3].telegram_id},
        timing_out={people[4].telegram_id},
    )
    final = await service.send(broadcast_id, tg, FAST)

    assert (final.sent, final.blocked, final.failed, final.unknown) == (17, 1, 1, 1)
    # A timed-out send may have arrived: it is not tried again.
    assert Counter(tg.delivered)[people[4].telegram_id] == 1
    assert last not in tg.delivered and len(tg.delivered) == 18
    async with sessions() as session:
        inactive = set(await session.scalars(select(User.telegram_id).where(~User.active)))
        row = await session.scalar(
            select(BroadcastDelivery).where(BroadcastDelivery.user_id == people[3].id)
        )
    assert inactive == {last}
    assert row.state is DeliveryState.FAILED and row.error == "chat not found"


async def test_retry_after_pauses_sending_and_retries_the_same_message(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = BroadcastService(sessions)
    people = await residents(sessions, 6)
    broadcast_id = await due_broadcast(service, people[0])
    await service.acquire(broadcast_id)
    tg = FakeTelegram(retry_after={people[2].telegram_id: 0.3})
    loop = asyncio.get_running_loop()
    started = loop.time()
    final = await service.send(broadcast_id, tg, SenderSettings(rate=100, concurrency=1))

    assert loop.time() - started >= 0.3
    assert final.sent == 6 and Counter(tg.delivered)[people[2].telegram_id] == 1


async def test_temporary_failures_are_retried_then_given_up(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = BroadcastService(sessions)
    people = await residents(sessions, 3)
    broadcast_id = await due_broadcast(service, people[0])
    await service.acquire(broadcast_id)
    tg = FakeTelegram(flaky={people[0].telegram_id: 2, people[1].telegram_id: 10})
    final = await service.send(broadcast_id, tg, FAST)

    assert (final.sent, final.failed) == (2, 1)
    async with sessions() as session:
        rows = {
            r.user_id: r
            for r in await session.scalars(
                select(BroadcastDelivery).where(BroadcastDelivery.broadcast_id == broadcast_id)
            )
        }
    assert rows[people[0].id].state is DeliveryState.SENT and rows[people[0].id].attempts == 3
    assert rows[people[1].id].state is DeliveryState.FAILED and rows[people[1].id].attempts == 3
    assert rows[people[1].id].error == "Bad Gateway"


async def test_cancel_stops_sending_and_leaves_the_rest_pending(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = BroadcastService(sessions)
    people = await residents(sessions, 40)
    broadcast_id = await due_broadcast(service, people[0])
    await service.acquire(broadcast_id)
    tg = FakeTelegram()

    cancelled: list[object] = []
    asked = False

    async def cancel_soon(message: Message, recipient: Recipient) -> Result:
        nonlocal asked
        result = await tg(message, recipient)
        # Two senders run at once: only the first to get here asks (a second cancel would
        # rightly find the broadcast ended already).
        if len(tg.delivered) >= 10 and not asked:
            asked = True
            cancelled.append(await service.cancel(broadcast_id))
        return result

    final = await service.send(broadcast_id, cancel_soon, SenderSettings(rate=50, concurrency=2))

    assert cancelled[0] is not None
    assert final.state is BroadcastState.CANCELLED and final.finished_at is not None
    # What was already on its way still arrives; a few sends later nothing more goes out.
    assert 10 <= final.sent <= 15 and final.sent == len(tg.delivered)
    assert final.pending == 40 - final.sent
    assert await service.due() == []
    assert await service.cancel(broadcast_id) is None


async def test_a_crash_midway_then_a_resume_sends_everyone_exactly_one_copy(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    people = await residents(sessions, 50)
    first = BroadcastService(sessions)
    broadcast_id = await due_broadcast(first, people[0])
    assert await first.acquire(broadcast_id)
    tg = FakeTelegram(crash_after=20)
    with pytest.raises(Crash):
        await first.send(broadcast_id, tg, FAST)
    assert len(tg.delivered) >= 20
    states = await deliveries(sessions, broadcast_id)
    assert states[DeliveryState.CLAIMED] > 0  # the crash left sends in flight

    # The restarted process is a new owner; the dead one's lease has to run out first.
    second = BroadcastService(sessions)
    assert await second.due() == []
    assert not await second.acquire(broadcast_id)
    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=True):
        assert await second.due() == [broadcast_id]
        assert await second.acquire(broadcast_id)
        tg.crash_after = None
        final = await second.send(broadcast_id, tg, FAST)

    assert Counter(tg.delivered) == Counter(p.telegram_id for p in people)
    assert final.state is BroadcastState.DONE
    assert final.unknown == states[DeliveryState.CLAIMED]
    assert final.sent + final.unknown == 50
    # Unknown rows are never claimed again.
    assert await deliveries(sessions, broadcast_id) == {
        DeliveryState.SENT: final.sent,
        DeliveryState.UNKNOWN: final.unknown,
    }


async def test_a_graceful_stop_gives_the_broadcast_back_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    people = await residents(sessions, 30)
    first = BroadcastService(sessions)
    broadcast_id = await due_broadcast(first, people[0])
    await first.acquire(broadcast_id)
    stop = asyncio.Event()
    tg = FakeTelegram()

    async def stop_after_ten(message: Message, recipient: Recipient) -> Result:
        result = await tg(message, recipient)
        if len(tg.delivered) >= 10:
            stop.set()
        return result

    paused = await first.send(broadcast_id, stop_after_ten, FAST, stop=stop)
    assert paused.state is BroadcastState.SENDING and 0 < paused.pending < 30
    assert paused.unknown == 0

    second = BroadcastService(sessions)
    assert await second.due() == [broadcast_id]  # no lease to wait for
    assert await second.acquire(broadcast_id)
    final = await second.send(broadcast_id, tg, FAST)
    assert final.state is BroadcastState.DONE and final.unknown == 0
    assert Counter(tg.delivered) == Counter(p.telegram_id for p in people)


async def test_only_one_sender_gets_a_broadcast(sessions: async_sessionmaker[AsyncSession]) -> None:
    people = await residents(sessions, 3)
    a, b = BroadcastService(sessions), BroadcastService(sessions)
    broadcast_id = await due_broadcast(a, people[0])
    won = await asyncio.gather(a.acquire(broadcast_id), b.acquire(broadcast_id))
    assert sorted(won) == [False, True]
    async with sessions() as session:
        count = len(
            list(
                await session.scalars(
                    select(BroadcastDelivery.id).where(
                        BroadcastDelivery.broadcast_id == broadcast_id
                    )
                )
            )
        )
    assert count == 3  # materialised once


async def test_a_scheduled_broadcast_waits_for_its_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = BroadcastService(sessions)
    people = await residents(sessions, 2)
    draft = await service.create_draft(people[0].id, "Later", None)
    assert await service.schedule(draft.id, utcnow()) is None  # no audience yet
    await service.set_audience(draft.id, Audience("everyone"))
    await service.schedule(draft.id, utcnow() + timedelta(hours=1))
    assert await service.set_audience(draft.id, Audience("everyone")) is None  # not a draft now
    assert await service.due() == []
    assert not await service.acquire(draft.id)
    assert await service.due(utcnow() + timedelta(hours=2)) == [draft.id]
    cancelled = await service.cancel(draft.id)
    assert cancelled.state is BroadcastState.CANCELLED and cancelled.finished_at is not None
    async with sessions() as session:
        assert (await session.get(Broadcast, draft.id)).state is BroadcastState.CANCELLED


# --- pacing --------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_pacer_keeps_the_rate_over_a_run_despite_slow_sends() -> None:
    clock = FakeClock()
    pacer = Pacer(25, clock=clock, sleep=clock.sleep)
    for n in range(250):
        await pacer.acquire()
        clock.now += 0.01 if n % 10 else 0.1  # per-send overhead, and now and then a slow one
    # 250 sends at 25/s: ten seconds, never much faster, not slower because of the overhead.
    assert 9.9 <= clock.now <= 10.2


async def test_the_pacer_bursts_no_more_than_it_may() -> None:
    clock = FakeClock()
    pacer = Pacer(25, clock=clock, sleep=clock.sleep)
    clock.now = 60.0  # a minute idle
    assert await pacer.take(100) == 5  # a fifth of a second's worth, not a minute's


async def test_the_pacer_holds_after_retry_after() -> None:
    clock = FakeClock()
    pacer = Pacer(25, clock=clock, sleep=clock.sleep)
    await pacer.acquire()
    pacer.hold(3)
    await pacer.acquire()
    assert clock.now >= 3
    unpaced = Pacer(None, clock=clock, sleep=clock.sleep)
    assert await unpaced.take(50) == 50
    unpaced.hold(2)
    before = clock.now
    await unpaced.acquire()
    assert clock.now - before == pytest.approx(2)
