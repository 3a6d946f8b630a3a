"""Lexical evidence and sentence meaning in one score, on the lexical score's scale.

The blend is a logistic model of "related" (SICK-NL relatedness >= 4.0) over the lexical
features, the cosine of the two sentence vectors and a learned diagonal metric of them (one
weight per dimension on the products u_d·v_d, SentEval-style; at query time the query vector is
scaled by the weights, so it costs one more product over the candidates), fitted on SICK-NL
TRAIN+TRIAL by `python bench/matching.py --tune`, which prints the weights below. Its
probability is put on the lexical scale by a monotone map through three anchors, so
SEARCH_MIN_SCORE, MATCH_THRESHOLD, DUPLICATE_THRESHOLD and the kern bonus mean the same
whichever scorer ran, and an initiative without a vector (stored while no model could load) is
ranked with the rest by its lexical score. Each anchor is the blend's probability that does on
the civic tuning pairs (the Pabulib Buurtbudget editions in bench/pabulib_pairs.csv) what the
lexical score does at that threshold: as many of the same pairs found for search, the same
precision for a match, and for a duplicate a precision of 0.9 (about the lexical score's there).
SICK's own thresholds do not carry over to short civic titles (the bench shows it). Dedupe
reports a pair when the blend or the words alone reach DUPLICATE_THRESHOLD (index.py,
`words_suffice`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.matching.score import DUPLICATE_THRESHOLD, MATCH_THRESHOLD, SEARCH_MIN_SCORE, Features

# (intercept, then one weight per term of `_terms`), fitted on SICK-NL TRAIN+TRIAL together with
# DIAGONAL, with the ridge 3e-4 on these terms and 1.0 on the diagonal that bench/matching.py
# --tune picks: the best cross-validated F1 on TRAIN+TRIAL (0.732, against 0.731 without the
# diagonal) among the ridges that rank the Pabulib tuning pairs no worse at MATCH_THRESHOLD (less
# ridge on the diagonal finds far fewer of the same civic ideas there).
WEIGHTS = (
    -24.918,
    21.983,  # cosine
    2.012,  # the smaller of the two coverages
    2.8798,  # the larger
    -0.573,  # characters
    1.4579,  # negated
    3.7647,  # cosine²
    -3.835,  # smaller coverage × cosine
    -1.6197,  # larger coverage × cosine
    -1.6811,  # negated × smaller coverage
    -2.1382,  # negated × cosine
    2.5644,  # smaller × larger coverage
)
# One weight per dimension of the sentence vectors (the model's 384), on the products u_d·v_d of
# the two vectors: a learned diagonal metric added to the logit, fitted with WEIGHTS (its own
# ridge, 1.0 on standardised products; less ridge fits SICK no better in cross-validation and
# ranks the civic tuning pairs worse). With vectors of another size it is left out.
# fmt: off
DIAGONAL = (
    1.886, 4.498, 3.571, 0.353, 2.074, 2.911, 3.89, -7.07,
    -11.009, -1.141, -4.137, -1.277, 0.748, 2.203, -3.196, 0.191,
    5.925, -2.259, -4.397, 1.314, 4.578, 1.953, -3.414, -3.461,
    0.151, 2.391, 2.378, -5.112, -2.142, 0.679, -2.63, -1.253,
    4.616, 0.196, -4.548, -1.033, 0.193, -0.932, -0.595, -2.422,
    -2.0, -4.721, 2.484, -1.263, -3.39, -5.451, 2.572, -1.663,
    10.548, 2.131, 5.489, 2.86, 11.102, 0.333, -1.225, 1.584,
    8.789, 3.934, 0.599, -0.53, 2.818, 0.17, -19.742, 2.539,
    1.143, 1.232, 2.683, 2.321, -3.699, -0.871, 1.943, 1.241,
    -13.727, -0.036, -4.801, 4.802, -3.042, 3.312, -0.534, 1.132,
    -4.769, 1.561, -4.893, -5.642, -0.884, -0.226, -0.695, -1.374,
    0.439, -1.263, 7.803, -2.301, 3.747, 0.61, 0.835, 11.724,
    -0.683, -3.458, 1.55, 4.313, 3.005, -1.63, -9.647, 1.021,
    0.563, -5.681, -0.237, 0.445, -0.735, -0.732, 6.479, 4.422,
    -0.678, -1.393, 2.345, 4.631, -1.855, -4.383, 1.337, -6.078,
    2.154, -0.353, 1.64, -0.175, 4.039, 1.116, 3.202, 1.069,
    -1.49, -7.541, 1.91, -4.044, -5.118, -6.628, -1.606, -1.785,
    1.278, 3.259, -0.92, 9.193, 1.427, 7.574, 0.199, -3.648,
    3.006, 2.788, 1.838, -9.3, 1.54, -0.691, 1.204, -4.771,
    -0.322, 1.106, 3.281, -1.568, 3.065, -1.588, 0.943, -4.612,
    -5.371, 0.006, 0.837, -3.573, 1.249, -5.607, -2.593, 0.025,
    1.33, 3.17, -1.659, 9.32, -3.69, 2.21, -5.609, 0.83,
    4.29, 0.389, 0.228, -5.079, -3.892, -4.81, -2.236, -0.302,
    7.892, -0.62, -2.065, -4.97, -9.161, 0.787, -1.825, -2.682,
    3.24, -1.143, 4.603, -0.596, -2.691, 0.429, -1.067, 4.098,
    -6.193, 0.516, 6.28, -9.896, -2.361, -2.233, 3.555, 2.797,
    -3.923, -1.535, 0.943, -1.633, -2.978, 0.513, -3.883, 1.725,
    -3.983, 5.145, -0.466, -4.06, -2.506, -5.096, -5.238, -0.665,
    2.252, 5.674, 4.118, 5.698, -2.778, 4.312, 10.419, 0.494,
    2.299, -3.641, 2.552, 5.28, 2.732, 1.997, -10.243, -2.769,
    1.719, -0.702, 4.028, -1.581, 1.948, -1.005, 2.382, -3.739,
    1.458, -3.342, -3.517, 2.769, -13.958, -2.15, -4.836, 3.907,
    -1.369, -4.946, 2.531, -5.185, 4.849, -5.281, 1.494, 5.579,
    0.492, 3.406, 2.513, 11.897, 5.477, -10.427, -3.732, -2.473,
    -7.982, 2.535, 1.992, 1.049, 12.296, 1.698, -2.731, -1.694,
    2.713, -2.413, 1.345, 0.448, 5.875, -2.922, -2.407, 0.701,
    1.887, 9.244, 0.677, 4.945, 1.09, -1.025, 6.208, -5.888,
    3.477, 1.474, 2.307, -0.595, 9.151, 1.267, -3.141, -3.648,
    -1.219, -3.11, 5.463, -0.725, 1.502, -1.104, -1.048, 1.682,
    -3.031, 4.088, -2.09, 1.938, -2.261, -6.875, -2.466, -0.091,
    -3.648, -5.5, 3.801, 2.973, -1.864, 3.923, -5.094, 1.276,
    7.031, -1.863, -3.265, -3.064, -0.344, -2.654, 0.329, 0.464,
    -1.817, 0.513, -3.328, -0.192, -5.145, -1.334, -2.267, -1.75,
    -12.228, -1.632, -1.89, -1.689, -0.102, -5.243, -1.302, 0.31,
    -0.096, 2.155, 2.239, 3.711, 8.91, -0.893, -0.139, 4.102,
    -6.402, 1.11, -1.803, -20.351, 2.837, -0.396, -4.042, 4.084,
    -5.734, 0.681, -3.017, -1.41, 0.175, 3.455, 4.6, -3.262,
    -1.243, 0.145, -0.342, 0.564, -1.065, 4.003, 2.369, 0.059,
)
# fmt: on
# (blend probability, lexical score) pairs the map goes through, from the Pabulib tuning pairs.
ANCHORS = ((0.106, SEARCH_MIN_SCORE), (0.223, MATCH_THRESHOLD), (0.611, DUPLICATE_THRESHOLD))


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


def metric_query(vector: np.ndarray) -> np.ndarray | None:
    """The query vector scaled by DIAGONAL: its product with a stored vector is that pair's
    `diagonal` term (one matrix product over the candidates), or None for vectors of another
    size."""
    vector = np.asarray(vector, dtype=np.float32)
    if vector.shape[-1] != len(DIAGONAL):
        return None
    return vector * np.asarray(DIAGONAL, dtype=np.float32)


def diagonal_terms(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The diagonal metric's term of each pair of rows of `u` and `v` (0 for another size)."""
    u, v = np.atleast_2d(u), np.atleast_2d(v)
    if u.shape[1] != len(DIAGONAL):
        return np.zeros(len(u))
    return (u * v) @ np.asarray(DIAGONAL, dtype=np.float64)


def probability(
    cosine: Sequence[float], lexical: Sequence[Features], diagonal: Sequence[float] | None = None
) -> np.ndarray:
    """P(related) of each pair from its cosine, its diagonal-metric term (`diagonal_terms()`; None
    leaves it out) and lexical features (the fitted model)."""
    weights = np.asarray(WEIGHTS, dtype=np.float64)
    logits = weights[0] + _terms(np.asarray(cosine, dtype=np.float32), lexical) @ weights[1:]
    if diagonal is not None:
        logits = logits + np.asarray(diagonal, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-logits))


def on_lexical_scale(
    probabilities: np.ndarray, anchors: Sequence[tuple[float, float]] | None = None
) -> np.ndarray:
    """The blend's probabilities as lexical-scale scores (piecewise linear through ANCHORS)."""
    anchors = ANCHORS if anchors is None else anchors
    xs = [0.0, *(p for p, _ in anchors), 1.0]
    ys = [0.0, *(s for _, s in anchors), 1.0]
    return np.interp(probabilities, xs, ys)


def scores(
    cosine: Sequence[float], lexical: Sequence[Features], diagonal: Sequence[float] | None = None
) -> np.ndarray:
    """Blended scores, 0..1, on the lexical scale."""
    if not len(cosine):
        return np.zeros(0)
    return on_lexical_scale(probability(cosine, lexical, diagonal))
