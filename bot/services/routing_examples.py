"""Routing that learns from this municipality's own traffic. Free of Telegram.

Every time a person gives a question its topic — the resident picks one because the bot was
unsure, or corrects one it was sure of; a civil servant forwards the question to a topic; a
moderator assigns it from triage — that question becomes a labelled example: its sentence
vector and the topic. The classifier's nearest-neighbour votes (bot/routing/semantic.py) use
them from then on; one question is one example, and the latest label wins. Moderators see what
was learned and undo it (/geleerd, `burgerbeest routing examples|forget`), logged in the audit
log.

Words. An example stores no text: it refers to its question and keeps the vector. The words
stay in the question alone, so retention (anonymise_closed_before) takes them from there and the
example keeps only its vector and topic, which carry no readable words and no person, and go on
improving routing. An erasure (/vergeetmij) goes further and deletes the examples of the
person's questions, vector and all: a vector is derived from their words, published inversion
attacks recover much of a short text from one, and the person asked for everything to go.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.routing import TopicClassifier, TopicScore
from bot.routing.keys import within
from bot.semantic import embed_many, embed_one, fingerprint, pack, unpack
from bot.services.audit import record_action
from models import ExampleSource, ModerationAction, Question, RoutingExample
from models.base import utcnow

log = logging.getLogger(__name__)

# Leave-one-out agreement over at most this many recent examples: a moderator waits for it.
AGREEMENT_SAMPLE = 500


@dataclass(frozen=True)
class Learned:
    """One example as a moderator sees it."""

    id: int
    topic_key: str
    source: ExampleSource
    created_at: datetime
    question_id: int | None
    question_number: str | None
    # The question's words while it has them (a moderator judges the label by them); None
    # after erasure or retention, or for an imported example.
    text: str | None


@dataclass(frozen=True)
class Agreement:
    """How often the examples' own labels come first, each example left out in turn: by the
    taxonomy's prototypes alone, and with the other examples voting."""

    examples: int
    without: float
    with_examples: float


def label_among(scores: list[TopicScore], keys: Iterable[str]) -> str | None:
    """The topic a choice among `keys` stands for: the subtopic the classifier ranks highest
    among them (a main topic stands for its subtopics), else the first key; None for none. A
    moderator assigns a person, not a topic: this picks among the topics of that person."""
    keys = list(keys)
    for score in scores:
        if any(within(score.key, key) for key in keys):
            return score.key
    return keys[0] if keys else None


class RoutingExamples:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], classifier: TopicClassifier):
        self._sessions = sessions
        self._classifier = classifier

    async def prepare(self) -> None:
        """At start: the taxonomy's prototypes, off the event loop (from the cache after the
        first start), then the examples."""
        await asyncio.get_running_loop().run_in_executor(None, self._classifier.prepare)
        await self.load()

    async def load(self) -> int:
        """All examples of the model in use into the classifier (at start, and every minute
        like the match index, so another instance's or the CLI's changes arrive). Examples
        learned without this model get a vector from their question while it has its words."""
        encoder = self._classifier.encoder
        if encoder is None:
            self._classifier.examples.replace([])
            return 0
        model = fingerprint(encoder)
        async with self._sessions() as session:
            rows = list(await session.scalars(select(RoutingExample)))
            stale = [r for r in rows if r.model != model and r.question_id is not None]
            if stale:
                await self._embed_again(session, stale, model)
        self._classifier.examples.replace(
            (r.id, unpack(r.vector), r.topic_key)
            for r in rows
            if r.vector is not None and r.model == model
        )
        return len(self._classifier.examples)

    async def _embed_again(
        self, session: AsyncSession, stale: list[RoutingExample], model: str
    ) -> None:
        found = await session.execute(
            select(Question.id, Question.text).where(
                Question.id.in_([r.question_id for r in stale])
            )
        )
        texts = {question_id: text for question_id, text in found}
        # Only those whose question still has its words; the rest carry nothing to embed.
        wordy = [r for r in stale if texts.get(r.question_id or 0)]
        vectors = await embed_many([texts[r.question_id or 0] for r in wordy]) if wordy else None
        if vectors is None:
            return
        for row, vector in zip(wordy, vectors, strict=True):
            row.vector, row.model = pack(vector), model
        await session.commit()
        log.info("routing examples: %s given vectors of the current model", len(wordy))

    async def learn(
        self,
        topic_key: str | None,
        source: ExampleSource,
        *,
        question_id: int | None = None,
        text: str = "",
    ) -> int | None:
        """Store one example and use it from now on; the id, or None when there is nothing to
        learn (no topic, one the taxonomy lacks, no words)."""
        if not topic_key or topic_key not in self._classifier.taxonomy or not text.strip():
            return None
        vector = await embed_one(text)
        encoder = self._classifier.encoder
        async with self._sessions.begin() as session:
            replaced: list[int] = []
            if question_id is not None:
                replaced = list(
                    await session.scalars(
                        select(RoutingExample.id).where(RoutingExample.question_id == question_id)
                    )
                )
                await session.execute(delete(RoutingExample).where(RoutingExample.id.in_(replaced)))
            row = RoutingExample(
                topic_key=topic_key,
                source=source,
                question_id=question_id,
                vector=None if vector is None else pack(vector),
                model="" if vector is None or encoder is None else fingerprint(encoder),
                created_at=utcnow(),
            )
            session.add(row)
            await session.flush()
            example_id = row.id
        for old in replaced:
            self._classifier.examples.remove(old)
        if vector is not None:
            # As stored (float16), so this process votes as a restarted one would.
            self._classifier.examples.add(example_id, unpack(pack(vector)), topic_key)
        return example_id

    async def forget(self, example_id: int, moderator_id: int | None) -> Learned | None:
        """Undo one example (and log it); None when there is no such example."""
        async with self._sessions.begin() as session:
            row = await session.get(RoutingExample, example_id, with_for_update=True)
            if row is None:
                return None
            learned = (await self._described(session, [row]))[0]
            await session.delete(row)
            record_action(
                session,
                moderator_id,
                ModerationAction.FORGET_EXAMPLE,
                "example",
                example_id,
                topic=row.topic_key,
                source=row.source.value,
            )
        self._classifier.examples.remove(example_id)
        return learned

    async def recent(self, limit: int = 10) -> list[Learned]:
        async with self._sessions() as session:
            rows = list(
                await session.scalars(
                    select(RoutingExample)
                    .order_by(RoutingExample.created_at.desc(), RoutingExample.id.desc())
                    .limit(limit)
                )
            )
            return await self._described(session, rows)

    async def per_topic(self) -> Counter[str]:
        async with self._sessions() as session:
            return Counter(await session.scalars(select(RoutingExample.topic_key)))

    async def _described(self, session: AsyncSession, rows: list[RoutingExample]) -> list[Learned]:
        ids = [r.question_id for r in rows if r.question_id is not None]
        questions = {
            q.id: q for q in await session.scalars(select(Question).where(Question.id.in_(ids)))
        }
        result = []
        for row in rows:
            question = questions.get(row.question_id or 0)
            result.append(
                Learned(
                    id=row.id,
                    topic_key=row.topic_key,
                    source=row.source,
                    created_at=row.created_at,
                    question_id=row.question_id,
                    question_number=question.number if question else None,
                    text=(question.text or None) if question else None,
                )
            )
        return result

    def agreement(self) -> Agreement | None:
        """Leave-one-out over the recent examples in memory (vectors only, no words); None
        without a model or examples."""
        classifier = self._classifier
        if classifier.encoder is None:
            return None
        items = classifier.examples.items()[-AGREEMENT_SAMPLE:]
        if not items:
            return None
        hits_without = hits_with = 0
        for example_id, topic_key, vector in items:
            with_others = classifier.ranked(classifier.blended(vector, leave_out=example_id), 1)
            alone = classifier.ranked(classifier.blended(vector, examples=False), 1)
            hits_with += within(with_others[0].key, topic_key)
            hits_without += within(alone[0].key, topic_key)
        return Agreement(len(items), hits_without / len(items), hits_with / len(items))

    async def import_csv(self, path: Path) -> tuple[int, list[str]]:
        """Examples from a CSV with `text,topic` columns (e.g. a municipality's own labelled
        questions): how many were learned, and the rows left out with why."""
        learned, skipped = 0, []
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = {"text", "topic"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: needs the columns text and topic")
            for row in reader:
                topic = (row.get("topic") or "").strip()
                if topic not in self._classifier.taxonomy:
                    skipped.append(f"line {reader.line_num}: unknown topic {topic!r}")
                    continue
                if await self.learn(topic, ExampleSource.IMPORTED, text=row.get("text") or ""):
                    learned += 1
                else:
                    skipped.append(f"line {reader.line_num}: no text")
        return learned, skipped


async def erase_examples(session: AsyncSession, question_ids: list[int]) -> None:
    """Erasure: the examples of these questions go, vectors and all (see the module docstring).
    The running classifier drops them at its next load (within a minute)."""
    if question_ids:
        await session.execute(
            delete(RoutingExample).where(RoutingExample.question_id.in_(question_ids))
        )
