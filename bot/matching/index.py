"""An in-memory index of initiatives, kept in step with the database, to find similar ones.

The database stores `normalize(text)` with each initiative; at start the bot adds every stored
row here, and afterwards mirrors each insert, edit, close and delete. A query goes through an
inverted index (token → initiatives, plus typo-tolerant lookup of unknown tokens) to a few
candidates, which are then scored in full.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.matching import score
from bot.matching.normalize import normalize

# The score at which two texts are "the same idea": the threshold that maximises F1 of
# "relatedness >= 4.0" on SICK-NL TRAIN+TRIAL (bench/matching.py --tune); on TEST it gives the
# F1 the bench reports.
MATCH_THRESHOLD = 0.52
# Policy, not data: an idea in the same kern is more likely the same one; a closed idea is
# shown, but after open ones of similar wording.
KERN_BONUS = 0.08
CLOSED_FACTOR = 0.85
# Candidates scored in full per query; more costs time, fewer may miss a match whose tokens
# overlap only through typos or related words.
CANDIDATES = 120
# A token in more initiatives than this adds no candidates once rarer tokens found enough.
COMMON_POSTINGS = 2000


@dataclass(frozen=True, slots=True)
class Match:
    doc_id: int
    score: float  # 0..1, kern bonus and closed penalty included


@dataclass(frozen=True, slots=True)
class _Doc:
    tokens: tuple[str, ...]
    kern: str | None
    is_open: bool


def similarity(a: str, b: str) -> float:
    """Similarity of two raw texts, 0..1, symmetric (no kern, no open/closed)."""
    return score.score_normalized(normalize(a), normalize(b))


class MatchIndex:
    def __init__(self) -> None:
        self._docs: dict[int, _Doc] = {}
        self._postings: dict[str, set[int]] = {}
        # One string object per distinct token, shared by all documents (a third of the memory
        # of 100,000 initiatives otherwise goes to copies of the same words).
        self._vocabulary: dict[str, str] = {}
        # Vocabulary by token length, for typo lookup of a query token the index lacks.
        self._by_length: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def add(
        self, doc_id: int, normalized: str, kern: str | None = None, is_open: bool = True
    ) -> None:
        """Index an initiative by its stored `normalize()` output; the id must be new."""
        if doc_id in self._docs:
            raise ValueError(f"initiative {doc_id} is already indexed; use update()")
        tokens = tuple(self._intern(t) for t in dict.fromkeys(normalized.split()))
        kern = _kern(kern)
        self._docs[doc_id] = _Doc(tokens, self._intern(kern) if kern else None, is_open)
        for token in tokens:
            posting = self._postings.get(token)
            if posting is None:
                posting = self._postings[token] = set()
                self._by_length.setdefault(len(token), []).append(token)
            posting.add(doc_id)

    def _intern(self, text: str) -> str:
        return self._vocabulary.setdefault(text, text)

    def update(
        self, doc_id: int, normalized: str, kern: str | None = None, is_open: bool = True
    ) -> None:
        """Replace an indexed initiative (new text, kern or status)."""
        self.remove(doc_id)
        self.add(doc_id, normalized, kern, is_open)

    def remove(self, doc_id: int) -> None:
        doc = self._docs.pop(doc_id, None)
        if doc is None:
            raise KeyError(doc_id)
        for token in doc.tokens:
            posting = self._postings[token]
            posting.discard(doc_id)
            if not posting:
                # The token stays in _by_length: a stale entry finds nothing, and the
                # vocabulary of a municipality's ideas does not churn.
                del self._postings[token]

    def query(
        self,
        text: str,
        *,
        kern: str | None = None,
        limit: int = 5,
        exclude: Collection[int] = (),
        min_score: float | None = None,
    ) -> list[Match]:
        """The initiatives most like the raw `text`, best first, at or above the threshold."""
        return self.query_normalized(
            normalize(text), kern=kern, limit=limit, exclude=exclude, min_score=min_score
        )

    def query_normalized(
        self,
        normalized: str,
        *,
        kern: str | None = None,
        limit: int = 5,
        exclude: Collection[int] = (),
        min_score: float | None = None,
    ) -> list[Match]:
        """`query()` for a text that is already the output of `normalize()`."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        threshold = MATCH_THRESHOLD if min_score is None else min_score
        tokens = list(dict.fromkeys(normalized.split()))
        if not tokens:
            return []
        wanted_kern = _kern(kern)
        # Ties (an exact copy scores 1.0 with or without the bonus) go to the same kern, then
        # to an open initiative, then to the oldest id.
        scored: list[tuple[float, bool, bool, int]] = []
        for doc_id in self._candidates(tokens, exclude):
            doc = self._docs[doc_id]
            value = score.score_tokens(tokens, list(doc.tokens))
            same_kern = wanted_kern is not None and doc.kern == wanted_kern
            if same_kern:
                value = min(1.0, value + KERN_BONUS)
            if not doc.is_open:
                value *= CLOSED_FACTOR
            if value >= threshold:
                scored.append((round(value, 4), same_kern, doc.is_open, -doc_id))
        best = heapq.nlargest(limit, scored)
        return [Match(-neg_id, value) for value, _, _, neg_id in best]

    def _candidates(self, tokens: list[str], exclude: Collection[int]) -> list[int]:
        terms: list[str] = []
        for token in tokens:
            if token in self._postings:
                terms.append(token)
            else:
                terms.extend(self._typo_neighbours(token))
        terms.sort(key=lambda t: len(self._postings[t]))
        counts: Counter[int] = Counter()
        for term in terms:
            posting = self._postings[term]
            if len(posting) > COMMON_POSTINGS and len(counts) >= CANDIDATES:
                break
            counts.update(posting)
        for doc_id in exclude:
            counts.pop(doc_id, None)
        if len(counts) <= CANDIDATES:
            return list(counts)
        return [doc_id for doc_id, _ in counts.most_common(CANDIDATES)]

    def _typo_neighbours(self, token: str) -> list[str]:
        allowed = score.max_typos(token)
        found: list[str] = []
        for length in range(len(token) - allowed, len(token) + allowed + 1):
            vocabulary = self._by_length.get(length)
            if not vocabulary:
                continue
            for word, _, _ in process.extract_iter(
                token, vocabulary, scorer=OSA.distance, score_cutoff=allowed
            ):
                if word in self._postings and score.typo_credit(token, word):
                    found.append(word)
        return found


def _kern(kern: str | None) -> str | None:
    """Kernen compare without case or stray spaces ("IJmuiden" == "ijmuiden ")."""
    return kern.strip().casefold() or None if kern else None
