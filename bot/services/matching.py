"""Residents finding each other: similar initiatives, joining one, introductions, late matches.

The `MatchIndex` lives in memory and is kept in step with the database by `InitiativeService`
(every insert and status change) and rebuilt from the stored `normalized` column and
`initiative_vectors` at start. Queries are embedded here, off the event loop (~20 ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.matching import Match, MatchIndex, normalize
from bot.matching.normalize import normalizer_fingerprint
from bot.matching.score import SEARCH_MIN_SCORE
from bot.semantic import get_encoder, unpack
from bot.services.initiatives import matching_text
from bot.services.meta import read_fingerprint, write_fingerprint
from bot.services.vectors import embed_initiative, embed_text
from models import (
    Initiative,
    InitiativeStatus,
    InitiativeVector,
    Introduction,
    IntroductionStatus,
    MatchNotice,
    Supporter,
    User,
    Visibility,
)
from models.base import utcnow
from models.database import insert_for

NORMALIZER_KEY = "normalizer"
SHOWN_IN_INTAKE = 3
SEARCH_PAGE = 5
SEARCH_LIMIT = 50
# "At most one message a day per person" for late matches.
NOTICE_INTERVAL = timedelta(days=1)
NOTICES_PER_MESSAGE = 5
# A joiner who neither writes a note nor skips it within this time: their initiator is told of
# the join without one (handlers/residents/introductions.py, send_join_notices).
JOIN_NOTE_WAIT = timedelta(minutes=30)


@dataclass(frozen=True)
class SimilarInitiative:
    id: int
    title: str
    kern: str
    status: InitiativeStatus
    people: int  # the initiator and everyone who joined
    author_id: int
    allow_introductions: bool
    score: float


@dataclass(frozen=True)
class Outcome:
    """The result of a request that may legitimately be refused; `reason` says why."""

    ok: bool
    reason: str = ""
    introduction: Introduction | None = None


@dataclass(frozen=True)
class NoticeBatch:
    recipient: User
    notices: list[tuple[MatchNotice, SimilarInitiative]]


class MatchingService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], index: MatchIndex) -> None:
        self._sessions = sessions
        self.index = index
        self._seen_until: datetime | None = None

    async def renormalize_if_rules_changed(self) -> int:
        """Normalise every stored initiative again when the normaliser changed since they were
        stored (new rules, lexicon or synonyms); returns how many were redone."""
        fingerprint = normalizer_fingerprint()
        async with self._sessions.begin() as session:
            if await read_fingerprint(session, NORMALIZER_KEY) == fingerprint:
                return 0
            redone = 0
            for initiative in await session.scalars(select(Initiative)):
                initiative.normalized = normalize(matching_text(initiative.title))
                redone += 1
            await write_fingerprint(session, NORMALIZER_KEY, fingerprint)
        return redone

    async def load_index(self) -> int:
        """Bring the index up to date with the database: everything at start, then what
        changed since (an import or another instance wrote it). Returns the index size."""
        query = select(
            Initiative.id,
            Initiative.normalized,
            Initiative.kern,
            Initiative.status,
            Initiative.updated_at,
            Initiative.visibility,
            InitiativeVector.vector,
        ).outerjoin(InitiativeVector)
        # Without a model no query has a vector to compare them with.
        semantic = get_encoder() is not None
        if self._seen_until is not None:
            # Overlap a little: rows committed out of order by another process are not missed.
            query = query.where(Initiative.updated_at >= self._seen_until - timedelta(minutes=5))
        async with self._sessions() as session:
            rows = await session.execute(query)
            for doc_id, normalized, kern, status, updated_at, visibility, vector in rows:
                if semantic:
                    self.index.set_vector(doc_id, None if vector is None else unpack(vector))
                if visibility is not Visibility.VISIBLE:
                    # Pending, hidden or rejected by moderation: not to be found or matched.
                    if doc_id in self.index:
                        self.index.remove(doc_id)
                elif doc_id in self.index:
                    self.index.update(doc_id, normalized, kern, status.is_open)
                else:
                    self.index.add(doc_id, normalized, kern, status.is_open)
                if self._seen_until is None or updated_at > self._seen_until:
                    self._seen_until = updated_at
        return len(self.index)

    async def _describe(
        self, session: AsyncSession, matches: Sequence[Match]
    ) -> list[SimilarInitiative]:
        if not matches:
            return []
        ids = [m.doc_id for m in matches]
        supporters = (
            select(Supporter.initiative_id, func.count().label("n"))
            .where(Supporter.initiative_id.in_(ids))
            .group_by(Supporter.initiative_id)
        )
        counts = dict((await session.execute(supporters)).all())
        rows = {
            i.id: i
            for i in await session.scalars(
                # The index follows visibility too; this also covers another instance's changes.
                select(Initiative).where(
                    Initiative.id.in_(ids), Initiative.visibility == Visibility.VISIBLE
                )
            )
        }
        return [
            SimilarInitiative(
                id=m.doc_id,
                title=rows[m.doc_id].title,
                kern=rows[m.doc_id].kern,
                status=rows[m.doc_id].status,
                people=1 + counts.get(m.doc_id, 0),
                author_id=rows[m.doc_id].author_id,
                allow_introductions=rows[m.doc_id].allow_introductions,
                score=m.score,
            )
            for m in matches
            if m.doc_id in rows
        ]

    async def summary(self, initiative_id: int) -> SimilarInitiative | None:
        """Title, kern, status and head count of one initiative."""
        async with self._sessions() as session:
            found = await self._describe(session, [Match(initiative_id, 1.0)])
        return found[0] if found else None

    async def _own_ids(self, session: AsyncSession, user_id: int) -> set[int]:
        own = await session.scalars(select(Initiative.id).where(Initiative.author_id == user_id))
        joined = await session.scalars(
            select(Supporter.initiative_id).where(Supporter.user_id == user_id)
        )
        return set(own) | set(joined)

    async def similar_to_draft(
        self,
        user_id: int,
        title: str,
        kern: str,
        *,
        description: str = "",
        limit: int = SHOWN_IN_INTAKE,
    ) -> list[SimilarInitiative]:
        """Initiatives of others like the draft, best first; the resident's own are left out."""
        vector = await embed_initiative(title, description)
        async with self._sessions() as session:
            exclude = await self._own_ids(session, user_id)
            matches = self.index.query(
                matching_text(title), kern=kern, limit=limit, exclude=exclude, vector=vector
            )
            return await self._describe(session, matches)

    async def search(
        self, text: str, *, kern: str | None = None, limit: int = SEARCH_LIMIT
    ) -> list[SimilarInitiative]:
        """Public initiatives matching a search text, best first (all pages at once)."""
        vector = await embed_text(text)
        matches = self.index.query(
            text, kern=kern, limit=limit, min_score=SEARCH_MIN_SCORE, vector=vector
        )
        async with self._sessions() as session:
            found = await self._describe(session, matches)
        # The index only prefers the same kern; a search within a kern keeps only that kern.
        return [f for f in found if kern is None or f.kern == kern]

    async def join(self, user_id: int, initiative_id: int) -> Outcome:
        """Join someone else's initiative as a supporter. Refused (`reason`): gone, own, hidden
        (not visible to others: waiting for or stopped by a moderator), closed (realised or
        stopped), already (joined before). A note for the initiator is kept with the
        membership (MeetingService.set_note), which the meeting place shows them."""
        async with self._sessions.begin() as session:
            initiative = await session.get(Initiative, initiative_id)
            if initiative is None:
                return Outcome(False, "gone")
            if initiative.author_id == user_id:
                return Outcome(False, "own")
            if initiative.visibility is not Visibility.VISIBLE:
                return Outcome(False, "hidden")
            if not initiative.status.is_open:
                return Outcome(False, "closed")
            exists = await session.scalar(
                select(Supporter.id).where(
                    Supporter.initiative_id == initiative_id, Supporter.user_id == user_id
                )
            )
            if exists:
                return Outcome(False, "already")
            session.add(Supporter(initiative_id=initiative_id, user_id=user_id))
        return Outcome(True)

    async def claim_join_notice(
        self, user_id: int, initiative_id: int, now: datetime | None = None
    ) -> bool:
        """Claim telling the initiator that `user_id` joined `initiative_id`, before the send:
        True for the one caller (the note, its skip, or the job) that may send it; False when
        it was told already or the join is gone (they left)."""
        async with self._sessions.begin() as session:
            claimed = await session.execute(
                update(Supporter)
                .where(
                    Supporter.initiative_id == initiative_id,
                    Supporter.user_id == user_id,
                    Supporter.told_at.is_(None),
                )
                .values(told_at=now or utcnow())
                .execution_options(synchronize_session=False)
            )
        return claimed.rowcount == 1

    async def release_join_notice(self, user_id: int, initiative_id: int) -> None:
        """Give a claimed join notice back after a send that failed for a passing reason."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Supporter)
                .where(Supporter.initiative_id == initiative_id, Supporter.user_id == user_id)
                .values(told_at=None)
                .execution_options(synchronize_session=False)
            )

    async def unannounced_joins(self, now: datetime | None = None) -> list[tuple[int, int]]:
        """(user_id, initiative_id) of joins at least JOIN_NOTE_WAIT old whose initiator was
        not told: the joiner walked away from the note question. Oldest first."""
        cutoff = (now or utcnow()) - JOIN_NOTE_WAIT
        async with self._sessions() as session:
            rows = await session.execute(
                select(Supporter.user_id, Supporter.initiative_id)
                .where(Supporter.told_at.is_(None), Supporter.created_at <= cutoff)
                .order_by(Supporter.created_at, Supporter.id)
            )
            return [(user_id, initiative_id) for user_id, initiative_id in rows]

    async def newest(
        self, *, kern: str | None = None, limit: int = SEARCH_LIMIT
    ) -> list[SimilarInitiative]:
        """The newest public initiatives (in `kern`, if given), newest first: /zoek without
        words browses them."""
        async with self._sessions() as session:
            query = select(Initiative.id).where(Initiative.visibility == Visibility.VISIBLE)
            if kern is not None:
                query = query.where(Initiative.kern == kern)
            ids = await session.scalars(
                query.order_by(Initiative.created_at.desc(), Initiative.id.desc()).limit(limit)
            )
            return await self._describe(session, [Match(i, 1.0) for i in ids])

    async def joined_counts(self, initiative_ids: Sequence[int]) -> dict[int, int]:
        """How many joined each initiative (its initiator not counted); 0 when nobody did."""
        if not initiative_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                select(Supporter.initiative_id, func.count())
                .where(Supporter.initiative_id.in_(list(initiative_ids)))
                .group_by(Supporter.initiative_id)
            )
            counts = dict(rows.all())
        return {i: counts.get(i, 0) for i in initiative_ids}

    async def supporters(self, initiative_id: int) -> list[User]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(User)
                .join(Supporter, Supporter.user_id == User.id)
                .where(Supporter.initiative_id == initiative_id)
            )
            return list(rows)

    async def request_introduction(
        self, requester_id: int, initiative_id: int, own_initiative_id: int | None = None
    ) -> Outcome:
        """Ask the initiator of `initiative_id` to meet; one request per pair, ever."""
        async with self._sessions.begin() as session:
            initiative = await session.get(Initiative, initiative_id)
            if initiative is None:
                return Outcome(False, "gone")
            if initiative.author_id == requester_id:
                return Outcome(False, "own")
            if initiative.visibility is not Visibility.VISIBLE:
                return Outcome(False, "hidden")
            if not initiative.allow_introductions:
                return Outcome(False, "closed")
            pair = select(Introduction).where(
                (
                    (Introduction.requester_id == requester_id)
                    & (Introduction.initiator_id == initiative.author_id)
                )
                | (
                    (Introduction.requester_id == initiative.author_id)
                    & (Introduction.initiator_id == requester_id)
                )
            )
            if await session.scalar(pair) is not None:
                return Outcome(False, "already")
            introduction = Introduction(
                requester_id=requester_id,
                initiator_id=initiative.author_id,
                initiative_id=initiative_id,
                requester_initiative_id=own_initiative_id,
            )
            session.add(introduction)
            try:
                await session.flush()
            except IntegrityError:
                # A second press that raced the first: the pair already has its request.
                return Outcome(False, "already")
        return Outcome(True, introduction=introduction)

    async def get_introduction(self, introduction_id: int) -> Introduction | None:
        async with self._sessions() as session:
            return await session.get(Introduction, introduction_id)

    async def decide(self, introduction_id: int, initiator_id: int, accept: bool) -> Outcome:
        """The initiator's answer; only they may give it, and only once."""
        async with self._sessions.begin() as session:
            introduction = await session.get(Introduction, introduction_id)
            if introduction is None or introduction.initiator_id != initiator_id:
                return Outcome(False, "not_yours")
            if introduction.status is not IntroductionStatus.PENDING:
                return Outcome(False, "decided", introduction)
            introduction.status = (
                IntroductionStatus.ACCEPTED if accept else IntroductionStatus.DECLINED
            )
            introduction.decided_at = utcnow()
        return Outcome(True, introduction=introduction)

    async def relay_partner(self, introduction_id: int, sender_id: int) -> User | None:
        """The other side of a pending introduction, if `sender_id` is one of its two sides."""
        async with self._sessions() as session:
            introduction = await session.get(Introduction, introduction_id)
            if introduction is None or introduction.status is IntroductionStatus.DECLINED:
                return None
            sides = {introduction.requester_id, introduction.initiator_id}
            if sender_id not in sides:
                return None
            (other,) = sides - {sender_id}
            return await session.get(User, other)

    # --- late matches --------------------------------------------------------------------

    async def record_late_matches(self, initiative: Initiative) -> int:
        """Queue a notice for older initiatives like `initiative` whose initiators welcome
        introductions (and so does its own author); returns how many were queued."""
        if not initiative.allow_introductions or initiative.author_id is None:
            return 0
        if initiative.visibility is not Visibility.VISIBLE:
            return 0  # recorded when a moderator approves it
        async with self._sessions.begin() as session:
            exclude = await self._own_ids(session, initiative.author_id)
            exclude.add(initiative.id)
            # Who already knows of the new initiator: an introduction either way (asked,
            # made or declined), or they joined the new initiative (one restored by a
            # moderator may have members).
            known = await self._introduced(session, initiative.author_id)
            known |= set(
                await session.scalars(
                    select(Supporter.user_id).where(Supporter.initiative_id == initiative.id)
                )
            )
            matches = self.index.query_normalized(
                initiative.normalized,
                kern=initiative.kern,
                limit=10,
                exclude=exclude,
                vector=self.index.vector(initiative.id),
            )
            rows = [
                {
                    "recipient_id": found.author_id,
                    "own_initiative_id": found.id,
                    "new_initiative_id": initiative.id,
                    "score": found.score,
                }
                for found in await self._describe(session, matches)
                if found.allow_introductions
                and found.status.is_open
                and found.author_id not in known
                # only older initiatives hear of newer ones
                and found.id < initiative.id
            ]
            if not rows:
                return 0
            # A restored (or approved again) initiative made its notices before: those stay.
            queued = await session.execute(
                insert_for(session, MatchNotice)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["recipient_id", "new_initiative_id"])
            )
        return queued.rowcount

    async def due_notice_batches(self, now: datetime | None = None) -> list[NoticeBatch]:
        """Per recipient, the unsent notices, for those not messaged in the last day."""
        now = now or utcnow()
        async with self._sessions() as session:
            last_sent = dict(
                (
                    await session.execute(
                        select(MatchNotice.recipient_id, func.max(MatchNotice.sent_at))
                        .where(MatchNotice.sent_at.is_not(None))
                        .group_by(MatchNotice.recipient_id)
                    )
                ).all()
            )
            pending = list(
                await session.scalars(
                    select(MatchNotice)
                    .where(MatchNotice.sent_at.is_(None))
                    .order_by(MatchNotice.recipient_id, MatchNotice.score.desc())
                )
            )
            batches: list[NoticeBatch] = []
            moot: list[int] = []  # notices of pairs that met in the meantime: never sent
            by_recipient: dict[int, list[MatchNotice]] = {}
            for notice in pending:
                by_recipient.setdefault(notice.recipient_id, []).append(notice)
            for recipient_id, notices in by_recipient.items():
                sent = last_sent.get(recipient_id)
                if sent is not None and now - sent < NOTICE_INTERVAL:
                    continue
                recipient = await session.get(User, recipient_id)
                if recipient is None or not recipient.active:
                    continue
                described = await self._describe(
                    session, [Match(n.new_initiative_id, n.score) for n in notices]
                )
                by_id = {d.id: d for d in described}
                known = await self._introduced(session, recipient_id)
                joined = await self._own_ids(session, recipient_id)
                kept = []
                for n in notices:
                    found = by_id.get(n.new_initiative_id)
                    if found is None:
                        continue  # not visible (now): it may be later
                    if (
                        found.author_id in known
                        or found.id in joined
                        or await self._joined(session, found.author_id, n.own_initiative_id)
                    ):
                        moot.append(n.id)
                    else:
                        kept.append((n, found))
                if kept:
                    batches.append(NoticeBatch(recipient, kept))
        if moot:
            async with self._sessions.begin() as session:
                await session.execute(delete(MatchNotice).where(MatchNotice.id.in_(moot)))
        return batches

    @staticmethod
    async def _introduced(session: AsyncSession, user_id: int) -> set[int]:
        """Everyone `user_id` asked, or was asked by, for an introduction, in any state."""
        rows = await session.execute(
            select(Introduction.requester_id, Introduction.initiator_id).where(
                or_(Introduction.requester_id == user_id, Introduction.initiator_id == user_id)
            )
        )
        return {person for pair in rows for person in pair} - {user_id}

    @staticmethod
    async def _joined(session: AsyncSession, user_id: int, initiative_id: int) -> bool:
        found = await session.scalar(
            select(Supporter.id).where(
                Supporter.user_id == user_id, Supporter.initiative_id == initiative_id
            )
        )
        return found is not None

    async def was_notified(self, user_id: int, new_id: int, own_id: int) -> bool:
        """Whether `user_id` was told that `new_id` resembles their `own_id`: the only pairs
        a late-match button may ask an introduction for."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(MatchNotice.id).where(
                    MatchNotice.recipient_id == user_id,
                    MatchNotice.new_initiative_id == new_id,
                    MatchNotice.own_initiative_id == own_id,
                    MatchNotice.sent_at.is_not(None),
                )
            )
        return found is not None

    async def mark_notices(self, notice_ids: Sequence[int], sent_at: datetime | None) -> None:
        """Claim notices as sent (before sending, so a crash cannot send them twice), or give
        them back with `sent_at=None` when the send failed for a reason worth retrying."""
        async with self._sessions.begin() as session:
            for notice in await session.scalars(
                select(MatchNotice).where(MatchNotice.id.in_(list(notice_ids)))
            ):
                notice.sent_at = sent_at
