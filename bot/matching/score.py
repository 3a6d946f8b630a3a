"""Similarity of two normalised texts, 0..1.

A soft, IDF-weighted Dice overlap of the canonical tokens (a token matches the same token fully,
a typo of it or a related word in part), blended with a character-level score for what tokens
miss, and lowered when exactly one side is negated. The constants are tuned by the bench on
SICK-NL TRAIN+TRIAL (`python bench/matching.py --tune`), never on TEST.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from bot.matching.normalize import _lexicon, canonical, hypernyms, near_synonyms

# Tuned on SICK-NL TRAIN+TRIAL (see bench/matching.py --tune).
HYPERNYM_CREDIT = 0.9  # persoon ~ man: the general word covers the specific one
SIBLING_CREDIT = 0.0  # man ~ vrouw: same kind of thing, but a different one
NEAR_CREDIT = 0.3  # snijden ~ hakken: close in meaning
TOKEN_WEIGHT = 0.8  # share of the token overlap in the blend; the rest is character-level
NEGATION_PENALTY = 0.45  # "er speelt geen hond" vs "er speelt een hond"
MIN_TYPO_LEN = 4  # shorter tokens are different words, not typos (bal / bak)
LONG_TOKEN = 8  # from this length two typos are allowed, below it one

# The lexical scale's thresholds (blended scores are put on the same scale, see blend.py).
# "Similar": the score that maximises F1 of relatedness >= 4.0 on SICK-NL TRAIN+TRIAL; "the same
# initiative" (dedupe, import): F1 of >= 4.5 (near-paraphrase). bench/matching.py --tune.
MATCH_THRESHOLD = 0.52
DUPLICATE_THRESHOLD = 0.75
# Search: a search text is short and a title longer ("speeltuin" in "Hondenspeeltuin in het
# park"), so search accepts weaker overlaps than "this is the same initiative" does.
SEARCH_MIN_SCORE = 0.3

NEGATIONS = frozenset({"geen", "niet", "nooit", "niemand"})


@cache
def _document_frequencies() -> tuple[dict[str, int], int]:
    lex = _lexicon()
    df: dict[str, int] = {}
    for word, count in lex.words.items():
        for token in canonical(word):
            df[token] = df.get(token, 0) + count
    return df, lex.n_docs


@lru_cache(maxsize=1 << 17)
def term_weight(token: str) -> float:
    """Inverse document frequency over the lexicon's corpus; an unseen token weighs most."""
    df, n_docs = _document_frequencies()
    return math.log((n_docs + 1) / (df.get(token, 0) + 1)) + 1.0


@cache
def _relations() -> dict[tuple[str, str], str]:
    """(token, other) → "hypernym" | "sibling" | "near", both ways."""
    out: dict[tuple[str, str], str] = {}
    for group in near_synonyms():
        for a in group:
            for b in group:
                if a != b:
                    out[a, b] = "near"
    for _general, specifics in hypernyms():
        for a in specifics:
            for b in specifics:
                if a != b:
                    out.setdefault((a, b), "sibling")
    for general, specifics in hypernyms():
        for specific in specifics:
            if specific != general:
                out[general, specific] = out[specific, general] = "hypernym"
    return out


@lru_cache(maxsize=1 << 18)
def _credit(token: str, other: str) -> float:
    """How much `other` counts as `token`; cached because an index query meets the same
    vocabulary in many candidates."""
    if token == other:
        return 1.0
    relation = _relations().get((token, other))
    if relation == "hypernym":
        return HYPERNYM_CREDIT
    if relation == "near":
        return NEAR_CREDIT
    if relation == "sibling":
        return SIBLING_CREDIT
    return typo_credit(token, other)


def max_typos(token: str) -> int:
    if len(token) < MIN_TYPO_LEN:
        return 0
    return 1 if len(token) < LONG_TOKEN else 2


def typo_credit(token: str, other: str) -> float:
    """1 - edits/length when `other` is within typo reach of `token` (a swap is one edit)."""
    allowed = min(max_typos(token), max_typos(other))
    if not allowed:
        return 0.0
    edits = OSA.distance(token, other, score_cutoff=allowed)
    if edits > allowed:
        return 0.0
    return 1.0 - edits / max(len(token), len(other))


def _best_credits(a: list[str], b: list[str], b_set: frozenset[str]) -> float:
    total = 0.0
    for token in a:
        if token in b_set:
            total += term_weight(token)
            continue
        best = max((_credit(token, other) for other in b), default=0.0)
        total += best * term_weight(token)
    return total


def token_overlap(a: list[str], b: list[str]) -> float:
    """Soft IDF-weighted Dice: each token's best credit on the other side, both ways."""
    return features(a, b).overlap


@dataclass(frozen=True, slots=True)
class Features:
    """What the lexical score is made of; the blend with sentence meaning reads them too."""

    covered: tuple[float, float]  # how much of a is found in b, and of b in a (IDF-weighted)
    overlap: float  # both together: soft IDF-weighted Dice
    chars: float  # character similarity of the sorted tokens
    negated: bool  # exactly one side is negated

    @property
    def score(self) -> float:
        score = TOKEN_WEIGHT * self.overlap + (1.0 - TOKEN_WEIGHT) * self.chars
        return score * (1.0 - NEGATION_PENALTY) if self.negated else score


NO_FEATURES = Features((0.0, 0.0), 0.0, 0.0, False)


def features(a: list[str], b: list[str]) -> Features:
    if not a or not b:
        return NO_FEATURES
    matched_a, matched_b = _best_credits(a, b, frozenset(b)), _best_credits(b, a, frozenset(a))
    total_a, total_b = sum(term_weight(t) for t in a), sum(term_weight(t) for t in b)
    return Features(
        covered=(matched_a / total_a, matched_b / total_b),
        overlap=(matched_a + matched_b) / (total_a + total_b),
        chars=fuzz.token_sort_ratio(" ".join(a), " ".join(b)) / 100.0,
        negated=NEGATIONS.isdisjoint(a) != NEGATIONS.isdisjoint(b),
    )


def score_tokens(a: list[str], b: list[str]) -> float:
    return features(a, b).score


def score_normalized(a: str, b: str) -> float:
    """Similarity of two outputs of `normalize()`."""
    return score_tokens(a.split(), b.split())
