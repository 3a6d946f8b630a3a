"""Initiatives of residents: the draft a conversation fills in, saving it, listing them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple
from uuid import uuid4

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.matching import MatchIndex, normalize
from bot.routing.keys import main_topic
from bot.services.audit import record_action
from bot.services.initiative_topics import InitiativeTopics, TopicGuess, initiative_text
from bot.services.meta import read_fingerprint, write_fingerprint
from bot.services.vectors import embed_initiative, store_vector
from models import (
    Initiative,
    InitiativeStatus,
    InitiativeStatusChange,
    ModerationAction,
    Need,
    ScheduledWork,
    Supporter,
    User,
    Visibility,
    WorkKind,
)
from models.base import utcnow


def matching_text(title: str) -> str:
    """What an initiative is matched on: its title, the resident's own summary of the 'what'.

    Descriptions are long and personal ("ik woon hier al 20 jaar…"); they dilute a token overlap
    score far more than they add, so they are left out.
    """
    return title


# Where the backfill remembers which classifier it last ran with (bot_state, like the normaliser).
TOPICS_KEY = "initiative_topics"

# When the initiator is asked how their initiative is going.
CHECK_IN_AFTER = timedelta(weeks=6)

# Limits a resident can meet; the bot tells them the limit rather than cutting text off.
TITLE_MAX = 120
DESCRIPTION_MAX = 2000
MOTIVATION_MAX = 1000
PLACE_MAX = 200


@dataclass
class InitiativeDraft:
    """What `/idee` has collected so far; kept as plain data in the conversation's storage."""

    title: str = ""
    description: str = ""
    motivation: str = ""
    kern: str = ""
    place: str | None = None
    needs: list[str] = field(default_factory=list)
    allow_introductions: bool | None = None
    # The main topic the resident picked when the classifier was unsure (None: "don't know");
    # without a pick the topic is classified when the draft is saved, from its final texts.
    topic: str | None = None
    topic_chosen: bool = False
    # Made when the draft starts (new_draft_key()) and stored with the initiative: saving the
    # same draft twice gives the first initiative back. None: no such guard (tests, imports).
    key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> InitiativeDraft:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def toggle_need(self, need: Need) -> None:
        if need.value in self.needs:
            self.needs.remove(need.value)
        else:
            # Keep the order of the Need enum so summaries read the same every time.
            order = [n.value for n in Need]
            self.needs = sorted([*self.needs, need.value], key=order.index)

    @property
    def complete(self) -> bool:
        return (
            bool(self.title and self.description and self.motivation and self.kern)
            and self.allow_introductions is not None
        )


class IncompleteDraft(ValueError):
    pass


def new_draft_key() -> str:
    """A draft's key (see InitiativeDraft.key; /vraag's drafts have one too)."""
    return uuid4().hex


class Saved(NamedTuple):
    initiative: Initiative
    new: bool  # False: this draft had been saved before; nothing was added now


@dataclass(frozen=True)
class MyInitiatives:
    total: int
    latest: list[Initiative]
    joined: list[Initiative] = field(default_factory=list)


# Which status may follow which; a change is a new history row, never an edit.
ALLOWED_STATUS_CHANGES: dict[InitiativeStatus, frozenset[InitiativeStatus]] = {
    InitiativeStatus.IDEA: frozenset({InitiativeStatus.IN_TALKS, InitiativeStatus.STOPPED}),
    InitiativeStatus.IN_TALKS: frozenset(
        {InitiativeStatus.EXPERIMENT, InitiativeStatus.REALISED, InitiativeStatus.STOPPED}
    ),
    InitiativeStatus.EXPERIMENT: frozenset({InitiativeStatus.REALISED, InitiativeStatus.STOPPED}),
    InitiativeStatus.REALISED: frozenset(),
    # A stopped initiative can be picked up again.
    InitiativeStatus.STOPPED: frozenset({InitiativeStatus.IDEA}),
}


@dataclass(frozen=True)
class StatusChanged:
    initiative: Initiative
    old: InitiativeStatus
    supporters: list[User]


class InitiativeService:
    """Stores initiatives and keeps the match index in step with every change."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        index: MatchIndex,
        *,
        topics: InitiativeTopics | None = None,
        pre_moderation: bool = False,
    ) -> None:
        self._sessions = sessions
        self._index = index
        # None: initiatives are stored without a topic (a service built without a taxonomy).
        self._topics = topics
        # Pre-moderation: a new initiative waits for a moderator before others can find it.
        self._pre_moderation = pre_moderation

    async def create(self, author_id: int, draft: InitiativeDraft) -> Saved:
        """Save the draft; a draft saved before (its key stored) gives that initiative back."""
        if not draft.complete:
            raise IncompleteDraft("the draft misses a required answer")
        earlier = await self._saved_from(draft.key)
        if earlier is not None:
            return Saved(earlier, new=False)
        try:
            return Saved(await self._insert(author_id, draft), new=True)
        except IntegrityError:
            # Saved at the same moment by another instance (a double tap, SQLite): the unique
            # key let one of the two in.
            earlier = await self._saved_from(draft.key)
            if earlier is None:
                raise
            return Saved(earlier, new=False)

    async def _saved_from(self, key: str | None) -> Initiative | None:
        if key is None:
            return None
        async with self._sessions() as session:
            return await session.scalar(select(Initiative).where(Initiative.draft_key == key))

    async def _insert(self, author_id: int, draft: InitiativeDraft) -> Initiative:
        vector = await embed_initiative(draft.title, draft.description)
        async with self._sessions.begin() as session:
            initiative = Initiative(
                author_id=author_id,
                title=draft.title,
                description=draft.description,
                motivation=draft.motivation,
                kern=draft.kern,
                topic=self._topic_of_draft(draft),
                place=draft.place,
                needs=list(draft.needs),
                allow_introductions=bool(draft.allow_introductions),
                status=InitiativeStatus.IDEA,
                normalized=normalize(matching_text(draft.title)),
                visibility=Visibility.PENDING if self._pre_moderation else Visibility.VISIBLE,
                draft_key=draft.key,
            )
            session.add(initiative)
            await session.flush()
            await store_vector(session, initiative.id, vector)
            session.add(
                InitiativeStatusChange(
                    initiative_id=initiative.id,
                    status=InitiativeStatus.IDEA,
                    changed_by_id=author_id,
                )
            )
            # Some weeks on, the bot asks the initiator how it is going (a durable row, sent by
            # the dispatch job like every other message owed later).
            session.add(
                ScheduledWork(
                    kind=WorkKind.NOTICE,
                    due_at=utcnow() + CHECK_IN_AFTER,
                    recipient_id=author_id,
                    # The title is read when it is sent: no words in scheduled work.
                    payload={
                        "key": "idee.check_in",
                        "buttons": "check_in",
                        "initiative_id": initiative.id,
                    },
                    key=f"check-in:{initiative.id}",
                )
            )
        self._index.set_vector(initiative.id, vector)
        if initiative.visibility is Visibility.VISIBLE:
            self._index.add(initiative.id, initiative.normalized, initiative.kern, is_open=True)
        return initiative

    def guess_topic(self, draft: InitiativeDraft) -> TopicGuess | None:
        """Whether the draft's topic is clear from its texts, and else what to offer; None
        when initiatives get no topics here."""
        if self._topics is None:
            return None
        return self._topics.guess(initiative_text(draft.title, draft.description, draft.motivation))

    def _topic_of_draft(self, draft: InitiativeDraft) -> str | None:
        # The resident picks among main topics: a pick is stored as is, as long as it is still a
        # main topic (a forged one, or a subtopic no button offers, is not).
        picked = draft.topic is None or (
            self._topics is not None and draft.topic in self._topics.main_keys
        )
        if draft.topic_chosen and picked:
            return draft.topic
        return self.topic_of(draft.title, draft.description, draft.motivation)

    def topic_of(self, title: str, description: str, motivation: str) -> str | None:
        """The topic an initiative with these texts gets (a subtopic key when the classifier is
        sure of it, else a main topic key); None when unsure."""
        if self._topics is None:
            return None
        return self._topics.classify(initiative_text(title, description, motivation))

    async def classify_unclassified(self) -> int:
        """Give a topic to the initiatives stored without a valid one (from before topics, or
        unsure), and a subtopic to those stored with a main topic the classifier is now sure of
        a subtopic of (from before subtopics), once per classifier: when the taxonomy,
        thresholds or normaliser changed since the last run, not at every start. Returns how
        many rows got a (more specific) topic."""
        if self._topics is None:
            return 0
        fingerprint = self._topics.fingerprint()
        async with self._sessions.begin() as session:
            if await read_fingerprint(session, TOPICS_KEY) == fingerprint:
                return 0
            subtopics = sorted(self._topics.keys - self._topics.main_keys)
            # A row whose topic is still a subtopic keeps it; only the rest are read.
            rows = await session.execute(
                select(
                    Initiative.id,
                    Initiative.topic,
                    Initiative.title,
                    Initiative.description,
                    Initiative.motivation,
                ).where(Initiative.topic.is_(None) | Initiative.topic.not_in(subtopics))
            )
            ids_by_topic: dict[str | None, list[int]] = defaultdict(list)
            for initiative_id, old, title, description, motivation in rows.all():
                topic = self.topic_of(title, description, motivation)
                if old in self._topics.main_keys and main_topic(topic) != old:
                    # A valid main topic (perhaps the resident's pick) is only made more
                    # specific, never changed or taken away.
                    continue
                if topic != old:
                    ids_by_topic[topic].append(initiative_id)
            for topic, ids in ids_by_topic.items():
                # In chunks: a database takes a limited number of parameters in one statement.
                for start in range(0, len(ids), 1000):
                    # updated_at stays: the topic is no change the match index needs to see.
                    await session.execute(
                        update(Initiative)
                        .where(Initiative.id.in_(ids[start : start + 1000]))
                        .values(topic=topic, updated_at=Initiative.updated_at)
                    )
            await write_fingerprint(session, TOPICS_KEY, fingerprint)
        return sum(len(ids) for topic, ids in ids_by_topic.items() if topic is not None)

    async def get(self, initiative_id: int) -> Initiative | None:
        async with self._sessions() as session:
            return await session.get(Initiative, initiative_id)

    async def change_status(
        self,
        initiative_id: int,
        new: InitiativeStatus,
        by_user_id: int,
        *,
        moderator: bool = False,
    ) -> StatusChanged | None:
        """Move an initiative on, by its initiator or a moderator; None if the actor may not,
        or the new status may not follow the current one."""
        async with self._sessions.begin() as session:
            initiative = await session.get(Initiative, initiative_id)
            if initiative is None or not (moderator or initiative.author_id == by_user_id):
                return None
            old = initiative.status
            if new not in ALLOWED_STATUS_CHANGES[old]:
                return None
            initiative.status = new
            session.add(
                InitiativeStatusChange(
                    initiative_id=initiative.id, status=new, changed_by_id=by_user_id
                )
            )
            if initiative.author_id != by_user_id:
                record_action(
                    session,
                    by_user_id,
                    ModerationAction.STATUS,
                    "initiative",
                    initiative.id,
                    old=old.value,
                    new=new.value,
                )
            supporters = list(
                await session.scalars(
                    select(User)
                    .join(Supporter, Supporter.user_id == User.id)
                    .where(Supporter.initiative_id == initiative_id)
                )
            )
        if initiative.visibility is Visibility.VISIBLE:
            self._index.update(initiative.id, initiative.normalized, initiative.kern, new.is_open)
        return StatusChanged(initiative, old, supporters)

    async def of_author(self, author_id: int, *, limit: int = 20) -> MyInitiatives:
        """The author's newest initiatives (at most `limit`), how many there are in all, and
        the ones they joined as a supporter."""
        async with self._sessions() as session:
            total = await session.scalar(
                select(func.count())
                .select_from(Initiative)
                .where(Initiative.author_id == author_id)
            )
            rows = await session.scalars(
                select(Initiative)
                .where(Initiative.author_id == author_id)
                .order_by(Initiative.created_at.desc(), Initiative.id.desc())
                .limit(limit)
            )
            joined = await session.scalars(
                select(Initiative)
                .join(Supporter, Supporter.initiative_id == Initiative.id)
                .where(Supporter.user_id == author_id)
                .order_by(Initiative.id.desc())
                .limit(limit)
            )
            return MyInitiatives(total=total or 0, latest=list(rows), joined=list(joined))
