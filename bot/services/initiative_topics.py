"""Which main topic an initiative is about: the routing classifier, summed per main topic.

Residents follow main topics and statistics count per main topic, so an initiative gets a main
topic key ("openbare-ruimte"), never a subtopic. The classifier scores subtopics; their evidence
is added up per main topic and turned into a confidence the way the classifier does it
(strength x share of the top three). Below INITIATIVE_TOPIC_THRESHOLD, or in a tie, the topic
is unclear: /idee asks the resident to pick one, an import or the start-up backfill stores None
("onbekend" in statistics) rather than a guess.

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

# The lowest threshold whose precision on the tuning editions is at least 0.93
# (`python bench/initiative_topics.py --tune`).
INITIATIVE_TOPIC_THRESHOLD = 0.2


def initiative_text(title: str, description: str, motivation: str) -> str:
    """What an initiative is classified on: everything the resident wrote about the 'what'."""
    return "\n".join(part for part in (title, description, motivation) if part)


@dataclass(frozen=True)
class TopicGuess:
    key: str | None  # the main topic when the classifier is sure, else None
    candidates: tuple[str, ...]  # the likeliest main topics, best first (to offer the resident)


class InitiativeTopics:
    """Classifies initiatives into main topics; build once per taxonomy, reuse."""

    def __init__(
        self,
        classifier: TopicClassifier,
        threshold: float = INITIATIVE_TOPIC_THRESHOLD,
        *,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        self.classifier = classifier
        self.taxonomy: Taxonomy = classifier.taxonomy
        self.threshold = threshold
        # Main topics never given to an initiative (the bench compares leaving one out).
        self.exclude = exclude
        # The keys an initiative may have.
        self.keys = frozenset(t.key for t in self.taxonomy.main_topics) - exclude

    def scores(self, text: str, *, limit: int = 3) -> list[TopicScore]:
        """The best main topics for `text`, best first; [] when nothing matches."""
        per_main: dict[str, float] = defaultdict(float)
        for key, evidence in self.classifier.evidence(text).items():
            main = self.taxonomy.main_of(key).key
            if evidence > 0 and main not in self.exclude:
                per_main[main] += evidence
        order = {t.key: i for i, t in enumerate(self.taxonomy.main_topics)}
        # Ties keep taxonomy order, so the same text always gives the same answer.
        ranked = sorted(per_main.items(), key=lambda kv: (-kv[1], order[kv[0]]))
        mass = sum(score for _, score in ranked[:3])
        scale = self.classifier.params.strength_scale
        return [
            TopicScore(key, round((1 - math.exp(-score / scale)) * score / mass, 4))
            for key, score in ranked[:limit]
        ]

    def guess(self, text: str) -> TopicGuess:
        """The main topic for `text` if the classifier is sure, and the likeliest three."""
        scores = self.scores(text)
        # A tie is broken by taxonomy order only to be repeatable; that is no reason to be sure.
        sure = (
            bool(scores)
            and scores[0].confidence >= self.threshold
            and (len(scores) == 1 or scores[0].confidence > scores[1].confidence)
        )
        return TopicGuess(scores[0].key if sure else None, tuple(s.key for s in scores))

    def classify(self, text: str) -> str | None:
        """The main topic key for `text`, or None when the classifier is unsure."""
        return self.guess(text).key

    def fingerprint(self) -> str:
        """Changes whenever classify() may give other answers: the taxonomy's keys and keywords,
        the threshold, the classifier's parameters or the normaliser."""
        digest = hashlib.sha256(
            f"{self.threshold}|{sorted(self.exclude)}|{self.classifier.params}".encode()
        )
        digest.update(normalizer_fingerprint().encode())
        for topic in self.taxonomy:
            digest.update(f"\n{topic.key}:{'|'.join(topic.keywords)}".encode())
        return digest.hexdigest()[:16]
