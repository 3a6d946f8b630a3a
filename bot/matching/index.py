"""An in-memory index of initiatives, kept in step with the database, to find similar ones.

The database stores `normalize(text)` with each initiative, and a sentence vector of its title
and description; at start the bot adds every stored row here, and afterwards mirrors each
insert, edit, close and delete. A query goes through an inverted index (token → initiatives,
plus typo-tolerant lookup of unknown tokens) to a few candidates; with a query vector, the
initiatives nearest in meaning join them (a pair with no word in common can still be the same
idea). Candidates are then scored in full: lexically, or blended with meaning (blend.py) on
the same scale.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.matching import blend, score
from bot.matching.normalize import normalize
from bot.matching.score import MATCH_THRESHOLD
from bot.matching.vectors import VectorTable

__all__ = ["MATCH_THRESHOLD", "Match", "MatchIndex", "similarity"]

# Policy, not data: an idea in the same kern is more likely the same one; a closed idea is
# shown, but after open ones of similar wording.
KERN_BONUS = 0.08
CLOSED_FACTOR = 0.85
# Candidates scored in full per query; more costs time, fewer may miss a match whose tokens
# overlap only through typos or related words.
CANDIDATES = 120
# A token in more initiatives than this adds no candidates once rarer tokens found enough.
COMMON_POSTINGS = 2000
# Candidates by meaning, besides those by words: the nearest vectors to the query's.
SEMANTIC_CANDIDATES = 40


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
        # Sentence vectors by id, created with the first one. They follow the text, not the
        # visibility: a hidden initiative keeps its vector for when it is shown again.
        self._vectors: VectorTable | None = None

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

    def set_vector(self, doc_id: int, vector: np.ndarray | None) -> None:
        """Store (or with None, drop) the sentence vector of an initiative's text."""
        if vector is None:
            if self._vectors is not None:
                self._vectors.drop(doc_id)
            return
        if self._vectors is None:
            self._vectors = VectorTable(len(vector))
        self._vectors.set(doc_id, vector)

    def vector(self, doc_id: int) -> np.ndarray | None:
        return None if self._vectors is None else self._vectors.get(doc_id)

    def _intern(self, text: str) -> str:
        return self._vocabulary.setdefault(text, text)

    def update(
        self, doc_id: int, normalized: str, kern: str | None = None, is_open: bool = True
    ) -> None:
        """Replace an indexed initiative (new text, kern or status)."""
        self.remove(doc_id)
        self.add(doc_id, normalized, kern, is_open)

    def remove(self, doc_id: int) -> None:
        """No longer found; its vector stays until `set_vector(doc_id, None)`."""
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
        vector: np.ndarray | None = None,
    ) -> list[Match]:
        """The initiatives most like the raw `text`, best first, at or above the threshold;
        with `text`'s sentence vector, by words and meaning."""
        return self.query_normalized(
            normalize(text),
            kern=kern,
            limit=limit,
            exclude=exclude,
            min_score=min_score,
            vector=vector,
        )

    def query_normalized(
        self,
        normalized: str,
        *,
        kern: str | None = None,
        limit: int = 5,
        exclude: Collection[int] = (),
        min_score: float | None = None,
        vector: np.ndarray | None = None,
        words_suffice: bool = False,
    ) -> list[Match]:
        """`query()` for a text that is already the output of `normalize()`. With
        `words_suffice`, a candidate scores at least its lexical score (dedupe: at the top the
        words and the blend each find duplicates the other misses, both precisely)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        threshold = MATCH_THRESHOLD if min_score is None else min_score
        tokens = list(dict.fromkeys(normalized.split()))
        if not tokens:
            return []
        cosines: dict[int, float] = {}
        diagonal: dict[int, float] | None = None
        if vector is not None and self._vectors is not None:
            # Those nearest in meaning take the places of the weakest by words: a query
            # scores as many candidates either way.
            cosines = self._near(vector, exclude)
            lexical = self._candidates(tokens, exclude, CANDIDATES - len(cosines))
            candidates = list(dict.fromkeys([*cosines, *lexical]))
            missing = [doc_id for doc_id in candidates if doc_id not in cosines]
            cosines.update(self._vectors.cosines(missing, vector))
            metric = blend.metric_query(vector)
            if metric is not None:  # the blend's diagonal term: the same product, scaled query
                diagonal = self._vectors.cosines(list(cosines), metric)
        else:
            candidates = self._candidates(tokens, exclude)
        values = self._scores(tokens, candidates, cosines, words_suffice, diagonal)
        wanted_kern = _kern(kern)
        # Ties (an exact copy scores 1.0 with or without the bonus) go to the same kern, then
        # to an open initiative, then to the oldest id.
        scored: list[tuple[float, bool, bool, int]] = []
        for doc_id, value in zip(candidates, values, strict=True):
            doc = self._docs[doc_id]
            same_kern = wanted_kern is not None and doc.kern == wanted_kern
            if same_kern:
                value = min(1.0, value + KERN_BONUS)
            if not doc.is_open:
                value *= CLOSED_FACTOR
            if value >= threshold:
                scored.append((round(value, 4), same_kern, doc.is_open, -doc_id))
        best = heapq.nlargest(limit, scored)
        return [Match(-neg_id, value) for value, _, _, neg_id in best]

    def _near(self, vector: np.ndarray, exclude: Collection[int]) -> dict[int, float]:
        """The findable initiatives nearest in meaning, with their cosines."""
        assert self._vectors is not None
        # Excluded and hidden initiatives may be among the nearest: ask for a few more.
        near = self._vectors.nearest(vector, SEMANTIC_CANDIDATES + len(exclude))
        found = {i: c for i, c in near.items() if i in self._docs and i not in exclude}
        return dict(sorted(found.items(), key=lambda item: -item[1])[:SEMANTIC_CANDIDATES])

    def _scores(
        self,
        tokens: list[str],
        candidates: list[int],
        cosines: dict[int, float],
        words_suffice: bool = False,
        diagonal: dict[int, float] | None = None,
    ) -> list[float]:
        """Each candidate's score: blended where both sides have a vector, else lexical (with
        `words_suffice`, the higher of the two)."""
        lexical = [score.features(tokens, list(self._docs[d].tokens)) for d in candidates]
        values = [f.score for f in lexical]
        both = [n for n, doc_id in enumerate(candidates) if doc_id in cosines]
        blended = blend.scores(
            [cosines[candidates[n]] for n in both],
            [lexical[n] for n in both],
            None if diagonal is None else [diagonal[candidates[n]] for n in both],
        )
        for n, value in zip(both, blended.tolist(), strict=True):
            values[n] = max(value, values[n]) if words_suffice else value
        return values

    def _candidates(
        self, tokens: list[str], exclude: Collection[int], limit: int = CANDIDATES
    ) -> list[int]:
        """Up to `limit` initiatives sharing the most tokens (or typos of them) with the query."""
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
            if len(posting) > COMMON_POSTINGS and len(counts) >= limit:
                break
            counts.update(posting)
        for doc_id in exclude:
            counts.pop(doc_id, None)
        if len(counts) <= limit:
            return list(counts)
        return [doc_id for doc_id, _ in counts.most_common(limit)]

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
