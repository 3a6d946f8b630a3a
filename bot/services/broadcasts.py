"""Announcements: a draft, its audience, a due time, and the paced, resumable sender.

Free of Telegram: the handler side passes a `Sender` that delivers one message to one recipient
and says what became of it, a `delivery.Result`.

How a broadcast cannot send anyone a second copy (DESIGN "Durable scheduling"):

* One sender per broadcast: a process sends only while it holds the broadcast's lease (a
  conditional UPDATE; renewed with every claim). A lease that ran out means its holder died.
* Delivery rows are materialised once, in the transaction that moves the broadcast from
  scheduled to sending, so the audience is fixed from then on.
* Rows are claimed (pending → claimed) in a transaction right before their send, never more than
  the pacer and the concurrency allow at that moment, and resolved after it. Whoever takes over
  a broadcast after a crash marks the rows still `claimed` as `unknown` — the message may or may
  not have gone out — and never sends them again; they are counted in the report.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from bot.services.audit import record_action
from bot.services.delivery import Outcome, Result
from bot.services.pacing import Pacer
from models import ModerationAction, Role, User
from models.base import utcnow
from models.broadcast import Broadcast, BroadcastDelivery, BroadcastState, DeliveryState
from models.follow import AnnouncementMute, Follow, FollowKind

log = logging.getLogger(__name__)

# --- audience ------------------------------------------------------------------------------

EVERYONE = "everyone"
KERNEN = "kernen"
TOPICS = "topics"
CIVIL_SERVANTS = "civil_servants"
AUDIENCE_KINDS = (EVERYONE, KERNEN, TOPICS, CIVIL_SERVANTS)


@dataclass(frozen=True)
class Audience:
    """Who an announcement is for: everyone, residents of or following some kernen, followers
    of some topics, or civil servants. Muted residents are left out of all but the last."""

    kind: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise ValueError(f"unknown audience {self.kind!r}")
        if self.kind in (KERNEN, TOPICS) and not self.values:
            raise ValueError(f"audience {self.kind} needs at least one value")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "values": list(self.values)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Audience | None:
        if not data or data.get("kind") not in AUDIENCE_KINDS:
            return None
        try:
            return cls(data["kind"], tuple(data.get("values") or ()))
        except ValueError:
            return None


def _not_muted() -> ColumnElement[bool]:
    return ~exists().where(AnnouncementMute.user_id == User.id)


def _follows(kind: FollowKind, values: Iterable[str]) -> ColumnElement[bool]:
    return exists().where(
        Follow.user_id == User.id, Follow.kind == kind, Follow.value.in_(list(values))
    )


def audience_filter(audience: Audience) -> ColumnElement[bool]:
    """The users an audience reaches, as a WHERE clause on users."""
    # A banned resident gets nothing from the bot but the ban notice.
    reachable = and_(User.active.is_(True), User.banned_at.is_(None))
    resident = and_(reachable, User.consent_at.is_not(None), User.kern.is_not(None), _not_muted())
    if audience.kind == EVERYONE:
        return resident
    if audience.kind == KERNEN:
        # A resident's own kern always counts as followed.
        return and_(
            resident,
            or_(User.kern.in_(audience.values), _follows(FollowKind.KERN, audience.values)),
        )
    if audience.kind == TOPICS:
        return and_(resident, _follows(FollowKind.TOPIC, audience.values))
    # Announcements to staff are work messages: muting is for residents' announcements.
    return and_(reachable, User.role == Role.CIVIL_SERVANT)


# --- sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    broadcast_id: int
    text: str
    photo_file_id: str | None


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    user_id: int
    telegram_id: int
    language: str | None


Sender = Callable[[Message, Recipient], Awaitable[Result]]


@dataclass
class Progress:
    """Counts of a broadcast's deliveries; `pending` includes those being sent right now."""

    broadcast_id: int
    state: BroadcastState
    total: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    unknown: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def handled(self) -> int:
        return self.sent + self.blocked + self.failed + self.unknown

    @property
    def pending(self) -> int:
        return self.total - self.handled


ProgressCallback = Callable[[Progress], Awaitable[None]]


@dataclass(frozen=True)
class SenderSettings:
    # Messages per second; None for no pacing. Telegram allows about 30/s for a bot overall.
    rate: float | None = 25.0
    # Sends in flight at once: at 25/s and ~100 ms per request, a few are needed to keep up.
    concurrency: int = 8
    # Unpaced only (benchmarks, a Bot API server without limits): rows claimed per transaction.
    # Paced, a row is claimed only when a token and a slot are free, so that what is claimed is
    # what is on its way; unpaced that costs a transaction per send or two, so rows are claimed
    # in batches, and a crash may leave up to a batch `unknown` that never went out.
    claim_batch: int = 256
    # Per message, for temporary failures (the HTTP layer may already retry 5xx on its own).
    attempts: int = 3
    backoff_s: float = 1.0  # before the 2nd attempt; doubled for every next one
    max_retry_after: int = 20  # RetryAfter answers per message before it counts as failed
    progress_every_s: float = 3.0


# A send's final outcome as its delivery row's state (a retry is not final: `_attempts` tries
# again, and a message that never got through is failed).
_STATES = {
    Outcome.SENT: DeliveryState.SENT,
    Outcome.BLOCKED: DeliveryState.BLOCKED,
    Outcome.FAILED: DeliveryState.FAILED,
    Outcome.UNKNOWN: DeliveryState.UNKNOWN,
}


@dataclass
class _Result:
    delivery_id: int
    user_id: int
    state: DeliveryState
    attempts: int
    sent_at: datetime | None = None
    error: str | None = None


@dataclass
class _Run:
    """One sender's working state for one broadcast."""

    message: Message
    progress: Progress
    results: list[_Result] = field(default_factory=list)


class BroadcastService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        owner: str | None = None,
        lease: timedelta = timedelta(minutes=1),
    ) -> None:
        self._sessions = sessions
        # Identifies this process in leases; a restarted process is a new owner.
        self.owner = owner or uuid.uuid4().hex
        self.lease = lease

    # --- composing -----------------------------------------------------------------------

    async def create_draft(self, author_id: int, text: str, photo_file_id: str | None) -> Broadcast:
        async with self._sessions.begin() as session:
            broadcast = Broadcast(author_id=author_id, text=text, photo_file_id=photo_file_id)
            session.add(broadcast)
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        async with self._sessions() as session:
            return await session.get(Broadcast, broadcast_id)

    async def set_audience(self, broadcast_id: int, audience: Audience) -> Broadcast | None:
        """Only a draft's audience can change; None otherwise."""
        async with self._sessions.begin() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None or broadcast.state is not BroadcastState.DRAFT:
                return None
            broadcast.audience = audience.to_json()
            return broadcast

    async def count_audience(self, audience: Audience) -> int:
        async with self._sessions() as session:
            return await session.scalar(
                select(func.count()).select_from(User).where(audience_filter(audience))
            )

    async def schedule(self, broadcast_id: int, due_at: datetime) -> Broadcast | None:
        """A draft with an audience goes out at `due_at` (now or in the past: at once); the
        audit log records it in the author's name."""
        async with self._sessions.begin() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if (
                broadcast is None
                or broadcast.state is not BroadcastState.DRAFT
                or Audience.from_json(broadcast.audience) is None
            ):
                return None
            broadcast.state = BroadcastState.SCHEDULED
            broadcast.due_at = due_at
            record_action(
                session,
                broadcast.author_id,
                ModerationAction.ANNOUNCE,
                "broadcast",
                broadcast.id,
                due_at=due_at.isoformat(),
            )
            return broadcast

    async def cancel(self, broadcast_id: int, by_user_id: int | None = None) -> Broadcast | None:
        """Stop a draft, a scheduled or a sending broadcast; None if it had already ended.

        A sender notices at its next claim: messages already in flight still arrive, nothing
        more goes out, and the rows not sent stay pending (the report counts them). A stop by
        a moderator (`by_user_id`) goes into the audit log; a discarded draft does not.
        """
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == broadcast_id,
                    Broadcast.state.in_(
                        (BroadcastState.DRAFT, BroadcastState.SCHEDULED, BroadcastState.SENDING)
                    ),
                )
                .values(state=BroadcastState.CANCELLED)
            )
            if result.rowcount != 1:
                return None
            broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
            if broadcast.started_at is None or broadcast.lease_until is None:
                # Nobody is sending it, so nobody else will close it.
                broadcast.finished_at = utcnow()
            if by_user_id is not None:
                record_action(
                    session, by_user_id, ModerationAction.STOP_ANNOUNCE, "broadcast", broadcast_id
                )
            return broadcast

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(progress_chat_id=chat_id, progress_message_id=message_id)
            )

    async def upcoming(self) -> list[Broadcast]:
        """Broadcasts still to go out or going out now, by any moderator: a colleague must be
        able to stop one while its author is away."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(Broadcast)
                .where(Broadcast.state.in_((BroadcastState.SCHEDULED, BroadcastState.SENDING)))
                .order_by(Broadcast.due_at, Broadcast.id)
            )
            return list(found)

    # --- taking a broadcast on -----------------------------------------------------------

    async def due(self, now: datetime | None = None) -> list[int]:
        """Broadcasts a sender may take on now: due scheduled ones, and sending ones whose
        sender's lease ran out (it died) or was given up."""
        now = now or utcnow()
        async with self._sessions() as session:
            found = await session.scalars(
                select(Broadcast.id)
                .where(
                    or_(
                        and_(Broadcast.state == BroadcastState.SCHEDULED, Broadcast.due_at <= now),
                        Broadcast.state == BroadcastState.SENDING,
                    ),
                    or_(Broadcast.lease_until.is_(None), Broadcast.lease_until < now),
                )
                .order_by(Broadcast.due_at, Broadcast.id)
            )
            return list(found)

    async def acquire(self, broadcast_id: int) -> bool:
        """Take the lease on a due broadcast; False when it is not due or another sender has it.

        A scheduled broadcast becomes sending and gets its delivery rows; a sending one is
        resumed, and the rows its dead sender left claimed become unknown.
        """
        now = utcnow()
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == broadcast_id,
                    or_(
                        and_(Broadcast.state == BroadcastState.SCHEDULED, Broadcast.due_at <= now),
                        Broadcast.state == BroadcastState.SENDING,
                    ),
                    or_(Broadcast.lease_until.is_(None), Broadcast.lease_until < now),
                )
                .values(lease_owner=self.owner, lease_until=now + self.lease)
            )
            if taken.rowcount != 1:
                return False
            broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
            if broadcast.state is BroadcastState.SCHEDULED:
                broadcast.state = BroadcastState.SENDING
                broadcast.started_at = now
                await self._materialise(session, broadcast)
            else:
                lost = await session.execute(
                    update(BroadcastDelivery)
                    .where(
                        BroadcastDelivery.broadcast_id == broadcast_id,
                        BroadcastDelivery.state == DeliveryState.CLAIMED,
                    )
                    .values(state=DeliveryState.UNKNOWN, error="sender stopped during the send")
                )
                if lost.rowcount:
                    log.warning(
                        "broadcast %s resumed; %s message(s) were in flight when its sender "
                        "stopped and are not sent again",
                        broadcast_id,
                        lost.rowcount,
                    )
        return True

    @staticmethod
    async def _materialise(session: AsyncSession, broadcast: Broadcast) -> None:
        audience = Audience.from_json(broadcast.audience)
        if audience is None:
            raise ValueError(f"broadcast {broadcast.id} has no audience")
        recipients = select(
            literal(broadcast.id),
            User.id,
            literal(DeliveryState.PENDING.value),
            literal(0),
        ).where(audience_filter(audience))
        await session.execute(
            insert(BroadcastDelivery).from_select(
                ["broadcast_id", "user_id", "state", "attempts"], recipients
            )
        )

    async def release(self, broadcast_id: int) -> None:
        """Give the lease up at once (a graceful stop), so the next sender need not wait."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id, Broadcast.lease_owner == self.owner)
                .values(lease_owner=None, lease_until=None)
            )

    # --- progress ------------------------------------------------------------------------

    async def progress(self, broadcast_id: int) -> Progress | None:
        async with self._sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                return None
            return await self._progress(session, broadcast)

    @staticmethod
    async def _progress(session: AsyncSession, broadcast: Broadcast) -> Progress:
        rows = await session.execute(
            select(BroadcastDelivery.state, func.count())
            .where(BroadcastDelivery.broadcast_id == broadcast.id)
            .group_by(BroadcastDelivery.state)
        )
        counts = {DeliveryState(state): n for state, n in rows.all()}
        return Progress(
            broadcast_id=broadcast.id,
            state=broadcast.state,
            total=sum(counts.values()),
            sent=counts.get(DeliveryState.SENT, 0),
            blocked=counts.get(DeliveryState.BLOCKED, 0),
            failed=counts.get(DeliveryState.FAILED, 0),
            unknown=counts.get(DeliveryState.UNKNOWN, 0),
            started_at=broadcast.started_at,
            finished_at=broadcast.finished_at,
        )

    # --- the sender ----------------------------------------------------------------------

    async def send(
        self,
        broadcast_id: int,
        sender: Sender,
        settings: SenderSettings,
        *,
        on_progress: ProgressCallback | None = None,
        stop: asyncio.Event | None = None,
        pacer: Pacer | None = None,
    ) -> Progress:
        """Send a broadcast whose lease this process holds (see `acquire`) until every row is
        resolved, it is cancelled, or `stop` is set; returns the final counts.

        If this coroutine dies (an exception, or cancellation as in a crash) it writes nothing
        more: the rows it had claimed are found `claimed` by whoever resumes the broadcast.
        """
        pacer = pacer or Pacer(settings.rate)
        stop = stop or asyncio.Event()
        async with self._sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                raise LookupError(f"no broadcast {broadcast_id}")
            run = _Run(
                Message(broadcast.id, broadcast.text, broadcast.photo_file_id),
                await self._progress(session, broadcast),
            )
        in_flight: set[asyncio.Task[_Result]] = set()
        slots = asyncio.Semaphore(settings.concurrency)
        claimed_max = settings.concurrency if pacer.paced else settings.claim_batch
        # Unpaced, claims wait until half a batch is done: fewer, larger transactions.
        refill = 1 if pacer.paced else max(1, claimed_max // 2)
        last_report = time.monotonic()
        try:
            while True:
                # Results of finished sends go into the next claim's transaction.
                self._collect(run, _harvest(in_flight))
                claimable = 0
                if not stop.is_set():
                    while claimed_max - len(in_flight) < refill:
                        self._collect(run, await _first_done(in_flight))
                    claimable = await pacer.take(claimed_max - len(in_flight))
                recipients = await self._claim(broadcast_id, run, claimable)
                if recipients is None:  # cancelled, or the lease was lost
                    stop.set()
                    recipients = []
                for recipient in recipients:
                    in_flight.add(
                        asyncio.create_task(
                            self._deliver(sender, run.message, recipient, pacer, settings, slots)
                        )
                    )
                # Let the sends just claimed start before anything else happens here: claimed
                # and on its way should be the same thing, should this process die now.
                await asyncio.sleep(0)
                if not recipients:
                    if not in_flight:
                        break
                    self._collect(run, await _first_done(in_flight))
                if on_progress and time.monotonic() - last_report >= settings.progress_every_s:
                    last_report = time.monotonic()
                    await _report(on_progress, replace(run.progress), pacer)
        except BaseException:
            # A crash: leave the claimed rows claimed; only stop sending.
            for task in in_flight:
                task.cancel()
            raise
        final = await self._finish(broadcast_id, run, stopped=stop.is_set())
        if on_progress:
            await _report(on_progress, replace(final), pacer)
        return final

    async def _deliver(
        self,
        sender: Sender,
        message: Message,
        recipient: Recipient,
        pacer: Pacer,
        settings: SenderSettings,
        slots: asyncio.Semaphore,
    ) -> _Result:
        async with slots:
            return await self._attempts(sender, message, recipient, pacer, settings)

    async def _attempts(
        self,
        sender: Sender,
        message: Message,
        recipient: Recipient,
        pacer: Pacer,
        settings: SenderSettings,
    ) -> _Result:
        attempts = retry_afters = 0
        while True:
            attempts += 1
            try:
                result = await sender(message, recipient)
            except Exception as error:  # a bug in the sender must not stop the broadcast
                log.exception("broadcast %s: sending to user %s", message.broadcast_id, recipient)
                result = Result(Outcome.FAILED, error=repr(error))
            if result.flood_control:
                retry_afters += 1
                attempts -= 1  # flood control is Telegram pausing us, not this message failing
                wait = f"retry after {result.retry_after:g}s"
                if retry_afters > settings.max_retry_after:
                    return self._result(recipient, DeliveryState.FAILED, attempts, wait)
                pacer.hold(result.retry_after)
                await pacer.acquire()
            elif result.outcome is Outcome.RETRY:
                if attempts >= settings.attempts:
                    return self._result(recipient, DeliveryState.FAILED, attempts, result.error)
                await asyncio.sleep(settings.backoff_s * 2 ** (attempts - 1))
                await pacer.acquire()
            else:
                return self._result(recipient, _STATES[result.outcome], attempts, result.error)

    @staticmethod
    def _result(recipient: Recipient, state: DeliveryState, attempts: int, error: str) -> _Result:
        """The row's new fields; a sent row gets its time, a blocked one says only that."""
        if state is DeliveryState.SENT:
            return _Result(recipient.delivery_id, recipient.user_id, state, attempts, utcnow())
        if state is DeliveryState.BLOCKED:
            error = "blocked"
        return _Result(recipient.delivery_id, recipient.user_id, state, attempts, error=error[:200])

    @staticmethod
    def _collect(run: _Run, done: Iterable[asyncio.Task[_Result]]) -> None:
        for task in done:
            result = task.result()
            run.results.append(result)
            progress = run.progress
            if result.state is DeliveryState.SENT:
                progress.sent += 1
            elif result.state is DeliveryState.BLOCKED:
                progress.blocked += 1
            elif result.state is DeliveryState.UNKNOWN:
                progress.unknown += 1
            else:
                progress.failed += 1

    async def _claim(self, broadcast_id: int, run: _Run, count: int) -> list[Recipient] | None:
        """Record the results so far, renew the lease and claim up to `count` pending rows;
        None when the broadcast was cancelled or another sender took it over."""
        now = utcnow()
        async with self._sessions.begin() as session:
            await self._record(session, run)
            renewed = await session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == broadcast_id,
                    Broadcast.state == BroadcastState.SENDING,
                    Broadcast.lease_owner == self.owner,
                )
                .values(lease_until=now + self.lease)
            )
            if renewed.rowcount != 1:
                return None
            if count <= 0:
                return []
            # Locked first, then updated: PostgreSQL may run a LIMIT subquery inside an UPDATE
            # more than once, and with SKIP LOCKED each run finds other rows. SKIP LOCKED keeps
            # a second sender, should the lease ever be misjudged, off these rows (SQLite has
            # one writer at a time and ignores it).
            batch = await session.scalars(
                select(BroadcastDelivery.id)
                .where(
                    BroadcastDelivery.broadcast_id == broadcast_id,
                    BroadcastDelivery.state == DeliveryState.PENDING,
                )
                .order_by(BroadcastDelivery.id)
                .limit(count)
                .with_for_update(skip_locked=True)
            )
            claimed = await session.execute(
                update(BroadcastDelivery)
                .where(
                    BroadcastDelivery.id.in_(list(batch)),
                    BroadcastDelivery.state == DeliveryState.PENDING,
                )
                .values(state=DeliveryState.CLAIMED, claimed_at=now)
                .returning(BroadcastDelivery.id, BroadcastDelivery.user_id)
            )
            rows = claimed.all()
            if not rows:
                return []
            users = await session.execute(
                select(User.id, User.telegram_id, User.language).where(
                    User.id.in_([user_id for _, user_id in rows])
                )
            )
            found = {user_id: (telegram_id, language) for user_id, telegram_id, language in users}
        return [
            Recipient(delivery_id, user_id, *found[user_id])
            for delivery_id, user_id in sorted(rows)
            if user_id in found
        ]

    @staticmethod
    async def _record(session: AsyncSession, run: _Run) -> None:
        results, run.results = run.results, []
        if not results:
            return
        await session.execute(
            update(BroadcastDelivery),
            [
                {
                    "id": r.delivery_id,
                    "state": r.state,
                    "attempts": r.attempts,
                    "sent_at": r.sent_at,
                    "error": r.error or None,
                }
                for r in results
            ],
        )
        blocked = [r.user_id for r in results if r.state is DeliveryState.BLOCKED]
        if blocked:
            await session.execute(update(User).where(User.id.in_(blocked)).values(active=False))

    async def _finish(self, broadcast_id: int, run: _Run, *, stopped: bool) -> Progress:
        """Record the last results; done when nothing is pending, the lease given up if not."""
        now = utcnow()
        async with self._sessions.begin() as session:
            await self._record(session, run)
            broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
            progress = await self._progress(session, broadcast)
            if broadcast.lease_owner == self.owner:
                broadcast.lease_owner = broadcast.lease_until = None
                if broadcast.state is BroadcastState.CANCELLED:
                    broadcast.finished_at = broadcast.finished_at or now
                elif broadcast.state is BroadcastState.SENDING and progress.pending == 0:
                    broadcast.state = BroadcastState.DONE
                    broadcast.finished_at = now
            progress.state, progress.finished_at = broadcast.state, broadcast.finished_at
        if stopped and progress.state is BroadcastState.SENDING:
            log.info("broadcast %s paused with %s to go", broadcast_id, progress.pending)
        return progress


def _harvest(tasks: set[asyncio.Task[_Result]]) -> set[asyncio.Task[_Result]]:
    done = {task for task in tasks if task.done()}
    tasks -= done
    return done


async def _first_done(tasks: set[asyncio.Task[_Result]]) -> set[asyncio.Task[_Result]]:
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    tasks -= done
    return done


async def _report(on_progress: ProgressCallback, progress: Progress, pacer: Pacer) -> None:
    """Tell the author; the edit is a Bot API call too, so it takes its turn in the pacing."""
    await pacer.acquire()
    try:
        await on_progress(progress)
    except Exception:
        log.exception("broadcast %s: progress report failed", progress.broadcast_id)


__all__ = [
    "AUDIENCE_KINDS",
    "Audience",
    "BroadcastService",
    "Message",
    "Progress",
    "Recipient",
    "Sender",
    "SenderSettings",
]
