"""Lexical evidence and sentence meaning in one score, on the lexical score's scale.

The blend is a logistic model of "related" (SICK-NL relatedness >= 4.0) over the lexical
features and the cosine of the two sentence vectors, fitted on SICK-NL TRAIN+TRIAL by
`python bench/matching.py --tune`, which prints the weights below. Its probability is put on
the lexical scale by a monotone map through three anchors, so SEARCH_MIN_SCORE,
MATCH_THRESHOLD, DUPLICATE_THRESHOLD and the kern bonus mean the same whichever scorer ran, and
an initiative without a vector (stored while no model could load) is ranked with the rest by
its lexical score. Each anchor is the blend's probability that does on the civic tuning pairs
(the Pabulib Buurtbudget editions in bench/pabulib_pairs.csv) what the lexical score does at
that threshold: as many of the same pairs found for search, the same precision for a match, and
for a duplicate a precision of 0.9 (about the lexical score's there). SICK's own thresholds do
not carry over to short civic titles (the bench shows it). Dedupe reports a pair when the blend
or the words alone reach DUPLICATE_THRESHOLD (index.py, `words_suffice`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.matching.score import DUPLICATE_THRESHOLD, MATCH_THRESHOLD, SEARCH_MIN_SCORE, Features

# (intercept, then one weight per term of `_terms`), fitted on SICK-NL TRAIN+TRIAL with the
# ridge 3e-4 that bench/matching.py --tune picks: the best cross-validated F1 on TRAIN+TRIAL
# among the ridges that rank the Pabulib tuning pairs no worse at MATCH_THRESHOLD (less ridge fits
# SICK better, up to F1 0.737 against 0.731 in cross-validation, but finds half as many of the
# same civic ideas at MATCH_THRESHOLD).
WEIGHTS = (
    -24.8223,
    22.8686,  # cosine
    2.5176,  # the smaller of the two coverages
    3.2365,  # the larger
    -0.4975,  # characters
    1.7462,  # negated
    2.7619,  # cosine²
    -4.449,  # smaller coverage × cosine
    -2.0837,  # larger coverage × cosine
    -1.6891,  # negated × smaller coverage
    -2.4582,  # negated × cosine
    2.7376,  # smaller × larger coverage
)
# (blend probability, lexical score) pairs the map goes through, from the Pabulib tuning pairs.
ANCHORS = ((0.108, SEARCH_MIN_SCORE), (0.232, MATCH_THRESHOLD), (0.661, DUPLICATE_THRESHOLD))


def _terms(cosine: np.ndarray, lexical: Sequence[Features]) -> np.ndarray:
    low = np.array([min(f.covered) for f in lexical], dtype=np.float32)
    high = np.array([max(f.covered) for f in lexical], dtype=np.float32)
    chars = np.array([f.chars for f in lexical], dtype=np.float32)
    negated = np.array([f.negated for f in lexical], dtype=np.float32)
    return np.stack(
        [
            cosine,
            low,
            high,
            chars,
            negated,
            cosine * cosine,
            low * cosine,
            high * cosine,
            negated * low,
            negated * cosine,
            low * high,
        ],
        axis=1,
    )


def probability(cosine: Sequence[float], lexical: Sequence[Features]) -> np.ndarray:
    """P(related) of each pair from its cosine and lexical features (the fitted model)."""
    weights = np.asarray(WEIGHTS, dtype=np.float64)
    logits = weights[0] + _terms(np.asarray(cosine, dtype=np.float32), lexical) @ weights[1:]
    return 1.0 / (1.0 + np.exp(-logits))


def on_lexical_scale(
    probabilities: np.ndarray, anchors: Sequence[tuple[float, float]] | None = None
) -> np.ndarray:
    """The blend's probabilities as lexical-scale scores (piecewise linear through ANCHORS)."""
    anchors = ANCHORS if anchors is None else anchors
    xs = [0.0, *(p for p, _ in anchors), 1.0]
    ys = [0.0, *(s for _, s in anchors), 1.0]
    return np.interp(probabilities, xs, ys)


def scores(cosine: Sequence[float], lexical: Sequence[Features]) -> np.ndarray:
    """Blended scores, 0..1, on the lexical scale."""
    if not len(cosine):
        return np.zeros(0)
    return on_lexical_scale(probability(cosine, lexical))
