"""Which subtopic is a resident's question about? Keywords from the taxonomy, Dutch-aware.

Text and keywords go through the same normaliser (bot.matching.normalize: case, accents, stop
words, stems, compound parts), so "grofvuil naast de containers" meets the keywords "grofvuil"
and "container". A keyword word is found when all its canonical tokens are in the text; failing
that, a typo ("paspoord") is caught by rapidfuzz on the word's compact form. Evidence per
subtopic is the sum of its matched keywords, each weighted by how specific it is (a keyword
shared by two subtopics counts half, a phrase counts more than a word); the main topic's
keywords add to the children that have evidence of their own.

Confidence = strength x share: strength grows with the evidence (1 - exp(-S/scale)), share is the
top topic's part of the top three. No evidence → no candidates; two close topics → a low
confidence, and below CONFIDENCE_THRESHOLD the bot asks the resident to pick (DESIGN "Routing").
The threshold and the parameters are tuned by bench/routing.py on the Buurtbudget editions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.matching.normalize import normalize as dutch_normalize
from bot.routing.taxonomy import Taxonomy

# Below this the bot asks "which of these is it about?"; tuned by `bench/routing.py --tune`.
CONFIDENCE_THRESHOLD = 0.42
# Words longer than this are not words (URLs, base64, keyboard mashing): no fuzzy search for them.
_MAX_FUZZY_LEN = 40


@dataclass(frozen=True)
class ScoringParams:
    fuzzy_cutoff: float = 85.0  # rapidfuzz ratio (0..100) for a typo to count
    fuzzy_weight: float = 0.8  # a typo match counts this much of an exact one
    fuzzy_min_len: int = 5  # shorter words only match exactly ("bank" is not "band")
    phrase_bonus: float = 0.5  # each extra word in a matched keyword phrase adds this
    main_weight: float = 0.4  # a main topic keyword's weight for its children
    strength_scale: float = 2.0  # evidence at which strength is 1 - 1/e


DEFAULT_PARAMS = ScoringParams()


@dataclass(frozen=True)
class TopicScore:
    key: str  # a subtopic key
    confidence: float  # 0..1


def is_confident(scores: list[TopicScore], threshold: float = CONFIDENCE_THRESHOLD) -> bool:
    """True when the best topic may be used without asking the resident."""
    return bool(scores) and scores[0].confidence >= threshold


@dataclass(frozen=True)
class _Word:
    tokens: tuple[str, ...]  # canonical tokens in order: "verhuizen" is (ver, huis)
    compact: str  # tokens joined without spaces: what a typo is compared against


@dataclass(frozen=True)
class _Keyword:
    words: tuple[_Word, ...]
    weight: float
    tokens: frozenset[str]

    @classmethod
    def of(cls, words: tuple[_Word, ...], weight: float, bonus: float) -> _Keyword:
        """Each canonical token beyond the first adds `bonus`: "woz-beschikking" and "grof
        afval" say more than "woz" or "afval" alone."""
        tokens = frozenset(t for w in words for t in w.tokens)
        return cls(words, weight * (1 + bonus * (len(tokens) - 1)), tokens)


def _longest_first(keywords: list[_Keyword]) -> tuple[_Keyword, ...]:
    return tuple(sorted(keywords, key=lambda k: (-len(k.tokens), -k.weight)))


class TopicClassifier:
    """Scores text against a taxonomy's subtopics; build once, reuse (the index is immutable)."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        *,
        params: ScoringParams = DEFAULT_PARAMS,
        normalize: Callable[[str], str] = dutch_normalize,
    ) -> None:
        self.taxonomy = taxonomy
        self.params = params
        self._words = lru_cache(maxsize=1 << 15)(self._normalize_word)
        self._normalize = normalize
        self._subtopics = tuple(t.key for t in taxonomy.subtopics)
        self._own: dict[str, tuple[_Keyword, ...]] = {}
        self._main: dict[str, tuple[_Keyword, ...]] = {}
        self._build()

    # -- index ---------------------------------------------------------------------------------

    def _normalize_word(self, chunk: str) -> _Word | None:
        tokens = self._normalize(chunk).split()
        if not tokens:
            return None
        return _Word(tuple(tokens), "".join(tokens))

    def _phrase(self, keyword: str) -> tuple[_Word, ...]:
        return tuple(w for w in map(self._words, keyword.split()) if w is not None)

    def _build(self) -> None:
        phrases: dict[str, dict[tuple[str, ...], tuple[_Word, ...]]] = {}
        for topic in self.taxonomy:
            found: dict[tuple[str, ...], tuple[_Word, ...]] = {}
            for keyword in topic.keywords:
                words = self._phrase(keyword)
                if words:  # all stop words ("mag ik") leaves nothing to match
                    found.setdefault(tuple(w.compact for w in words), words)
            phrases[topic.key] = found
        # Specificity: a normalised keyword in n subtopics is worth 1/n in each.
        spread: dict[tuple[str, ...], int] = {}
        for key in self._subtopics:
            for compacts in phrases[key]:
                spread[compacts] = spread.get(compacts, 0) + 1
        bonus = self.params.phrase_bonus
        for topic in self.taxonomy:
            found = phrases[topic.key]
            if topic.is_main:
                keywords = [_Keyword.of(w, 1.0, bonus) for w in found.values()]
                self._main[topic.key] = _longest_first(keywords)
            else:
                keywords = [_Keyword.of(w, 1 / spread[c], bonus) for c, w in found.items()]
                self._own[topic.key] = _longest_first(keywords)
        every_word = {
            w.compact: w
            for group in (*self._own.values(), *self._main.values())
            for k in group
            for w in k.words
        }
        self._known = frozenset(every_word)
        self._longest = max((len(w.tokens) for w in every_word.values()), default=1)
        self._fuzzy_choices = [c for c in every_word if len(c) >= self.params.fuzzy_min_len]

    # -- scoring -------------------------------------------------------------------------------

    def _text_words(self, text: str) -> list[_Word]:
        return [w for w in map(self._words, text.split()) if w is not None]

    def _fuzzy(self, text_words: Iterable[_Word]) -> dict[str, float]:
        """Keyword word (compact) → best typo similarity 0..1 among the text's words."""
        p = self.params
        best: dict[str, float] = {}
        if p.fuzzy_cutoff > 100:  # typo matching switched off
            return best
        for compact in {w.compact for w in text_words}:
            # A word that is itself a keyword is not also a typo of another ("afvalbak" is not
            # a misspelt "afvalzak").
            if compact in self._known or not p.fuzzy_min_len <= len(compact) <= _MAX_FUZZY_LEN:
                continue
            for choice, score, _ in process.extract(
                compact,
                self._fuzzy_choices,
                scorer=fuzz.ratio,
                score_cutoff=p.fuzzy_cutoff,
                limit=None,
            ):
                best[choice] = max(best.get(choice, 0.0), score / 100)
        return best

    def evidence(self, text: str) -> dict[str, float]:
        """Raw evidence per subtopic (only those with any), before confidence."""
        text_words = self._text_words(text)
        if not text_words:
            return {}
        # A keyword word matches where its tokens run in order in the text, so "verhuizen"
        # (ver huis) is found in "ik ga verhuizen" and in "verhuisdozen", not in "mijn huis
        # verbouwen" (huis, ver bouw); a compound's head is found ("hondenspeeltuin" holds
        # "speeltuin"). The words of a multi-word keyword may be anywhere in the text.
        flat = [t for w in text_words for t in w.tokens]
        runs = {
            tuple(flat[i : i + n])
            for n in range(1, self._longest + 1)
            for i in range(len(flat) - n + 1)
        }
        fuzzy = self._fuzzy(text_words)
        fuzzy_weight = self.params.fuzzy_weight

        def word_match(word: _Word) -> float:
            if word.tokens in runs:
                return 1.0
            return fuzzy_weight * fuzzy.get(word.compact, 0.0)

        def total(keywords: tuple[_Keyword, ...]) -> float:
            # Longest keywords first; one that only repeats tokens a longer one already matched
            # adds nothing ("vuilnisbakken" is vuilnis + bak: the keyword "vuilnisbak", not also
            # "vuilnis").
            score, covered = 0.0, set()
            for keyword in keywords:
                match = min(word_match(w) for w in keyword.words)
                if match > 0 and not keyword.tokens <= covered:
                    score += keyword.weight * match
                    covered |= keyword.tokens
            return score

        main_evidence = {key: total(kws) for key, kws in self._main.items()}
        result: dict[str, float] = {}
        for key in self._subtopics:
            own = total(self._own[key])
            if own > 0:
                parent = self.taxonomy[key].parent
                result[key] = own + self.params.main_weight * main_evidence.get(parent or "", 0)
        # A text that only names a main topic ("a question about taxes") gets all its children
        # equally, so the resident is asked which one.
        for parent, evidence in main_evidence.items():
            if evidence <= 0:
                continue
            children = [t.key for t in self.taxonomy.children(parent)]
            if not any(c in result for c in children):
                share = self.params.main_weight * evidence / len(children)
                for child in children:
                    result[child] = share
        return result

    def classify(self, text: str, *, limit: int = 3) -> list[TopicScore]:
        """The best subtopics for `text`, best first, at most `limit`; [] when nothing matches."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        evidence = self.evidence(text)
        order = {key: i for i, key in enumerate(self._subtopics)}
        # Ties keep taxonomy order, so the same text always gives the same answer.
        ranked = sorted(
            ((k, v) for k, v in evidence.items() if v > 0), key=lambda kv: (-kv[1], order[kv[0]])
        )
        top = ranked[: max(limit, 3)]
        mass = sum(score for _, score in top[:3])
        scale = self.params.strength_scale
        return [
            TopicScore(key, round((1 - math.exp(-score / scale)) * score / mass, 4))
            for key, score in top[:limit]
        ]
