"""Questions of residents to the municipality: classifying, routing, the civil servant's moves
(answer, ask for more, forward, close), feedback and reopening. Free of Telegram.

Every message a move owes someone is written as a `scheduled_work` row in the same transaction
as the move itself; the dispatch service sends them (at once when the row is due now, which the
handlers ask for right away), so a crash between the move and the message loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import QuestionsConfig
from bot.routing import Taxonomy, TopicClassifier, TopicScore, is_confident, load_taxonomy
from bot.routing.keys import within
from bot.semantic import embed_one
from bot.services.civil_servants import moderator_users
from bot.services.question_states import move, note, submit
from bot.services.routing_examples import RoutingExamples, erase_examples, label_among
from bot.workdays import WorkingCalendar
from models import (
    CivilServant,
    EventKind,
    ExampleSource,
    Question,
    QuestionEvent,
    QuestionStatus,
    Role,
    ScheduledWork,
    User,
    WorkKind,
    WorkState,
)
from models.base import utcnow

log = logging.getLogger(__name__)

QUESTION_MAX = 2000
DETAIL_MAX = 300
MESSAGE_MAX = 3000
FEEDBACK_MAX = 1000
# A question without a topic ("iets anders", then "weet ik niet") is due in this many days.
DEFAULT_DEADLINE_DAYS = 10
# Events whose text the resident wrote: blanked when they erase their data.
RESIDENT_TEXT_EVENTS = (EventKind.CREATED, EventKind.RESIDENT_REPLIED, EventKind.FEEDBACK)
# Scheduled work refers to the words in a message (value name → question event id) and the
# dispatcher reads them when it sends: erasure and retention then only blank the events.
WORDS = "event_texts"
# Work that belongs to one assignment: replaced when the question moves on.
ASSIGNMENT_WORK = (WorkKind.DELIVER, WorkKind.REMINDER, WorkKind.ESCALATION)


@dataclass
class QuestionDraft:
    """What /vraag has collected so far; plain data for the conversation's storage."""

    text: str = ""
    topic_key: str | None = None
    confidence: float | None = None
    candidates: list[str] = field(default_factory=list)
    kern: str = ""
    details: dict[str, str] = field(default_factory=dict)
    # What was read from the text rather than asked ("kern", follow-up keys): the summary
    # marks these for the resident to confirm.
    prefilled: list[str] = field(default_factory=list)
    # As InitiativeDraft.key: "Versturen" twice with one draft sends one question.
    key: str | None = None
    # "asked" or "corrected" (an ExampleSource) when the resident gave the topic: routing
    # learns it when the question is sent.
    picked: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> QuestionDraft:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass(frozen=True)
class Outcome:
    """What a move did: `ok`, the reason when not, the question and the work to send now."""

    ok: bool
    reason: str = ""
    question: Question | None = None
    assignee: CivilServant | None = None
    send_now: list[int] = field(default_factory=list)


def _refused(reason: str) -> Outcome:
    return Outcome(False, reason)


@dataclass(frozen=True)
class MyQuestions:
    total: int
    latest: list[Question]


@dataclass
class Offboarded:
    name: str
    telegram_id: int
    rerouted: int = 0
    work_ids: list[int] = field(default_factory=list)


class QuestionService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: QuestionsConfig | None = None,
        calendar: WorkingCalendar | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        self._sessions = sessions
        self.config = config or QuestionsConfig()
        self.calendar = calendar or WorkingCalendar()
        self.taxonomy = taxonomy or load_taxonomy(self.config.topics_file)
        self.classifier = TopicClassifier(self.taxonomy)
        self.examples = RoutingExamples(sessions, self.classifier)
        self._moderator_ids = frozenset(self.config.moderators)

    # --- topics --------------------------------------------------------------------------

    async def classify(self, text: str, *, limit: int = 3) -> tuple[list[TopicScore], bool]:
        """The best topics and whether the first may be used without asking the resident; the
        text is embedded off the event loop when a sentence model is loaded."""
        vector = await embed_one(text) if self.classifier.encoder is not None else None
        scores = self.classifier.classify(text, limit=limit, vector=vector)
        return scores, is_confident(scores, self.classifier.threshold)

    async def _learn(
        self, topic_key: str | None, source: ExampleSource, question: Question
    ) -> None:
        """A person gave this question its topic: routing learns it. A side benefit, after the
        move is stored: a failure to learn is logged and never fails the move."""
        try:
            await self.examples.learn(
                topic_key, source, question_id=question.id, text=question.text
            )
        except Exception:
            log.exception("routing example for question %s not stored", question.id)

    def topic_name(self, key: str | None, language: str) -> str | None:
        topic = self.taxonomy.get(key) if key else None
        return topic.name(language) if topic else None

    def _deadline_days(self, key: str | None) -> int:
        topic = self.taxonomy.get(key) if key else None
        return topic.deadline_days if topic else DEFAULT_DEADLINE_DAYS

    def is_urgent(self, key: str | None) -> bool:
        topic = self.taxonomy.get(key) if key else None
        return bool(topic and topic.urgent)

    # --- reading -------------------------------------------------------------------------

    async def get(self, question_id: int) -> Question | None:
        async with self._sessions() as session:
            return await session.get(Question, question_id)

    async def of_resident(self, user_id: int, *, limit: int = 10) -> MyQuestions:
        async with self._sessions() as session:
            total = await session.scalar(
                select(func.count()).select_from(Question).where(Question.resident_id == user_id)
            )
            rows = await session.scalars(
                select(Question)
                .where(Question.resident_id == user_id)
                .order_by(Question.id.desc())
                .limit(limit)
            )
            return MyQuestions(total or 0, list(rows))

    async def awaiting_reply(self, user_id: int) -> list[Question]:
        """The resident's questions on which a civil servant asked them for more, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Question)
                .where(
                    Question.resident_id == user_id,
                    Question.status == QuestionStatus.INFO_REQUESTED,
                )
                .order_by(Question.id)
            )
            return list(rows)

    async def open_for(self, servant_id: int) -> list[Question]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Question)
                .where(
                    Question.assignee_id == servant_id,
                    Question.status != QuestionStatus.CLOSED,
                )
                .order_by(Question.deadline_at, Question.id)
            )
            return list(rows)

    async def triage_queue(self) -> list[Question]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Question)
                .where(Question.status == QuestionStatus.TRIAGE)
                .order_by(Question.id)
            )
            return list(rows)

    async def events(self, question_id: int) -> list[QuestionEvent]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(QuestionEvent)
                .where(QuestionEvent.question_id == question_id)
                .order_by(QuestionEvent.id)
            )
            return list(rows)

    # --- submitting ----------------------------------------------------------------------

    async def submit(
        self, resident: User, draft: QuestionDraft, now: datetime | None = None
    ) -> Outcome:
        """Store the question with its deadline, route it and schedule its delivery; a draft
        sent before (its key stored) gives that question back, reason "already_sent"."""
        earlier = await self._sent_from(draft.key)
        if earlier is None:
            try:
                return await self._submit(resident, draft, now)
            except IntegrityError:
                # Sent at the same moment by another instance: the unique key let one in.
                earlier = await self._sent_from(draft.key)
                if earlier is None:
                    raise
        return Outcome(True, reason="already_sent", question=earlier)

    async def _sent_from(self, key: str | None) -> Question | None:
        if key is None:
            return None
        async with self._sessions() as session:
            return await session.scalar(select(Question).where(Question.draft_key == key))

    async def _submit(self, resident: User, draft: QuestionDraft, now: datetime | None) -> Outcome:
        now = now or utcnow()
        if not draft.text:
            return _refused("incomplete")
        async with self._sessions.begin() as session:
            question = Question(
                resident_id=resident.id,
                text=draft.text,
                topic_key=draft.topic_key,
                confidence=draft.confidence,
                kern=draft.kern or resident.kern,
                details=dict(draft.details),
                created_at=now,
                draft_key=draft.key,
                deadline_at=self.calendar.add_working_days(
                    now, self._deadline_days(draft.topic_key)
                ),
            )
            await submit(session, question, resident.id, text=draft.text)
            servant = await self._route(session, question, now, exclude=set())
            send_now = await self._assign(session, question, servant, now, actor_id=None)
        if draft.picked:
            await self._learn(draft.topic_key, ExampleSource(draft.picked), question)
        return Outcome(True, question=question, assignee=servant, send_now=send_now)

    # --- routing -------------------------------------------------------------------------

    async def _route(
        self, session: AsyncSession, question: Question, now: datetime, exclude: set[int]
    ) -> CivilServant | None:
        """Rules from the config in order, then profiles (most specific topic first); an away,
        blocked or excluded civil servant hands over to their backup; else None (triage)."""
        servants = list(await session.scalars(select(CivilServant)))
        by_id = {s.id: s for s in servants}
        by_handle = {s.handle: s for s in servants if s.handle}
        by_telegram = {s.user.telegram_id: s for s in servants}
        today = self.calendar.local_date(now)

        def available(servant: CivilServant) -> bool:
            return servant.id not in exclude and servant.user.active and not servant.is_away(today)

        def pick(servant: CivilServant) -> CivilServant | None:
            if available(servant):
                return servant
            backup = by_id.get(servant.backup_id) if servant.backup_id else None
            return backup if backup is not None and available(backup) else None

        topic, kern = question.topic_key, question.kern
        for rule in self.config.rules:
            if not rule.matches(topic, kern):
                continue
            for ref in rule.servants:
                named = by_handle.get(ref) if isinstance(ref, str) else by_telegram.get(ref)
                chosen = pick(named) if named else None
                if chosen:
                    return chosen
        if topic is None:
            return None
        ranked = []
        for servant in servants:
            depth = max((len(t) for t in servant.topics if within(topic, t)), default=0)
            if depth and (not servant.kernen or kern in servant.kernen):
                ranked.append((-depth, servant.id, servant))
        for _, _, servant in sorted(ranked, key=lambda r: r[:2]):
            chosen = pick(servant)
            if chosen:
                return chosen
        return None

    def _slot(self, now: datetime) -> datetime:
        return self.calendar.next_slot(now, self.config.dispatch_times)

    async def _assign(
        self,
        session: AsyncSession,
        question: Question,
        servant: CivilServant | None,
        now: datetime,
        *,
        actor_id: int | None,
        at_once: bool = False,
        kind: EventKind = EventKind.ASSIGNED,
    ) -> list[int]:
        """Give the question to `servant` (None: the triage queue) and schedule what follows.
        Returns the ids of work rows due now."""
        await self._cancel(session, question.id, ASSIGNMENT_WORK)
        if servant is None:
            question.assignee_id = None
            move(session, question, QuestionStatus.TRIAGE, EventKind.TRIAGED, actor_id)
            rows = [
                self._work(
                    session,
                    WorkKind.NOTICE,
                    now,
                    question,
                    moderator,
                    {"key": "vraag.triage_notice", "buttons": "triage"},
                )
                for moderator in await moderator_users(session, self._moderator_ids)
            ]
            await session.flush()
            return [r.id for r in rows]
        question.assignee_id = servant.id
        move(session, question, QuestionStatus.SUBMITTED, kind, actor_id, servant_id=servant.id)
        urgent = self.is_urgent(question.topic_key)
        due = now if at_once or urgent else self._slot(now)
        deliver = self._work(
            session, WorkKind.DELIVER, due, question, servant.user, {"urgent": urgent}
        )
        if due > now:
            await self._digest_header(session, servant.user_id, due)
        self._deadline_work(session, question, servant.user, due, now)
        await session.flush()
        return [deliver.id] if due <= now else []

    def _deadline_work(
        self,
        session: AsyncSession,
        question: Question,
        recipient: User,
        delivered_by: datetime,
        now: datetime,
    ) -> None:
        """A reminder one working day (configurable) before the deadline, at the first dispatch
        time, if that comes after the delivery; the escalation at the first dispatch time
        after the deadline. Working days throughout."""
        if question.deadline_at is None:
            return
        day = self.calendar.local_date(question.deadline_at)
        for _ in range(self.config.reminder_days_before):
            day = self.calendar.previous_working_day(day)
        first: time = self.config.dispatch_times[0]
        remind_at = datetime.combine(day, first, tzinfo=self.calendar.tz).astimezone(UTC)
        if remind_at > delivered_by and remind_at > now:
            self._work(session, WorkKind.REMINDER, remind_at, question, recipient, {})
        escalate_at = self._slot(max(question.deadline_at, now))
        self._work(session, WorkKind.ESCALATION, escalate_at, question, None, {})

    async def _digest_header(self, session: AsyncSession, user_id: int, due: datetime) -> None:
        """One digest header per civil servant and dispatch time (a unique key)."""
        key = f"digest:{user_id}:{due.astimezone(UTC).isoformat()}"
        if await session.scalar(select(ScheduledWork.id).where(ScheduledWork.key == key)):
            return
        session.add(
            ScheduledWork(
                kind=WorkKind.DIGEST, due_at=due, recipient_id=user_id, key=key, payload={}
            )
        )

    @staticmethod
    def _work(
        session: AsyncSession,
        kind: WorkKind,
        due: datetime,
        question: Question | None,
        recipient: User | None,
        payload: dict[str, Any],
    ) -> ScheduledWork:
        row = ScheduledWork(
            kind=kind,
            due_at=due,
            question_id=question.id if question else None,
            recipient_id=recipient.id if recipient else None,
            payload=payload,
            state=WorkState.PENDING,
            attempts=0,
        )
        session.add(row)
        return row

    @staticmethod
    async def _cancel(session: AsyncSession, question_id: int, kinds: tuple[WorkKind, ...]) -> None:
        await session.execute(
            update(ScheduledWork)
            .where(
                ScheduledWork.question_id == question_id,
                ScheduledWork.kind.in_(kinds),
                ScheduledWork.state == WorkState.PENDING,
            )
            .values(state=WorkState.CANCELLED)
            .execution_options(synchronize_session=False)
        )

    # --- who may act ---------------------------------------------------------------------

    async def _handler_of(
        self, session: AsyncSession, actor: User, question: Question
    ) -> CivilServant | bool | None:
        """The actor's profile if they may act on `question` (its assignee, or the assignee's
        backup); True for a moderator without a profile; False when they may not."""
        servant = await session.scalar(select(CivilServant).where(CivilServant.user_id == actor.id))
        moderator = actor.role is Role.MODERATOR or actor.telegram_id in self._moderator_ids
        if servant is not None and question.assignee_id is not None:
            if question.assignee_id == servant.id:
                return servant
            assignee = await session.get(CivilServant, question.assignee_id)
            if assignee is not None and assignee.backup_id == servant.id:
                return servant
        if moderator:
            return servant if servant is not None else True
        return False

    async def _for_civil_servant(
        self, session: AsyncSession, question_id: int, actor: User
    ) -> tuple[Question, CivilServant | None] | str:
        question = await session.get(Question, question_id, with_for_update=True)
        if question is None:
            return "unknown"
        handler = await self._handler_of(session, actor, question)
        if handler is False:
            return "not_yours"
        if not question.status.is_open:
            return "closed"
        if question.resident_id is None:
            return "gone"
        return question, handler if isinstance(handler, CivilServant) else None

    async def may_handle(self, actor: User, question_id: int) -> bool:
        async with self._sessions() as session:
            question = await session.get(Question, question_id)
            if question is None:
                return False
            return await self._handler_of(session, actor, question) is not False

    # --- the civil servant's moves -------------------------------------------------------

    async def answer(
        self,
        question_id: int,
        actor: User,
        text: str,
        now: datetime | None = None,
        *,
        once: str | None = None,
    ) -> Outcome:
        """The answer goes to the resident with the civil servant's name and department. With
        `once` (the draft's key), a second call with the same key sends nothing and gives
        reason "already_sent"."""
        return await self._to_resident_from_servant(
            question_id,
            actor,
            text,
            now,
            once=once,
            status=QuestionStatus.ANSWERED,
            event=EventKind.ANSWERED,
            key="vraag.answer_to_resident",
            value="answer",
            buttons="answered",
        )

    async def request_info(
        self,
        question_id: int,
        actor: User,
        text: str,
        now: datetime | None = None,
        *,
        once: str | None = None,
    ) -> Outcome:
        """Ask the resident for more; the clock stops until they reply. `once` as for
        `answer`."""
        return await self._to_resident_from_servant(
            question_id,
            actor,
            text,
            now,
            once=once,
            status=QuestionStatus.INFO_REQUESTED,
            event=EventKind.INFO_REQUESTED,
            key="vraag.info_to_resident",
            value="request",
            buttons="reply",
        )

    async def _to_resident_from_servant(
        self,
        question_id: int,
        actor: User,
        text: str,
        now: datetime | None,
        *,
        once: str | None,
        status: QuestionStatus,
        event: EventKind,
        key: str,
        value: str,
        buttons: str,
    ) -> Outcome:
        """A civil servant's words to the resident: new status, history row, the deadline's
        reminder and escalation called off, and the message owed to the resident. The
        message's row carries `once` as its unique key: the same words never go twice."""
        work_key = f"words:{once}" if once else None
        if await self._work_keyed(work_key):
            return Outcome(True, reason="already_sent", question=await self.get(question_id))
        try:
            return await self._servant_words(
                question_id, actor, text, now, work_key, status, event, key, value, buttons
            )
        except IntegrityError:
            # Sent at the same moment by another press or instance: the key let one in.
            if not await self._work_keyed(work_key):
                raise
        return Outcome(True, reason="already_sent", question=await self.get(question_id))

    async def _work_keyed(self, work_key: str | None) -> bool:
        if work_key is None:
            return False
        async with self._sessions() as session:
            found = await session.scalar(
                select(ScheduledWork.id).where(ScheduledWork.key == work_key)
            )
        return found is not None

    async def _servant_words(
        self,
        question_id: int,
        actor: User,
        text: str,
        now: datetime | None,
        work_key: str | None,
        status: QuestionStatus,
        event: EventKind,
        key: str,
        value: str,
        buttons: str,
    ) -> Outcome:
        now = now or utcnow()
        async with self._sessions.begin() as session:
            found = await self._for_civil_servant(session, question_id, actor)
            if isinstance(found, str):
                return _refused(found)
            question, servant = found
            said = move(
                session,
                question,
                status,
                event,
                actor.id,
                servant_id=servant.id if servant else None,
                text=text,
            )
            await self._cancel(session, question.id, (WorkKind.REMINDER, WorkKind.ESCALATION))
            await session.flush()
            row = await self._to_resident(
                session,
                question,
                now,
                key,
                self._signature(servant, actor),
                buttons=buttons,
                words={value: said.id},
            )
            if work_key is not None:
                row.key = work_key
                await session.flush()
            return Outcome(True, question=question, send_now=[row.id])

    async def forward(
        self,
        question_id: int,
        actor: User,
        *,
        servant_id: int | None = None,
        topic_key: str | None = None,
        now: datetime | None = None,
    ) -> Outcome:
        """To a colleague (an away one hands over to their backup) or to a topic (routed
        again, never back to the one forwarding); the resident hears who has it now."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            found = await self._for_civil_servant(session, question_id, actor)
            if isinstance(found, str):
                return _refused(found)
            question, _ = found
            exclude = {question.assignee_id} if question.assignee_id else set()
            if servant_id is not None:
                target = await session.get(CivilServant, servant_id)
                if target is None or target.id in exclude:
                    return _refused("unknown")
                today = self.calendar.local_date(now)
                if target.is_away(today) or not target.user.active:
                    backup = await session.get(CivilServant, target.backup_id or 0)
                    if backup is not None and backup.user.active and not backup.is_away(today):
                        target = backup
            elif topic_key is not None and topic_key in self.taxonomy:
                question.topic_key = topic_key
                target = await self._route(session, question, now, exclude)
            else:
                return _refused("unknown")
            send_now = await self._assign(
                session,
                question,
                target,
                now,
                actor_id=actor.id,
                at_once=True,
                kind=EventKind.FORWARDED,
            )
            if target is not None:
                row = await self._to_resident(
                    session, question, now, "vraag.forwarded_to_resident", target.summary()
                )
                send_now.append(row.id)
        if topic_key is not None:
            await self._learn(topic_key, ExampleSource.FORWARDED, question)
        return Outcome(True, question=question, assignee=target, send_now=send_now)

    async def close(self, question_id: int, actor: User, now: datetime | None = None) -> Outcome:
        """Close; the resident is asked for feedback and may reopen within the configured days."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            found = await self._for_civil_servant(session, question_id, actor)
            if isinstance(found, str):
                return _refused(found)
            question, servant = found
            question.closed_at = now
            move(
                session,
                question,
                QuestionStatus.CLOSED,
                EventKind.CLOSED,
                actor.id,
                servant_id=servant.id if servant else None,
            )
            await self._cancel(session, question.id, ASSIGNMENT_WORK)
            row = await self._to_resident(
                session,
                question,
                now,
                "vraag.closed_to_resident",
                {"days": self.config.reopen_days},
                buttons="feedback",
            )
            return Outcome(True, question=question, send_now=[row.id])

    async def assign_by_moderator(
        self, question_id: int, actor: User, servant_id: int, now: datetime | None = None
    ) -> Outcome:
        """A moderator gives a question (from the triage queue, or escalated) to a civil
        servant, who gets it at once."""
        now = now or utcnow()
        if not (actor.role is Role.MODERATOR or actor.telegram_id in self._moderator_ids):
            return _refused("not_yours")
        async with self._sessions.begin() as session:
            question = await session.get(Question, question_id, with_for_update=True)
            target = await session.get(CivilServant, servant_id)
            if question is None or target is None:
                return _refused("unknown")
            # From the triage queue, or after an escalation: a moderator may (re)assign.
            if not question.status.is_open:
                return _refused("closed")
            if question.assignee_id == target.id:
                return _refused("taken")
            if question.resident_id is None:
                return _refused("gone")
            from_triage = question.status is QuestionStatus.TRIAGE
            send_now = await self._assign(
                session, question, target, now, actor_id=actor.id, at_once=True
            )
            row = await self._to_resident(
                session, question, now, "vraag.forwarded_to_resident", target.summary()
            )
        if from_triage:
            await self._learn(
                await self._triage_label(question, target), ExampleSource.TRIAGE, question
            )
        return Outcome(True, question=question, assignee=target, send_now=[*send_now, row.id])

    async def _triage_label(self, question: Question, servant: CivilServant) -> str | None:
        """A moderator assigns a person, not a topic: the question's topic when that person
        handles it (the moderator confirmed it), else that person's topic the classifier ranks
        highest for the question; None for someone without topics."""
        topic = question.topic_key
        if topic and any(within(topic, t) for t in servant.topics):
            return topic
        if not servant.topics:
            return None
        scores, _ = await self.classify(question.text, limit=len(self.taxonomy.subtopics))
        return label_among(scores, servant.topics)

    # --- the resident's moves ------------------------------------------------------------

    async def _own(
        self, session: AsyncSession, question_id: int, resident: User
    ) -> Question | None:
        question = await session.get(Question, question_id, with_for_update=True)
        if question is None or question.resident_id != resident.id:
            return None
        return question

    async def resident_reply(
        self, question_id: int, resident: User, text: str, now: datetime | None = None
    ) -> Outcome:
        """The resident's answer to a request for more information goes back to the assignee;
        the clock runs again."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            question = await self._own(session, question_id, resident)
            if question is None:
                return _refused("not_yours")
            if question.status is not QuestionStatus.INFO_REQUESTED:
                return _refused("not_waiting")
            reply = move(
                session,
                question,
                QuestionStatus.DELIVERED,
                EventKind.RESIDENT_REPLIED,
                resident.id,
                text=text,
            )
            send_now: list[int] = []
            assignee = await session.get(CivilServant, question.assignee_id or 0)
            if assignee is not None:
                await session.flush()
                row = self._work(
                    session,
                    WorkKind.NOTICE,
                    now,
                    question,
                    assignee.user,
                    {
                        "key": "vraag.reply_to_servant",
                        WORDS: {"reply": reply.id},
                        "buttons": "card",
                    },
                )
                self._deadline_work(session, question, assignee.user, now, now)
                await session.flush()
                send_now.append(row.id)
            return Outcome(True, question=question, assignee=assignee, send_now=send_now)

    async def feedback(
        self,
        question_id: int,
        resident: User,
        *,
        score: int | None = None,
        text: str | None = None,
    ) -> Outcome:
        async with self._sessions.begin() as session:
            question = await self._own(session, question_id, resident)
            if question is None or question.status is not QuestionStatus.CLOSED:
                return _refused("not_yours")
            if score is not None:
                if not 1 <= score <= 5:
                    return _refused("unknown")
                question.feedback_score = score
            if text:
                question.feedback_text = text
            note(
                session,
                question,
                EventKind.FEEDBACK,
                resident.id,
                text=text if text else f"score {score}",
            )
            return Outcome(True, question=question)

    async def reopen(
        self, question_id: int, resident: User, now: datetime | None = None
    ) -> Outcome:
        """Not helped: the question is open again, with a new deadline, for the same civil
        servant when they are available (else routed again)."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            question = await self._own(session, question_id, resident)
            if question is None or question.status is not QuestionStatus.CLOSED:
                return _refused("not_yours")
            if question.closed_at is None or now - question.closed_at > timedelta(
                days=self.config.reopen_days
            ):
                return _refused("too_late")
            question.closed_at = None
            question.deadline_at = self.calendar.add_working_days(
                now, self._deadline_days(question.topic_key)
            )
            previous = await session.get(CivilServant, question.assignee_id or 0)
            today = self.calendar.local_date(now)
            if previous is not None and previous.user.active and not previous.is_away(today):
                target: CivilServant | None = previous
            else:
                target = await self._route(session, question, now, exclude=set())
            send_now = await self._assign(
                session, question, target, now, actor_id=resident.id, kind=EventKind.REOPENED
            )
            return Outcome(True, question=question, assignee=target, send_now=send_now)

    # --- helpers -------------------------------------------------------------------------

    async def signature(self, question_id: int, actor: User) -> dict[str, str] | None:
        """The name and department the resident would see under `actor`'s words (for a
        preview); None when `actor` may not act on the question."""
        async with self._sessions() as session:
            question = await session.get(Question, question_id)
            if question is None:
                return None
            handler = await self._handler_of(session, actor, question)
            if handler is False:
                return None
            return self._signature(handler if isinstance(handler, CivilServant) else None, actor)

    @staticmethod
    def _signature(servant: CivilServant | None, actor: User) -> dict[str, str]:
        if servant is not None:
            return servant.summary()
        return {"name": actor.display_name or "", "department": "moderatie"}

    async def _to_resident(
        self,
        session: AsyncSession,
        question: Question,
        now: datetime,
        key: str,
        values: dict[str, Any],
        *,
        buttons: str | None = None,
        words: dict[str, int] | None = None,
    ) -> ScheduledWork:
        resident = await session.get(User, question.resident_id or 0)
        payload: dict[str, Any] = {"key": key, "values": values, "buttons": buttons}
        if words:
            payload[WORDS] = words
        row = self._work(session, WorkKind.NOTICE, now, question, resident, payload)
        await session.flush()
        return row

    # --- the dispatcher's questions ------------------------------------------------------

    async def reroute_blocked(
        self,
        session: AsyncSession,
        question: Question,
        blocked: User,
        now: datetime,
        reason: EventKind = EventKind.BLOCKED,
    ) -> list[int]:
        """The assignee blocked the bot (or left): to their backup, else routed anew, else to
        the triage queue."""
        servant = await session.scalar(
            select(CivilServant).where(CivilServant.user_id == blocked.id)
        )
        exclude = {servant.id} if servant else set()
        target = None
        if servant is not None and servant.backup_id:
            backup = await session.get(CivilServant, servant.backup_id)
            today = self.calendar.local_date(now)
            if backup is not None and backup.user.active and not backup.is_away(today):
                target = backup
        if target is None:
            target = await self._route(session, question, now, exclude)
        note(session, question, reason, None, servant_id=servant.id if servant else None)
        return await self._assign(session, question, target, now, actor_id=None, at_once=True)

    async def offboard(self, servant_id: int, now: datetime | None = None) -> Offboarded | None:
        """A civil servant leaves: their open questions go to their backup or are routed anew,
        colleagues lose them as backup, and the profile keeps nothing personal (their user row
        is erased by the caller with `UserService.erase`). None if there is no such profile."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            servant = await session.get(CivilServant, servant_id)
            if servant is None:
                return None
            left = Offboarded(name=servant.name, telegram_id=servant.user.telegram_id)
            # Out of routing before re-routing, so nothing is routed back to them.
            servant.topics, servant.kernen, servant.handle = [], [], None
            servant.user.role = Role.RESIDENT
            await session.flush()
            open_questions = await session.scalars(
                select(Question).where(
                    Question.assignee_id == servant.id, Question.status != QuestionStatus.CLOSED
                )
            )
            for question in list(open_questions):
                left.work_ids.extend(
                    await self.reroute_blocked(
                        session, question, servant.user, now, reason=EventKind.SERVANT_LEFT
                    )
                )
                left.rerouted += 1
            await session.execute(
                update(CivilServant)
                .where(CivilServant.backup_id == servant.id)
                .values(backup_id=None)
                .execution_options(synchronize_session=False)
            )
            servant.name, servant.department, servant.introduction = "—", "", ""
            servant.backup_id = None
        return left

    async def escalate(
        self, session: AsyncSession, question: Question, now: datetime
    ) -> list[ScheduledWork]:
        """The deadline passed: the assignee's backup gets the question with its buttons, the
        moderators a notice. Returns the new work rows (all due now)."""
        note(session, question, EventKind.ESCALATED, None)
        rows = []
        assignee = await session.get(CivilServant, question.assignee_id or 0)
        if assignee is not None and assignee.backup_id:
            backup = await session.get(CivilServant, assignee.backup_id)
            if backup is not None and backup.user.active:
                rows.append(
                    self._work(
                        session,
                        WorkKind.NOTICE,
                        now,
                        question,
                        backup.user,
                        {
                            "key": "vraag.escalated_to_backup",
                            "values": {"colleague": assignee.name},
                            "buttons": "card",
                        },
                    )
                )
        for moderator in await moderator_users(session, self._moderator_ids):
            rows.append(
                self._work(
                    session,
                    WorkKind.NOTICE,
                    now,
                    question,
                    moderator,
                    {
                        "key": "vraag.escalated_to_moderator",
                        "values": {"colleague": assignee.name if assignee else "—"},
                        "buttons": "triage",
                    },
                )
            )
        await session.flush()
        return rows


async def anonymise_questions(session: AsyncSession, user: User, now: datetime) -> None:
    """A resident erased their data: their questions stay for statistics without their words;
    open ones are closed, and the civil servant holding one is told (a notice row)."""
    questions = list(await session.scalars(select(Question).where(Question.resident_id == user.id)))
    for question in questions:
        await session.execute(
            update(ScheduledWork)
            .where(
                ScheduledWork.question_id == question.id,
                ScheduledWork.state == WorkState.PENDING,
            )
            .values(state=WorkState.CANCELLED)
            .execution_options(synchronize_session=False)
        )
        if question.status.is_open:
            question.closed_at = now
            assignee = await session.get(CivilServant, question.assignee_id or 0)
            if assignee is not None:
                QuestionService._work(
                    session,
                    WorkKind.NOTICE,
                    now,
                    question,
                    assignee.user,
                    {"key": "vraag.erased_to_servant"},
                )
        await _strip_resident_words(session, question)
    await erase_examples(session, [q.id for q in questions])
    await session.flush()


async def _strip_resident_words(session: AsyncSession, question: Question) -> None:
    """The one edit of history: the resident's own words and identity leave the question,
    which stays for statistics (topic, kern, dates, the civil servant's handling). An open one
    is closed by it."""
    if question.status.is_open:
        move(session, question, QuestionStatus.CLOSED, EventKind.ERASED, None)
    else:
        note(session, question, EventKind.ERASED, None)
    await session.execute(
        update(QuestionEvent)
        .where(
            QuestionEvent.question_id == question.id,
            QuestionEvent.kind.in_(RESIDENT_TEXT_EVENTS),
        )
        .values(text=None, actor_id=None)
        .execution_options(synchronize_session=False)
    )
    question.text = ""
    question.details = {}
    question.feedback_text = None
    question.resident_id = None
    question.draft_key = None


async def anonymise_closed_before(
    sessions: async_sessionmaker[AsyncSession], cutoff: datetime
) -> int:
    """Retention: questions closed before `cutoff` keep no trace of the resident who asked.
    Returns how many were anonymised now."""
    async with sessions.begin() as session:
        expired = list(
            await session.scalars(
                select(Question).where(
                    Question.status == QuestionStatus.CLOSED,
                    Question.closed_at < cutoff,
                    Question.resident_id.is_not(None),
                )
            )
        )
        for question in expired:
            await _strip_resident_words(session, question)
    return len(expired)
