"""Sending what is due: digests, questions, reminders, escalations and notices. Free of Telegram.

Each row is claimed before its message is sent, with a conditional UPDATE (`state = 'pending'` in
the WHERE clause, rowcount checked): on SQLite and PostgreSQL alike only one claimer wins, so a
second instance or an overlapping run never sends a row twice. The claim is committed before the
send and the result recorded after it. Where a send's outcome cannot be known (a crash in between
leaves the row `claimed`; a send without an answer, a timeout, may have arrived) the row is never
sent again: it becomes `unknown` (the crash's row once LEASE has passed) and is logged. At most
once, then, and nothing lost: the question it was about stays with its civil servant, in /vragen,
and its reminder and escalation still come.
A passing failure (network, flood control) puts the row back to pending with a later due time; a
blocked recipient is marked inactive, and a question meant for them goes to the backup or triage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.delivery import Outcome, Result
from bot.services.meeting import POST_KEY, post_words
from bot.services.posts import News, news_content
from bot.services.question_states import move, note
from bot.services.questions import WORDS, QuestionService
from models import (
    CivilServant,
    EventKind,
    Initiative,
    Question,
    QuestionEvent,
    QuestionStatus,
    ScheduledWork,
    User,
    WorkKind,
    WorkState,
)
from models.base import utcnow

log = logging.getLogger(__name__)

# A claim older than this belongs to a run that died; its outcome is unknown.
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 6
BATCH = 500
# Buttons that make a notice about acting on the question: pointless once it is closed.
_ACTION_BUTTONS = {"card", "triage"}


@dataclass(frozen=True)
class Delivery:
    """One message to send; the Telegram side renders it from these facts."""

    work_id: int
    kind: WorkKind
    recipient: User
    question: Question | None
    payload: dict[str, Any]
    servant: CivilServant | None = None  # the recipient's profile, when they have one
    news: News | None = None  # a weekly news row's content, as it stands now


Sender = Callable[[Delivery], Awaitable[Result]]


@dataclass
class DispatchReport:
    sent: int = 0
    blocked: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def count(self, kind: WorkKind) -> None:
        self.kinds[kind.value] = self.kinds.get(kind.value, 0) + 1


async def count_by_state(session: AsyncSession) -> dict[WorkState, int]:
    """Scheduled messages per state, every state present (for /metrics)."""
    rows = await session.execute(
        select(ScheduledWork.state, func.count()).group_by(ScheduledWork.state)
    )
    counts: dict[WorkState, int] = {state: count for state, count in rows}
    return {state: counts.get(state, 0) for state in WorkState}


class DispatchService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], questions: QuestionService
    ) -> None:
        self._sessions = sessions
        self._questions = questions

    async def run_due(
        self, sender: Sender, now: datetime | None = None, *, budget: float | None = None
    ) -> DispatchReport:
        """Send everything due by `now`, each civil servant's digest header before their
        questions and the weekly news after everything else, until nothing due is left (rows
        added meanwhile, such as an escalation's notices, included).

        With a `budget` (seconds), no new row is started once it is spent: the weekly news
        to thousands of residents takes minutes at Telegram's pace, and the next run, with a
        fresh `now`, sends a reminder that fell due meanwhile before the rest of the news.
        """
        started = time.monotonic()
        now = now or utcnow()
        await self.recover_stale(now)
        report = DispatchReport()
        while ids := await self._due_ids(now):
            for work_id in ids:
                await self._process(work_id, sender, now, report)
                if budget is not None and time.monotonic() - started > budget:
                    return report
        return report

    async def send_now(
        self, ids: Iterable[int], sender: Sender, now: datetime | None = None
    ) -> DispatchReport:
        """Send these rows right away (a move in a chat owes its message now); what they lead
        to (a reroute after a block) follows in the same call."""
        now = now or utcnow()
        report = DispatchReport()
        pending = list(ids)
        while pending:
            follow_ups: list[int] = []
            for work_id in pending:
                follow_ups += await self._process(work_id, sender, now, report)
            pending = follow_ups
        return report

    async def recover_stale(self, now: datetime) -> int:
        """Rows a stopped run claimed and never recorded, once their lease has passed:
        `unknown`, never sent again (a question's card counts as with its civil servant, as
        after a send without an answer). Few: at most what a run had in hand at its end."""
        async with self._sessions.begin() as session:
            stale = list(
                await session.scalars(
                    select(ScheduledWork)
                    .where(
                        ScheduledWork.state == WorkState.CLAIMED,
                        ScheduledWork.claimed_at < now - LEASE,
                    )
                    .with_for_update(skip_locked=True)  # two instances recover each row once
                )
            )
            for row in stale:
                row.state = WorkState.UNKNOWN
                row.done_at = now
                row.last_error = "claimed by a run that stopped; maybe sent, not sent again"
                if row.kind is WorkKind.DELIVER:
                    await self._after_sent(session, row, now)
        if stale:
            log.warning("%d scheduled messages were claimed by a stopped run", len(stale))
        return len(stale)

    async def pending_count(self) -> int:
        async with self._sessions() as session:
            return (
                await session.scalar(
                    select(func.count())
                    .select_from(ScheduledWork)
                    .where(ScheduledWork.state == WorkState.PENDING)
                )
                or 0
            )

    async def _due_ids(self, now: datetime) -> list[int]:
        digest_first = case((ScheduledWork.kind == WorkKind.DIGEST, 0), else_=1)
        bulk_last = case((ScheduledWork.kind == WorkKind.NEWS, 1), else_=0)
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ScheduledWork.id)
                .where(ScheduledWork.state == WorkState.PENDING, ScheduledWork.due_at <= now)
                .order_by(
                    bulk_last,
                    ScheduledWork.due_at,
                    ScheduledWork.recipient_id,
                    digest_first,
                    ScheduledWork.id,
                )
                .limit(BATCH)
            )
            return list(rows)

    async def _process(
        self, work_id: int, sender: Sender, now: datetime, report: DispatchReport
    ) -> list[int]:
        """Claim, send, record. Returns rows the outcome added that are due now."""
        async with self._sessions.begin() as session:
            claimed = await session.execute(
                update(ScheduledWork)
                .where(
                    ScheduledWork.id == work_id,
                    ScheduledWork.state == WorkState.PENDING,
                    ScheduledWork.due_at <= now,
                )
                .values(
                    state=WorkState.CLAIMED,
                    # When it was claimed, not when the run began: the last claims of a long run
                    # must not look stale to another instance's recover_stale.
                    claimed_at=utcnow(),
                    attempts=ScheduledWork.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                return []  # another run has it, or it is not due (any more)
            row = await session.get(ScheduledWork, work_id, populate_existing=True)
            assert row is not None
            delivery, added = await self._prepare(session, row, now)
            if delivery is None:
                report.cancelled += row.state is WorkState.CANCELLED
                return added
        # The claim is committed: from here a crash means "maybe sent", never "sent twice".
        try:
            if delivery.recipient.active:
                result = await sender(delivery)
            else:  # an assignee known to have blocked the bot: straight to the reroute
                result = Result(Outcome.BLOCKED)
        except Exception as exc:
            log.exception("sending scheduled message %s failed", work_id)
            result = Result(Outcome.FAILED, error=type(exc).__name__)
        return await self._record(work_id, delivery, result, now, report)

    async def _prepare(
        self, session: AsyncSession, row: ScheduledWork, now: datetime
    ) -> tuple[Delivery | None, list[int]]:
        """What to send for a claimed row, or None after cancelling it (or, for an
        escalation, after writing the notices it leads to)."""
        question = await session.get(Question, row.question_id) if row.question_id else None
        recipient = await session.get(User, row.recipient_id) if row.recipient_id else None
        assignee = (
            await session.get(CivilServant, question.assignee_id)
            if question is not None and question.assignee_id
            else None
        )
        for_assignee = assignee is not None and recipient is not None
        for_assignee = for_assignee and assignee.user_id == recipient.id
        news = None

        def cancel() -> tuple[None, list[int]]:
            row.state = WorkState.CANCELLED
            row.done_at = now
            return None, []

        if row.kind is WorkKind.ESCALATION:
            if question is None or not question.status.awaits_civil_servant:
                return cancel()
            added = await self._questions.escalate(session, question, now)
            row.state = WorkState.DONE
            row.done_at = now
            return None, [r.id for r in added]
        if recipient is None:
            return cancel()
        if row.kind is WorkKind.DIGEST:
            count = await session.scalar(
                select(func.count())
                .select_from(ScheduledWork)
                .where(
                    ScheduledWork.kind == WorkKind.DELIVER,
                    ScheduledWork.recipient_id == recipient.id,
                    ScheduledWork.state == WorkState.PENDING,
                    ScheduledWork.due_at <= now,
                )
            )
            if not count:
                return cancel()
            row.payload = {**row.payload, "count": count}
        elif row.kind is WorkKind.DELIVER:
            if question is None or question.status is not QuestionStatus.SUBMITTED:
                return cancel()
            if not for_assignee:
                return cancel()
        elif row.kind is WorkKind.REMINDER:
            if question is None or not question.status.awaits_civil_servant:
                return cancel()
            if not for_assignee:
                return cancel()
        elif row.kind is WorkKind.NEWS:
            news = await news_content(session, row.payload, recipient)
            if news is None:
                return cancel()
        elif row.payload.get("buttons") in _ACTION_BUTTONS:
            if question is None or not question.status.is_open:
                return cancel()
            triage = row.payload.get("key") == "vraag.triage_notice"
            if triage and question.status is not QuestionStatus.TRIAGE:
                return cancel()
        if not recipient.active and not for_assignee:
            return cancel()
        if recipient.banned_at is not None and question is None:
            return cancel()  # e.g. the check-in on an initiative: nothing for a banned resident
        payload = await _with_words(session, row.payload)
        if payload is not None and POST_KEY in payload:  # a post in an initiative's group
            payload = await post_words(session, payload, recipient)
        if payload is None:
            return cancel()
        servant = await session.scalar(
            select(CivilServant).where(CivilServant.user_id == recipient.id)
        )
        delivery = Delivery(row.id, row.kind, recipient, question, payload, servant, news)
        return delivery, []

    async def _record(
        self,
        work_id: int,
        delivery: Delivery,
        result: Result,
        now: datetime,
        report: DispatchReport,
    ) -> list[int]:
        """The outcome as the row's state: the one place a send's `Outcome` becomes a
        `WorkState`."""
        added: list[int] = []
        async with self._sessions.begin() as session:
            row = await session.get(ScheduledWork, work_id, populate_existing=True)
            assert row is not None
            if result.outcome is Outcome.SENT:
                row.state = WorkState.DONE
                row.done_at = now
                report.sent += 1
                report.count(row.kind)
                await self._after_sent(session, row, now)
            elif result.outcome is Outcome.RETRY and row.attempts < MAX_ATTEMPTS:
                row.state = WorkState.PENDING
                backoff = max(result.retry_after or 0, 30 * 2 ** (row.attempts - 1))
                row.due_at = now + timedelta(seconds=backoff)
                row.last_error = result.error[:200] or "retry"
                report.retried += 1
            elif result.outcome is Outcome.UNKNOWN:
                row.state = WorkState.UNKNOWN
                row.done_at = now
                row.last_error = f"no answer, maybe sent: {result.error}"[:200]
                report.unknown += 1
                log.warning("scheduled message %s: %s", work_id, row.last_error)
                if row.kind is WorkKind.DELIVER:
                    # Most likely it arrived, and either way the question is in the civil
                    # servant's /vragen: the resident sees it as with them, not as waiting.
                    await self._after_sent(session, row, now)
            elif result.outcome is Outcome.BLOCKED:
                row.state = WorkState.FAILED
                row.done_at = now
                row.last_error = "blocked by the recipient"
                report.blocked += 1
                added = await self._after_blocked(session, row, now)
            else:
                row.state = WorkState.FAILED
                row.done_at = now
                row.last_error = result.error[:200] or "failed"
                report.failed += 1
                log.warning("scheduled message %s failed: %s", work_id, row.last_error)
        return added

    async def _after_sent(self, session: AsyncSession, row: ScheduledWork, now: datetime) -> None:
        if row.question_id is None or row.kind not in (WorkKind.DELIVER, WorkKind.REMINDER):
            return
        question = await session.get(Question, row.question_id, populate_existing=True)
        if question is None:
            return
        if row.kind is WorkKind.DELIVER and question.status is QuestionStatus.SUBMITTED:
            move(
                session,
                question,
                QuestionStatus.DELIVERED,
                EventKind.DELIVERED,
                None,
                servant_id=question.assignee_id,
                at=now,
            )
        else:
            note(
                session, question, EventKind.REMINDED, None, servant_id=question.assignee_id, at=now
            )

    async def _after_blocked(
        self, session: AsyncSession, row: ScheduledWork, now: datetime
    ) -> list[int]:
        """Nothing more goes to someone who blocked the bot; a question waiting for them as
        its assignee goes to their backup, or else to the moderators' triage queue."""
        recipient = await session.get(User, row.recipient_id, populate_existing=True)
        if recipient is None:
            return []
        recipient.active = False
        if row.question_id is None:
            return []
        question = await session.get(Question, row.question_id, populate_existing=True)
        if question is None or not question.status.is_open:
            return []
        assignee = await session.get(CivilServant, question.assignee_id or 0)
        if assignee is None or assignee.user_id != recipient.id:
            return []
        await session.flush()
        return await self._questions.reroute_blocked(session, question, recipient, now)


async def _with_words(session: AsyncSession, payload: dict[str, Any]) -> dict[str, Any] | None:
    """`payload` with the words it refers to, read where they are kept (scheduled work holds
    ids, never words); None when they are gone (erased) and the message would say nothing."""
    values = dict(payload.get("values") or {})
    for name, event_id in (payload.get(WORDS) or {}).items():
        words = await session.scalar(select(QuestionEvent.text).where(QuestionEvent.id == event_id))
        if not words:
            return None
        values[name] = words
    if "initiative_id" in payload:  # the check-in on an initiative quotes its title
        initiative = await session.get(Initiative, int(payload["initiative_id"]))
        if initiative is None:
            return None
        values.update(title=initiative.title, number=initiative.id)
    return {**payload, "values": values}
