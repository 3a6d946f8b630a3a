"""Which subtopic is a resident's question about? Keywords from the taxonomy, Dutch-aware.

Text and keywords go through the same normaliser (bot.matching.normalize: case, accents, stop
words, stems, compound parts, synonyms), so "grofvuil naast de containers" meets the keywords
"grofvuil" and "container". A keyword word is found where its canonical tokens run in order in
the text (a compound's parts included); failing that, as the head of a compound the normaliser
left whole ("buurtkoor" → "koor"), or as a typo ("paspoord") by rapidfuzz. Evidence per
subtopic is the sum of its matched keywords, each weighted by how specific it is (a keyword
shared by two subtopics counts half, a phrase counts more than a word); the main topic's
keywords add to the children that have evidence of their own. `explain` says which keywords
were found, for moderators and for tuning the taxonomy.

Confidence = strength x share: strength grows with the evidence (1 - exp(-S/scale)), share is the
top topic's part of the top three. No evidence → no candidates; two close topics → a low
confidence, and below CONFIDENCE_THRESHOLD the bot asks the resident to pick (DESIGN "Routing").
The threshold and the parameters are tuned by bench/routing.py on the Buurtbudget editions.

With a sentence model (bot.semantic) `classify` blends: per subtopic the lexical strength, plus
the z-scored cosines with the taxonomy's embedded keywords and prototypes, plus the votes of the
nearest labelled examples (bot/routing/semantic.py). Its confidence is the first topic's share
of the softmax of the best three, or the lexical confidence when the keywords name the same
topic, whichever is higher; asked below BLENDED_THRESHOLD. Without a model it is lexical.
`evidence` and `explain` stay lexical: initiatives' topics (bot/services/initiative_topics.py)
are built on them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from bot.matching.normalize import normalize as dutch_normalize
from bot.routing.semantic import (
    DEFAULT_SEMANTIC,
    ExampleIndex,
    Prototypes,
    SemanticParams,
    prototypes,
)
from bot.routing.taxonomy import Taxonomy
from bot.semantic import Encoder, fingerprint, get_encoder

# Below this the bot asks "which of these is it about?"; tuned by `bench/routing.py --tune`.
CONFIDENCE_THRESHOLD = 0.5
# The same for the blended confidence (with a sentence model), tuned the same way; it came out
# where the lexical one is, so the bot is as sure where the keywords are sure and agree.
BLENDED_THRESHOLD = 0.5
# Words longer than this are not words (URLs, base64, keyboard mashing): no fuzzy search for them.
_MAX_FUZZY_LEN = 40


@dataclass(frozen=True)
class ScoringParams:
    fuzzy_cutoff: float = 85.0  # rapidfuzz ratio (0..100) for a typo to count
    fuzzy_weight: float = 0.8  # a typo match counts this much of an exact one
    fuzzy_min_len: int = 5  # shorter words only match exactly ("bank" is not "band")
    head_weight: float = 0.8  # an unknown compact word ending in a keyword ("buurtkoor")
    head_min_len: int = 4  # shortest keyword taken as a compound head
    phrase_bonus: float = 1.0  # each extra word in a matched keyword adds this
    spread_power: float = 0.5  # a keyword in n subtopics weighs n ** -spread_power in each
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
    text: str  # as written in the taxonomy, for `explain`
    words: tuple[_Word, ...]
    weight: float
    tokens: frozenset[str]

    @classmethod
    def of(cls, text: str, words: tuple[_Word, ...], weight: float, bonus: float) -> _Keyword:
        """Each word beyond the first adds `bonus`: "woz-beschikking" and "grof afval" say
        more than "woz" or "afval" alone. A compound is one word, however the normaliser
        splits it ("winkelcentrum" is no more specific than "drugs")."""
        tokens = frozenset(t for w in words for t in w.tokens)
        return cls(text, words, weight * (1 + bonus * (len(words) - 1)), tokens)


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
        semantic: SemanticParams | None = DEFAULT_SEMANTIC,
    ) -> None:
        """`semantic=None`: lexical only, whatever sentence model is loaded."""
        self.taxonomy = taxonomy
        self.params = params
        self.semantic = semantic
        # What routing learned from people: filled by bot/services/routing_examples.py.
        self.examples = ExampleIndex(taxonomy, semantic or DEFAULT_SEMANTIC)
        self._prototypes_of: tuple[str, Prototypes] | None = None
        self._words = lru_cache(maxsize=1 << 15)(self._normalize_word)
        self._normalize = normalize
        self._subtopics = tuple(t.key for t in taxonomy.subtopics)
        self._order = {key: i for i, key in enumerate(self._subtopics)}
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
        # A hyphen joins words, not compound parts: "id-kaart" also matches "id kaart".
        chunks = keyword.replace("-", " ").split()
        return tuple(w for w in map(self._words, chunks) if w is not None)

    def _build(self) -> None:
        phrases: dict[str, dict[tuple[str, ...], tuple[str, tuple[_Word, ...]]]] = {}
        for topic in self.taxonomy:
            found: dict[tuple[str, ...], tuple[str, tuple[_Word, ...]]] = {}
            for keyword in topic.keywords:
                words = self._phrase(keyword)
                if words:  # all stop words ("mag ik") leaves nothing to match
                    found.setdefault(tuple(w.compact for w in words), (keyword, words))
            phrases[topic.key] = found
        # Specificity: a normalised keyword in several subtopics says less about each.
        spread: dict[tuple[str, ...], int] = {}
        for key in self._subtopics:
            for compacts in phrases[key]:
                spread[compacts] = spread.get(compacts, 0) + 1
        bonus, power = self.params.phrase_bonus, self.params.spread_power
        for topic in self.taxonomy:
            found = phrases[topic.key]
            if topic.is_main:
                keywords = [_Keyword.of(t, w, 1.0, bonus) for t, w in found.values()]
                self._main[topic.key] = _longest_first(keywords)
            else:
                keywords = [
                    _Keyword.of(t, w, spread[c] ** -power, bonus) for c, (t, w) in found.items()
                ]
                self._own[topic.key] = _longest_first(keywords)
        every_word = {
            w.compact: w
            for group in (*self._own.values(), *self._main.values())
            for k in group
            for w in k.words
        }
        self._known = frozenset(every_word)
        # Compound heads are looked up by the keyword's canonical form and by its written form
        # ("culturenfeest" ends in "feest", whose canonical form is the synonym "evenement").
        self._heads = {c: c for c in every_word}
        for topic in self.taxonomy:
            for keyword in topic.keywords:
                for chunk in keyword.replace("-", " ").split():
                    word = self._words(chunk)
                    if word is not None and chunk.isalpha():
                        self._heads.setdefault(chunk, word.compact)
        self._word_tokens = frozenset(w.tokens for w in every_word.values())
        self._longest = max((len(w.tokens) for w in every_word.values()), default=1)
        self._fuzzy_choices = [c for c in every_word if len(c) >= self.params.fuzzy_min_len]

    # -- scoring -------------------------------------------------------------------------------

    def _text_words(self, text: str) -> list[_Word]:
        return [w for w in map(self._words, text.split()) if w is not None]

    def _approximate(self, text_words: Iterable[_Word]) -> dict[str, float]:
        """Keyword word (compact) → best approximate match 0..1 among the text's words that
        are not keywords themselves: a compound the normaliser left whole ("buurtkoor" ends in
        "koor") or a typo ("paspoord"). A word that is itself a keyword is neither ("afvalbak"
        is not a misspelt "afvalzak")."""
        p = self.params
        best: dict[str, float] = {}
        for compact in {w.compact for w in text_words}:
            if compact in self._known or len(compact) > _MAX_FUZZY_LEN:
                continue
            if p.head_weight > 0:
                # Dutch compounds are right-headed; the longest known head wins.
                for i in range(3, len(compact) - p.head_min_len + 1):
                    head = self._heads.get(compact[i:])
                    if head is not None:
                        best[head] = max(best.get(head, 0.0), p.head_weight)
                        break
            if p.fuzzy_cutoff > 100 or len(compact) < p.fuzzy_min_len:  # typos switched off
                continue
            for choice, score, _ in process.extract(
                compact,
                self._fuzzy_choices,
                scorer=fuzz.ratio,
                score_cutoff=p.fuzzy_cutoff,
                limit=None,
            ):
                best[choice] = max(best.get(choice, 0.0), p.fuzzy_weight * score / 100)
        return best

    def _longest_matches(self, runs: dict[tuple[str, ...], list[int]]) -> set[tuple[str, ...]]:
        """The keyword words found in the text, longest first: a word whose every occurrence
        lies inside a longer keyword's does not count on its own, so "natuurspeeltuin" is a
        playground and not also nature, "kledingbank" is not a bench."""
        present = sorted(
            (tokens for tokens in self._word_tokens if tokens in runs), key=len, reverse=True
        )
        covered: set[int] = set()
        found: set[tuple[str, ...]] = set()
        for tokens in present:
            spans = [range(start, start + len(tokens)) for start in runs[tokens]]
            if any(not covered.issuperset(span) for span in spans):
                found.add(tokens)
                for span in spans:
                    covered.update(span)
        return found

    def _matches(self, text: str) -> dict[str, list[tuple[_Keyword, float]]]:
        """Topic key (main topics too) → its keywords found in `text` with their match 0..1."""
        text_words = self._text_words(text)
        if not text_words:
            return {}
        # A keyword word matches where its tokens run in order in the text, so "verhuizen"
        # (ver huis) is found in "ik ga verhuizen" and in "verhuisdozen", not in "mijn huis
        # verbouwen" (huis, ver bouw); a compound's head is found ("hondenspeeltuin" holds
        # "speeltuin"). The words of a multi-word keyword may be anywhere in the text.
        flat = [t for w in text_words for t in w.tokens]
        runs: dict[tuple[str, ...], list[int]] = {}
        for n in range(1, self._longest + 1):
            for i in range(len(flat) - n + 1):
                runs.setdefault(tuple(flat[i : i + n]), []).append(i)
        exact = self._longest_matches(runs)
        approximate = self._approximate(text_words)

        def word_match(word: _Word) -> float:
            return 1.0 if word.tokens in exact else approximate.get(word.compact, 0.0)

        found: dict[str, list[tuple[_Keyword, float]]] = {}
        for key, keywords in (*self._main.items(), *self._own.items()):
            # Longest keywords first; one that only repeats tokens a longer one already matched
            # adds nothing ("vuilnisbakken" is the keyword "vuilnisbak", not also "vuilnis").
            covered: set[str] = set()
            for keyword in keywords:
                match = min(word_match(w) for w in keyword.words)
                if match > 0 and not keyword.tokens <= covered:
                    found.setdefault(key, []).append((keyword, match))
                    covered |= keyword.tokens
        return found

    def evidence(self, text: str) -> dict[str, float]:
        """Raw evidence per subtopic (only those with any), before confidence."""
        found = self._matches(text)
        total = {key: sum(k.weight * m for k, m in hits) for key, hits in found.items()}
        main_weight = self.params.main_weight
        result: dict[str, float] = {}
        for key in self._subtopics:
            if key in total:
                parent = self.taxonomy[key].parent or ""
                result[key] = total[key] + main_weight * total.get(parent, 0.0)
        if result:
            return result
        # A text that only names main topics ("a question about taxes") gets their children
        # equally, so the resident is asked which one.
        for parent in self._main:
            children = [t.key for t in self.taxonomy.children(parent)]
            if parent in total:
                for child in children:
                    result[child] = main_weight * total[parent] / len(children)
        return result

    def explain(self, text: str) -> dict[str, list[str]]:
        """Topic key → the taxonomy keywords found in `text` (for moderators and tuning)."""
        return {key: [k.text for k, _ in hits] for key, hits in self._matches(text).items()}

    # -- blending with meaning ------------------------------------------------------------------

    @property
    def encoder(self) -> Encoder | None:
        """The sentence model classify() blends with now; None: lexical only."""
        return get_encoder() if self.semantic is not None else None

    @property
    def threshold(self) -> float:
        """The confidence below which the resident is asked, for the scores classify() gives."""
        return CONFIDENCE_THRESHOLD if self.encoder is None else BLENDED_THRESHOLD

    def prepare(self) -> None:
        """Embed the taxonomy's prototypes now (blocking) rather than at the first question."""
        encoder = self.encoder
        if encoder is not None:
            self._prototypes(encoder)

    def _prototypes(self, encoder: Encoder) -> Prototypes:
        # Looked up once per model, not per question (the lookup hashes every keyword).
        model = fingerprint(encoder)
        if self._prototypes_of is None or self._prototypes_of[0] != model:
            self._prototypes_of = (model, prototypes(self.taxonomy, encoder))
        return self._prototypes_of[1]

    def blended(
        self,
        vector: np.ndarray,
        text: str = "",
        *,
        examples: bool = True,
        leave_out: int | None = None,
    ) -> np.ndarray:
        """(subtopics,) blended scores in taxonomy order: lexical strength of `text` (none when
        empty) + prototypes + examples (unless `examples` is False; `leave_out`: an example id
        that does not vote)."""
        evidence = self.evidence(text) if text else {}
        return self._blend(vector, evidence, examples=examples, leave_out=leave_out)

    def _blend(
        self,
        vector: np.ndarray,
        evidence: dict[str, float],
        *,
        examples: bool = True,
        leave_out: int | None = None,
    ) -> np.ndarray:
        encoder = self.encoder
        assert encoder is not None and self.semantic is not None, "blending needs a model"
        semantic = self.semantic
        lexical = np.zeros(len(self._subtopics), dtype=np.float32)
        for key, found in evidence.items():
            lexical[self._order[key]] = 1 - math.exp(-found / self.params.strength_scale)
        keyword, prototype = self._prototypes(encoder).scores(vector)
        blend = lexical + semantic.keyword_weight * keyword + semantic.prototype_weight * prototype
        if examples:
            blend += semantic.example_weight * self.examples.votes(vector, leave_out=leave_out)
        return blend

    def ranked(
        self, blended: np.ndarray, limit: int = 3, lexical: list[TopicScore] | None = None
    ) -> list[TopicScore]:
        """The best `limit` subtopics of blended scores (ties keep taxonomy order). Confidence:
        each one's share of the softmax of the best three; for the first, at least the lexical
        confidence when the keywords name the same topic, so meaning never makes the bot less
        sure where the keywords were sure and agree (`lexical`: classify's lexical scores)."""
        assert self.semantic is not None
        order = np.argsort(-blended, kind="stable")[: max(limit, 3)]
        # Always three: a taxonomy with fewer subtopics counts its last one again, or a choice
        # of two would always be sure.
        present = min(len(order), 3)
        top = np.resize(blended[order[:3]], 3)
        top[present:] = top[present - 1]
        weights = np.exp((top - top[0]) / self.semantic.temperature)
        shares = [float(w) for w in weights / weights.sum()]
        if lexical and lexical[0].key == self._subtopics[order[0]]:
            shares[0] = max(shares[0], lexical[0].confidence)
        return [
            TopicScore(self._subtopics[i], round(shares[n] if n < 3 else 0.0, 4))
            for n, i in enumerate(order[:limit])
        ]

    def classify(
        self, text: str, *, limit: int = 3, vector: np.ndarray | None = None
    ) -> list[TopicScore]:
        """The best subtopics for `text`, best first, at most `limit`; [] when there is nothing
        to go on. `vector`: the text's embedding when the caller has it (the bot embeds off the
        event loop); else it is embedded here when a model is loaded."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        evidence = self.evidence(text)
        encoder = self.encoder
        if encoder is None or not any(c.isalnum() for c in text):
            return self._lexical(evidence, limit)
        if vector is None:
            vector = encoder.embed([text])[0]
        return self.ranked(self._blend(vector, evidence), limit, self._lexical(evidence, 1))

    def _lexical(self, evidence: dict[str, float], limit: int) -> list[TopicScore]:
        # Ties keep taxonomy order, so the same text always gives the same answer.
        ranked = sorted(
            ((k, v) for k, v in evidence.items() if v > 0),
            key=lambda kv: (-kv[1], self._order[kv[0]]),
        )
        top = ranked[: max(limit, 3)]
        mass = sum(score for _, score in top[:3])
        scale = self.params.strength_scale
        return [
            TopicScore(key, round((1 - math.exp(-score / scale)) * score / mass, 4))
            for key, score in top[:limit]
        ]
