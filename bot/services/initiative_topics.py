"""Which topic an initiative is about: the routing classifier, summed per main topic, then the
subtopic within it.

An initiative stores the most specific topic the classifier is sure of, as a question does: a
subtopic key ("initiatieven/groen") when it is sure of the subtopic within the main topic it is
sure of, else the main topic key ("initiatieven"), else None. Residents follow main topics and
statistics count per main topic and per subtopic, so whoever reads a stored key compares by its
main topic (`main_topic()`).

The classifier scores subtopics; their evidence is added up per main topic and turned into a
confidence the way the classifier does it (strength x share of the top three). Below
INITIATIVE_TOPIC_THRESHOLD, or in a tie, the topic is unclear: /idee asks the resident to pick a
main topic, an import or the start-up backfill stores None ("onbekend" in statistics) rather than
a guess. Within a sure main topic, its subtopics' evidence gets a confidence the same way; at or
above INITIATIVE_SUBTOPIC_THRESHOLD and without a tie the subtopic is stored.

The generic main topic "initiatieven" stays a candidate: bench/initiative_topics.py measured that
leaving it out gives half of the real idea titles no candidate at all and a third the right one,
against about nine in ten with it. Threshold and that choice are tuned on the Buurtbudget editions
of shared/data and reported on the Begroot editions and Assen.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass

from bot.matching.normalize import normalizer_fingerprint
from bot.routing import Taxonomy, TopicClassifier, TopicScore
from bot.routing.keys import main_topic
from bot.routing.taxonomy import Topic

# The lowest threshold whose precision on the tuning editions is at least 0.93
# (`python bench/initiative_topics.py --tune`).
INITIATIVE_TOPIC_THRESHOLD = 0.2
# Within a sure main topic: the lowest subtopic threshold whose precision (a stored subtopic right
# by its label) on the tuning editions is at least 0.70 (`python bench/initiative_topics.py
# --tune`, second table: 0.45 stores a subtopic for a fifth of the titles at 0.70; 0.93, the main
# topic's target, would take 0.70 and give 1.4%). Lower than for main topics because a subtopic
# only splits the statistics (follows go by main topic) and the editions' theme labels often name
# another theme than the title does, so agreement with them understates how often it is right;
# /idee classifies title, description and motivation together, which gives more evidence.
INITIATIVE_SUBTOPIC_THRESHOLD = 0.45
# Part of the fingerprint: raise it when what is stored changes in a way the other parts do not
# show (2: subtopic keys are stored, not only main topic keys), so the backfill runs again once.
_BEHAVIOUR = 2


def initiative_text(title: str, description: str, motivation: str) -> str:
    """What an initiative is classified on: everything the resident wrote about the 'what'."""
    return "\n".join(part for part in (title, description, motivation) if part)


@dataclass(frozen=True)
class TopicGuess:
    # The subtopic when the classifier is sure of it, else the main topic when sure of that,
    # else None.
    key: str | None
    candidates: tuple[str, ...]  # the likeliest main topics, best first (to offer the resident)

    @property
    def main(self) -> str | None:
        """The main topic the classifier is sure of, or None."""
        return main_topic(self.key)


class InitiativeTopics:
    """Classifies initiatives into topics; build once per taxonomy, reuse."""

    def __init__(
        self,
        classifier: TopicClassifier,
        threshold: float = INITIATIVE_TOPIC_THRESHOLD,
        *,
        subtopic_threshold: float | None = INITIATIVE_SUBTOPIC_THRESHOLD,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        self.classifier = classifier
        self.taxonomy: Taxonomy = classifier.taxonomy
        self.threshold = threshold
        # None: main topics only (what was stored before subtopics; the bench compares).
        self.subtopic_threshold = subtopic_threshold
        # Main topics never given to an initiative (the bench compares leaving one out).
        self.exclude = exclude
        # The main topics a resident may pick.
        self.main_keys = frozenset(t.key for t in self.taxonomy.main_topics) - exclude
        # Every key an initiative may have: those main topics and their subtopics.
        self.keys = self.main_keys | frozenset(
            t.key for t in self.taxonomy.subtopics if t.parent in self.main_keys
        )

    def scores(self, text: str, *, limit: int = 3) -> list[TopicScore]:
        """The best main topics for `text`, best first; [] when nothing matches."""
        per_main: dict[str, float] = defaultdict(float)
        for key, evidence in self.classifier.evidence(text).items():
            main = self.taxonomy.main_of(key).key
            if evidence > 0 and main not in self.exclude:
                per_main[main] += evidence
        return self._ranked(per_main, self.taxonomy.main_topics, limit)

    def subtopic_scores(self, text: str, main: str, *, limit: int = 3) -> list[TopicScore]:
        """The best subtopics of `main` for `text`, best first, with a confidence within that
        main topic; [] when nothing matches."""
        evidence = {
            key: score
            for key, score in self.classifier.evidence(text).items()
            if score > 0 and self.taxonomy[key].parent == main
        }
        return self._ranked(evidence, self.taxonomy.children(main), limit)

    def _ranked(
        self, evidence: dict[str, float], topics: tuple[Topic, ...], limit: int
    ) -> list[TopicScore]:
        order = {t.key: i for i, t in enumerate(topics)}
        # Ties keep taxonomy order, so the same text always gives the same answer.
        ranked = sorted(evidence.items(), key=lambda kv: (-kv[1], order[kv[0]]))
        mass = sum(score for _, score in ranked[:3])
        scale = self.classifier.params.strength_scale
        return [
            TopicScore(key, round((1 - math.exp(-score / scale)) * score / mass, 4))
            for key, score in ranked[:limit]
        ]

    def guess(self, text: str) -> TopicGuess:
        """The most specific topic for `text` the classifier is sure of (subtopic, else main
        topic, else None), and the likeliest three main topics."""
        scores = self.scores(text)
        candidates = tuple(s.key for s in scores)
        if not _sure(scores, self.threshold):
            return TopicGuess(None, candidates)
        main = scores[0].key
        if self.subtopic_threshold is not None:
            subtopics = self.subtopic_scores(text, main)
            if _sure(subtopics, self.subtopic_threshold):
                return TopicGuess(subtopics[0].key, candidates)
        return TopicGuess(main, candidates)

    def classify(self, text: str) -> str | None:
        """The topic key for `text` (a subtopic or main topic), or None when unsure."""
        return self.guess(text).key

    def fingerprint(self) -> str:
        """Changes whenever classify() may give other answers: the taxonomy's keys and keywords,
        the thresholds, the classifier's parameters, the normaliser or what is stored."""
        digest = hashlib.sha256(
            f"{_BEHAVIOUR}|{self.threshold}|{self.subtopic_threshold}|{sorted(self.exclude)}|"
            f"{self.classifier.params}".encode()
        )
        digest.update(normalizer_fingerprint().encode())
        for topic in self.taxonomy:
            digest.update(f"\n{topic.key}:{'|'.join(topic.keywords)}".encode())
        return digest.hexdigest()[:16]


def _sure(scores: list[TopicScore], threshold: float) -> bool:
    # A tie is broken by taxonomy order only to be repeatable; that is no reason to be sure.
    return (
        bool(scores)
        and scores[0].confidence >= threshold
        and (len(scores) == 1 or scores[0].confidence > scores[1].confidence)
    )
