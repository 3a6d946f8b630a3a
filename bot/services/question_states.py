"""A question's status as a state machine: which status may follow which.

Every status write goes through `submit()` (a new question) or `move()` (any later change): they
check the move against `ALLOWED`, set the status and write the history row in one go, so the
history (`question_events`, never edited but for erasure) always tells how a question got
where it is. Things that happen without changing the status (a reminder, feedback, an
escalation) are recorded with `note()`.

    submitted → delivered ⇄ info_requested → answered → closed
        ↘ triage ↗ (assigned)                               ↘ submitted / triage (reopened)

Forwarding, escalation and re-routing give a question to someone else: it is submitted anew
(or goes to triage) from any open status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import EventKind, Question, QuestionEvent, QuestionStatus
from models.base import utcnow

S = QuestionStatus

_REROUTED = frozenset({S.SUBMITTED, S.TRIAGE})
# What a civil servant (or a moderator) may do with a question that is open.
_HANDLED = frozenset({S.INFO_REQUESTED, S.ANSWERED, S.CLOSED})

ALLOWED: dict[QuestionStatus | None, frozenset[QuestionStatus]] = {
    None: frozenset({S.SUBMITTED}),
    S.SUBMITTED: _REROUTED | _HANDLED | {S.DELIVERED},
    S.TRIAGE: _REROUTED | _HANDLED,
    S.DELIVERED: _REROUTED | _HANDLED,
    # The resident's reply puts it back with the civil servant.
    S.INFO_REQUESTED: _REROUTED | _HANDLED | {S.DELIVERED},
    S.ANSWERED: _REROUTED | _HANDLED,
    # Reopened by the resident within the configured days.
    S.CLOSED: _REROUTED,
}


class IllegalMove(RuntimeError):
    """A status change the table does not allow: a bug, not something a person did."""


def may_move(current: QuestionStatus | None, new: QuestionStatus) -> bool:
    return new in ALLOWED[current]


def _record(
    session: AsyncSession,
    question: Question,
    kind: EventKind,
    actor_id: int | None,
    servant_id: int | None,
    text: str | None,
    at: datetime | None,
) -> QuestionEvent:
    event = QuestionEvent(
        question_id=question.id,
        kind=kind,
        status=question.status,
        actor_id=actor_id,
        civil_servant_id=servant_id,
        text=text,
        at=at or utcnow(),
    )
    session.add(event)
    return event


async def submit(
    session: AsyncSession, question: Question, actor_id: int | None, *, text: str
) -> QuestionEvent:
    """A new question: stored as submitted, with its first history row (the resident's words)."""
    if question.status is not None:
        raise IllegalMove(f"question {question.id} exists already")
    question.status = S.SUBMITTED
    session.add(question)
    await session.flush()
    return _record(session, question, EventKind.CREATED, actor_id, None, text, None)


def move(
    session: AsyncSession,
    question: Question,
    new: QuestionStatus,
    kind: EventKind,
    actor_id: int | None,
    *,
    servant_id: int | None = None,
    text: str | None = None,
    at: datetime | None = None,
) -> QuestionEvent:
    """Check the move, set the status, write the history row; returns the row."""
    if not may_move(question.status, new):
        raise IllegalMove(f"question {question.id}: {question.status} → {new} ({kind})")
    question.status = new
    return _record(session, question, kind, actor_id, servant_id, text, at)


def note(
    session: AsyncSession,
    question: Question,
    kind: EventKind,
    actor_id: int | None,
    *,
    servant_id: int | None = None,
    text: str | None = None,
    at: datetime | None = None,
) -> QuestionEvent:
    """A history row for something that happened without a change of status."""
    return _record(session, question, kind, actor_id, servant_id, text, at)
