"""Polls (/peiling): residents involved early. A question with 2–6 choices or an open answer, to
an audience, open until a date; each resident answers once; the author sees counts, never who.

Free of Telegram. Sending reuses the announcements' machinery (bot/services/broadcasts.py): a
poll is created together with a scheduled broadcast for its audience, so the broadcasts' job
sends it paced, resumably and at most once per resident, and marks who blocked the bot. Who may
answer is who got it: a delivery row of that broadcast. Closing is a conditional update that the
repeating job makes once per poll; a shared result is a second broadcast whose delivery rows are
the people who answered, written in that same transaction.

Erasure keeps aggregates: a typed answer is deleted, a choice stays without its person
(user_id NULL), so a closed poll's figures do not change when someone leaves.
"""

from __future__ import annotations

import enum
import html
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.audit import record_action
from bot.services.broadcasts import CIVIL_SERVANTS, Audience
from models import ModerationAction, User
from models.base import utcnow
from models.broadcast import Broadcast, BroadcastDelivery, BroadcastState, DeliveryState
from models.poll import (
    CHOICE_MAX,
    CHOICES_MAX,
    CHOICES_MIN,
    OPEN_ANSWER_MAX,
    QUESTION_MAX,
    Poll,
    PollAnswer,
    PollState,
)

log = logging.getLogger(__name__)

__all__ = [
    "CHOICES_MAX",
    "CHOICES_MIN",
    "CHOICE_MAX",
    "OPEN_ANSWER_MAX",
    "QUESTION_MAX",
    "Answered",
    "Check",
    "PollService",
    "Results",
    "forget_answers",
]


class Check(enum.StrEnum):
    """What became of an answer (or of asking whether one may be given)."""

    OK = "ok"
    NO_POLL = "no_poll"  # no such poll, or this person never got it: a forged or stale press
    BAD_CHOICE = "bad_choice"  # not one of its choices: a forged press
    CLOSED = "closed"
    ALREADY = "already"


@dataclass(frozen=True)
class Answered:
    check: Check
    poll: Poll | None = None
    # The person's answer (theirs, or the one they gave before): a choice's label, or their text.
    answer: str | None = None


@dataclass
class Results:
    poll: Poll
    counts: list[int] = field(default_factory=list)  # per choice, in the choices' order
    texts: list[str] = field(default_factory=list)  # open answers, without names, oldest first
    answered: int = 0
    reached: int = 0  # residents the poll was delivered to

    @property
    def labels(self) -> list[str]:
        return list(self.poll.choices)


class PollService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- composing -----------------------------------------------------------------------

    async def create(
        self,
        author_id: int,
        question: str,
        choices: list[str],
        audience: Audience,
        closes_at: datetime,
        *,
        share_results: bool,
        now: datetime | None = None,
    ) -> Poll:
        """The poll and the broadcast that carries it, due at once, in one transaction: the
        broadcasts' job sends it from there (a crash before the commit leaves neither)."""
        if not question or len(question) > QUESTION_MAX:
            raise ValueError("a question has 1 to 300 characters")
        if choices and not (
            CHOICES_MIN <= len(choices) <= CHOICES_MAX
            and all(0 < len(c) <= CHOICE_MAX for c in choices)
        ):
            raise ValueError("a poll has 2 to 6 choices of at most 40 characters")
        if audience.kind == CIVIL_SERVANTS:
            raise ValueError("polls are for residents")
        now = now or utcnow()
        if closes_at <= now:
            raise ValueError("a poll closes in the future")
        async with self._sessions.begin() as session:
            broadcast = Broadcast(
                author_id=author_id,
                text=html.escape(question),
                audience=audience.to_json(),
                state=BroadcastState.SCHEDULED,
                due_at=now,
            )
            session.add(broadcast)
            await session.flush()
            poll = Poll(
                author_id=author_id,
                question=question,
                choices=list(choices),
                audience=audience.to_json(),
                closes_at=closes_at,
                share_results=share_results,
                state=PollState.OPEN,
                broadcast_id=broadcast.id,
            )
            session.add(poll)
            await session.flush()
            record_action(
                session,
                author_id,
                ModerationAction.ANNOUNCE,
                "broadcast",
                broadcast.id,
                poll=poll.id,
                due_at=now.isoformat(),
            )
        return poll

    async def get(self, poll_id: int) -> Poll | None:
        async with self._sessions() as session:
            return await session.get(Poll, poll_id)

    async def carried_by(self, broadcast_id: int) -> tuple[Poll, bool] | None:
        """The poll a broadcast carries, and whether it is the result (False: the question)."""
        async with self._sessions() as session:
            poll = await session.scalar(select(Poll).where(Poll.broadcast_id == broadcast_id))
            if poll is not None:
                return poll, False
            poll = await session.scalar(
                select(Poll).where(Poll.result_broadcast_id == broadcast_id)
            )
            return (poll, True) if poll is not None else None

    async def of_author(self, author_id: int, limit: int = 10) -> list[tuple[Poll, int]]:
        """The author's newest polls, each with its number of answers."""
        async with self._sessions() as session:
            answers = (
                select(func.count())
                .where(PollAnswer.poll_id == Poll.id)
                .correlate(Poll)
                .scalar_subquery()
            )
            rows = await session.execute(
                select(Poll, answers)
                .where(Poll.author_id == author_id)
                .order_by(Poll.id.desc())
                .limit(limit)
            )
            return [(poll, count) for poll, count in rows.all()]

    # --- answering -----------------------------------------------------------------------

    async def may_answer(self, poll_id: int, user_id: int, now: datetime | None = None) -> Answered:
        """Whether this person may answer now (before they type an open answer)."""
        async with self._sessions() as session:
            return await self._check(session, poll_id, user_id, None, now or utcnow())

    async def answer(
        self,
        poll_id: int,
        user_id: int,
        *,
        choice: int | None = None,
        text: str | None = None,
        now: datetime | None = None,
    ) -> Answered:
        """Record one answer: a choice's index, or the typed text of an open question. Once per
        person; a second answer gets ALREADY and the first answer back."""
        now = now or utcnow()
        try:
            async with self._sessions.begin() as session:
                checked = await self._check(session, poll_id, user_id, choice, now)
                if checked.check is not Check.OK:
                    return checked
                poll = checked.poll
                if poll.is_open_question:
                    if not text or not text.strip() or len(text) > OPEN_ANSWER_MAX:
                        raise ValueError("an open answer has 1 to 1000 characters")
                    session.add(PollAnswer(poll_id=poll_id, user_id=user_id, text=text.strip()))
                    answer = text.strip()
                else:
                    session.add(PollAnswer(poll_id=poll_id, user_id=user_id, choice=choice))
                    answer = poll.choices[choice]
        except IntegrityError:
            # Two presses at once: the other one was first.
            async with self._sessions() as session:
                return await self._check(session, poll_id, user_id, choice, now)
        return Answered(Check.OK, poll, answer)

    @staticmethod
    async def _check(
        session: AsyncSession, poll_id: int, user_id: int, choice: int | None, now: datetime
    ) -> Answered:
        poll = await session.get(Poll, poll_id)
        if poll is None or poll.broadcast_id is None:
            return Answered(Check.NO_POLL)
        received = await session.scalar(
            select(BroadcastDelivery.id).where(
                BroadcastDelivery.broadcast_id == poll.broadcast_id,
                BroadcastDelivery.user_id == user_id,
            )
        )
        if received is None:
            return Answered(Check.NO_POLL, poll)
        # A choice for a question with buttons, a typed answer (choice None) for an open one.
        if choice is None:
            if not poll.is_open_question:
                return Answered(Check.BAD_CHOICE, poll)
        elif poll.is_open_question or not 0 <= choice < len(poll.choices):
            return Answered(Check.BAD_CHOICE, poll)
        earlier = await session.scalar(
            select(PollAnswer).where(PollAnswer.poll_id == poll_id, PollAnswer.user_id == user_id)
        )
        if earlier is not None:
            return Answered(Check.ALREADY, poll, _shown(poll, earlier))
        if poll.state is not PollState.OPEN or poll.closes_at <= now:
            return Answered(Check.CLOSED, poll)
        return Answered(Check.OK, poll)

    # --- results -------------------------------------------------------------------------

    async def results(self, poll_id: int) -> Results | None:
        async with self._sessions() as session:
            poll = await session.get(Poll, poll_id)
            if poll is None:
                return None
            return await self._results(session, poll)

    @staticmethod
    async def _results(session: AsyncSession, poll: Poll) -> Results:
        results = Results(poll)
        if poll.is_open_question:
            texts = await session.scalars(
                select(PollAnswer.text)
                .where(PollAnswer.poll_id == poll.id, PollAnswer.text.is_not(None))
                .order_by(PollAnswer.id)
            )
            results.texts = [text for text in texts if text]
            results.answered = len(results.texts)
        else:
            rows = await session.execute(
                select(PollAnswer.choice, func.count())
                .where(PollAnswer.poll_id == poll.id, PollAnswer.choice.is_not(None))
                .group_by(PollAnswer.choice)
            )
            counts = dict(rows.all())
            results.counts = [counts.get(i, 0) for i in range(len(poll.choices))]
            results.answered = sum(results.counts)
        if poll.broadcast_id is not None:
            results.reached = await session.scalar(
                select(func.count()).where(
                    BroadcastDelivery.broadcast_id == poll.broadcast_id,
                    BroadcastDelivery.state == DeliveryState.SENT,
                )
            )
        return results

    # --- closing -------------------------------------------------------------------------

    async def due(self, now: datetime | None = None) -> list[int]:
        """Open polls whose closing time has passed."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(Poll.id)
                .where(Poll.state == PollState.OPEN, Poll.closes_at <= (now or utcnow()))
                .order_by(Poll.closes_at, Poll.id)
            )
            return list(found)

    async def close(self, poll_id: int, now: datetime | None = None) -> Results | None:
        """Close a due poll, once: None when it is not due or another run closed it. With
        `share_results`, the result's broadcast to the people who answered is written in the
        same transaction, ready for the broadcasts' job to send."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            closed = await session.execute(
                update(Poll)
                .where(Poll.id == poll_id, Poll.state == PollState.OPEN, Poll.closes_at <= now)
                .values(state=PollState.CLOSED, closed_at=now)
            )
            if closed.rowcount != 1:
                return None
            poll = await session.get(Poll, poll_id, populate_existing=True)
            if poll.share_results:
                await self._result_broadcast(session, poll, now)
            return await self._results(session, poll)

    @staticmethod
    async def _result_broadcast(session: AsyncSession, poll: Poll, now: datetime) -> None:
        """A broadcast already sending, its delivery rows the answerers still reachable: the
        broadcasts' job takes it on like one whose sender died before its first send. No author:
        the poll's author gets the result itself, not a progress report."""
        reachable = and_(
            PollAnswer.poll_id == poll.id,
            PollAnswer.user_id == User.id,
            User.active.is_(True),
            User.banned_at.is_(None),
        )
        if not await session.scalar(select(func.count()).select_from(PollAnswer).where(reachable)):
            return
        broadcast = Broadcast(
            author_id=None,
            text=html.escape(poll.question),
            audience={},
            state=BroadcastState.SENDING,
            due_at=now,
            started_at=now,
        )
        session.add(broadcast)
        await session.flush()
        await session.execute(
            insert(BroadcastDelivery).from_select(
                ["broadcast_id", "user_id", "state", "attempts"],
                select(
                    literal(broadcast.id),
                    User.id,
                    literal(DeliveryState.PENDING.value),
                    literal(0),
                ).where(reachable),
            )
        )
        poll.result_broadcast_id = broadcast.id


def _shown(poll: Poll, answer: PollAnswer) -> str:
    if answer.choice is not None and 0 <= answer.choice < len(poll.choices):
        return poll.choices[answer.choice]
    return answer.text or ""


async def forget_answers(session: AsyncSession, user_id: int) -> None:
    """For /vergeetmij: typed answers go (their own words); a choice stays without its person,
    so the counts stay as they were and nobody can tell whose it was. Polls the person asked
    (as staff) stay, without an author: they close without telling anyone."""
    await session.execute(update(Poll).where(Poll.author_id == user_id).values(author_id=None))
    await session.execute(
        delete(PollAnswer).where(PollAnswer.user_id == user_id, PollAnswer.text.is_not(None))
    )
    await session.execute(
        update(PollAnswer).where(PollAnswer.user_id == user_id).values(user_id=None)
    )
