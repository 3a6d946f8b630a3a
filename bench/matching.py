"""Benchmark of bot.matching, lexical alone beside blended with sentence meaning, on shared/data.

    python bench/matching.py [--data DIR] [--tune] [--queries N] [--baseline-queries N]

1. SICK-NL: Spearman of each scorer with human relatedness, and F1 of "similar"
   (relatedness >= 4.0) at the threshold that is best on TRAIN+TRIAL, reported on TEST.
   `--tune` first grid-searches the lexical constants and fits the blend's weights on
   TRAIN+TRIAL only, and puts the blend on the lexical scale (the anchors of blend.py) with the
   Pabulib tuning pairs; it prints what to paste into score.py and blend.py.
2. Same-initiative pairs: bench/pabulib_pairs.csv (Pabulib titles; the Buurtbudget editions'
   pairs tune, the Begroot and Assen ones report) and bench/velsen_pairs.csv (title and
   description, report only): best F1, and P/R/F1 at the bot's thresholds; then
   `burgerbeest dedupe` over the report editions' titles and over the Velsen-style ideas,
   with the share of the labelled same pairs it finds at DUPLICATE_THRESHOLD.
3. Search: 100,000 initiatives generated from the Pabulib NL titles with variations (typos,
   inflections, word order, filler words, kern), each with a stand-in vector near the real
   vector of its title (embedding 100,000 texts takes an hour; the stand-ins keep the shape of
   the space, which the search's cost depends on); top-5 query time with and without a query
   vector, index build time, memory, recall@5; the vector search alone as the table grows
   (where a numpy product stops being enough), and what embedding a saved initiative and a
   query costs.
Quality figures use real embeddings, cached under /tmp (not in the repository) by the model's
fingerprint. The last line printed is one JSON object with all figures: `lexical_` and
`blended_` side by side, the naive rapidfuzz scan's prefixed `baseline_`.
"""

from __future__ import annotations

import os

# One BLAS thread, as the bot runs with (bot/__init__.py): set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import csv
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from bot.matching import blend, score
from bot.matching.dedupe import find_duplicates
from bot.matching.index import MatchIndex
from bot.matching.normalize import normalize
from bot.matching.score import DUPLICATE_THRESHOLD, MATCH_THRESHOLD, SEARCH_MIN_SCORE
from bot.matching.vectors import VectorTable, initiative_texts, initiative_vector
from bot.semantic import Encoder, fingerprint, get_encoder

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HERE = Path(__file__).resolve().parent
CACHE = Path("/tmp/burgerbeest-bench")
KERNEN = (
    "IJmuiden",
    "Velsen-Noord",
    "Velsen-Zuid",
    "Driehuis",
    "Santpoort-Noord",
    "Santpoort-Zuid",
    "Velserbroek",
)
SIMILAR = 4.0  # SICK relatedness from which a pair counts as "similar"
SAME = 4.5  # ... and as "the same idea" (near-paraphrase), for the dedupe threshold
# Precision on the Pabulib tuning pairs that a reported duplicate must reach (the anchor of
# DUPLICATE_THRESHOLD on the blend's scale).
DUPLICATE_PRECISION = 0.9


# --- statistics ----------------------------------------------------------------------------


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / var if var else 0.0


def prf(scores: Sequence[float], gold: Sequence[bool], threshold: float) -> tuple[float, ...]:
    tp = sum(1 for s, g in zip(scores, gold, strict=True) if s >= threshold and g)
    predicted = sum(1 for s in scores if s >= threshold)
    positives = sum(gold)
    precision = tp / predicted if predicted else 0.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_threshold(scores: Sequence[float], gold: Sequence[bool]) -> tuple[float, float]:
    """The threshold with the highest F1 (midway between two scores), and that F1."""
    pairs = sorted(zip(scores, gold, strict=True), reverse=True)
    positives = sum(gold)
    tp = 0
    best_f1, best_at = 0.0, 1.0
    for i, (value, is_gold) in enumerate(pairs):
        tp += is_gold
        if i + 1 < len(pairs) and pairs[i + 1][0] == value:
            continue
        f1 = 2 * tp / (i + 1 + positives)
        if f1 > best_f1:
            below = pairs[i + 1][0] if i + 1 < len(pairs) else 0.0
            best_f1, best_at = f1, (value + below) / 2
    return best_at, best_f1


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # only off Linux

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- SICK-NL -------------------------------------------------------------------------------


@dataclass
class Sick:
    a: list[str]  # raw sentences
    b: list[str]
    na: list[list[str]]  # normalised tokens
    nb: list[list[str]]
    gold: list[float]
    split: list[str]

    def indices(self, *splits: str) -> list[int]:
        return [i for i, s in enumerate(self.split) if s in splits]


def load_sick(data: Path) -> Sick:
    with (data / "sick_nl.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    a = [r["sentence_a"] for r in rows]
    b = [r["sentence_b"] for r in rows]
    return Sick(
        a,
        b,
        [normalize(t).split() for t in a],
        [normalize(t).split() for t in b],
        [float(r["relatedness"]) for r in rows],
        [r["split"] for r in rows],
    )


def evaluate(
    scores: list[float], sick: Sick, label: str, tuned_on: tuple[str, ...] = ("TRAIN", "TRIAL")
) -> dict[str, float]:
    dev, test = sick.indices(*tuned_on), sick.indices("TEST")
    threshold, dev_f1 = best_threshold(
        [scores[i] for i in dev], [sick.gold[i] >= SIMILAR for i in dev]
    )
    same_at, _ = best_threshold([scores[i] for i in dev], [sick.gold[i] >= SAME for i in dev])
    test_scores = [scores[i] for i in test]
    test_gold = [sick.gold[i] for i in test]
    precision, recall, f1 = prf(test_scores, [g >= SIMILAR for g in test_gold], threshold)
    dev_rho = spearman([scores[i] for i in dev], [sick.gold[i] for i in dev])
    rho = spearman(test_scores, test_gold)
    print(
        f"{label:>9} SICK-NL  train+trial: Spearman {dev_rho:.4f}, F1 {dev_f1:.4f} at "
        f"{threshold:.4f} | TEST: Spearman {rho:.4f}, P {precision:.4f} R {recall:.4f} "
        f"F1 {f1:.4f}"
    )
    return {
        "sick_train_trial_spearman": round(dev_rho, 4),
        "sick_threshold": round(threshold, 4),
        "sick_same_threshold": round(same_at, 4),
        "sick_test_spearman": round(rho, 4),
        "sick_test_precision": round(precision, 4),
        "sick_test_recall": round(recall, 4),
        "sick_test_f1": round(f1, 4),
    }


def engine_scores(sick: Sick) -> list[float]:
    return [score.score_tokens(x, y) for x, y in zip(sick.na, sick.nb, strict=True)]


def baseline_scores(sick: Sick) -> list[float]:
    return [
        fuzz.token_set_ratio(x, y, processor=str.lower) / 100
        for x, y in zip(sick.a, sick.b, strict=True)
    ]


TUNABLE = {
    "HYPERNYM_CREDIT": (0.0, 0.3, 0.5, 0.7, 0.9),
    "SIBLING_CREDIT": (0.0, 0.1, 0.2, 0.3),
    "NEAR_CREDIT": (0.0, 0.3, 0.5, 0.7, 0.9),
    "NEGATION_PENALTY": (0.35, 0.45, 0.5, 0.55, 0.65),
    "TOKEN_WEIGHT": (0.6, 0.7, 0.8, 0.9),
}


def tune(sick: Sick, rounds: int = 2) -> None:
    """Coordinate search of the scoring constants on TRAIN+TRIAL: each in turn takes the value
    with the best Spearman + F1 (at its best threshold), the others held; prints the result."""
    dev = sick.indices("TRAIN", "TRIAL")
    gold = [sick.gold[i] for i in dev]
    similar = [g >= SIMILAR for g in gold]

    def objective() -> tuple[float, float]:
        score._credit.cache_clear()
        scores = [score.score_tokens(sick.na[i], sick.nb[i]) for i in dev]
        return spearman(scores, gold), best_threshold(scores, similar)[1]

    saved = {name: getattr(score, name) for name in TUNABLE}
    rho, f1 = objective()
    print(f"tuning on SICK-NL TRAIN+TRIAL, start: Spearman {rho:.4f} F1 {f1:.4f}")
    for _ in range(rounds):
        for name, values in TUNABLE.items():
            results = []
            for value in values:
                setattr(score, name, value)
                results.append((sum(objective()), value))
            best = max(results)
            setattr(score, name, best[1])
            print(f"  {name} = {best[1]}  (Spearman + F1 {best[0]:.4f})")
    rho, f1 = objective()
    tuned = ", ".join(f"{name}={getattr(score, name)}" for name in TUNABLE)
    print(f"tuned: Spearman {rho:.4f} F1 {f1:.4f}: {tuned}")
    for name, value in saved.items():  # the figures below are for the constants as committed
        setattr(score, name, value)
    score._credit.cache_clear()


# --- synthetic initiatives -----------------------------------------------------------------

FILLERS_BEFORE = ("", "", "", "Meer ", "Nieuwe ", "Graag ", "Idee: ", "Voorstel: ")
FILLERS_AFTER = ("", "", "", " voor de buurt", " in onze wijk", " graag!", " svp", " 2025")


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]  # drop a letter
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap two
    if kind == 2:
        return word[:i] + word[i] + word[i:]  # double one
    return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]  # replace one


def _inflect(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    if word.endswith("en"):
        return word[:-2]
    if word.endswith(("je", "s")):
        return word + "s" if word.endswith("je") else word[:-1]
    return word + rng.choice(("en", "s", "je", "jes"))


def vary(title: str, rng: random.Random) -> str:
    words = title.split()
    for i, word in enumerate(words):
        roll = rng.random()
        if roll < 0.08:
            words[i] = _typo(word, rng)
        elif roll < 0.16:
            words[i] = _inflect(word, rng)
    if len(words) > 1 and rng.random() < 0.25:
        rng.shuffle(words)
    if rng.random() < 0.3:
        words = [w.lower() for w in words]
    return rng.choice(FILLERS_BEFORE) + " ".join(words) + rng.choice(FILLERS_AFTER)


def load_titles(data: Path) -> list[str]:
    with (data / "pabulib_nl_projects.csv").open(encoding="utf-8", newline="") as fh:
        return [r["name"].strip() for r in csv.DictReader(fh) if r["name"].strip()]


@dataclass
class Corpus:
    texts: list[str]
    kerns: list[str]
    base: list[int]  # index of the Pabulib title each initiative was made from


def make_corpus(titles: list[str], size: int, rng: random.Random) -> Corpus:
    texts, kerns, base = [], [], []
    for n in range(size):
        t = n % len(titles)  # every title about equally often
        texts.append(titles[t] if n < len(titles) else vary(titles[t], rng))
        kerns.append(rng.choice(KERNEN))
        base.append(t)
    return Corpus(texts, kerns, base)


def time_queries(
    run: Callable[[str, str], list[int]],
    queries: list[tuple[str, str, int]],
    corpus: Corpus,
    titles: list[str],
) -> tuple[list[float], float]:
    """Milliseconds per query, and recall@5: a hit is an initiative made from the same title
    (or from a title with the same words: Pabulib repeats titles across districts)."""
    key = [" ".join(sorted(normalize(t).split())) for t in titles]
    times, hits = [], 0
    for text, kern, t in queries:
        start = time.perf_counter()
        found = run(text, kern)
        times.append((time.perf_counter() - start) * 1000)
        hits += any(key[corpus.base[d]] == key[t] for d in found)
    return times, hits / len(queries)


# --- sentence vectors ----------------------------------------------------------------------


def embed_all(encoder: Encoder, texts: set[str]) -> dict[str, np.ndarray]:
    """Vectors of `texts`, from the cache under /tmp where it has them (by model fingerprint)."""
    path = CACHE / f"{fingerprint(encoder)}.npz"
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            known = dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))
    missing = sorted(texts - known.keys())
    if missing:
        print(f"embedding {len(missing):,} texts (cached in {path} for the next run) …")
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            known.update(zip(batch, encoder.embed(batch), strict=True))
        CACHE.mkdir(parents=True, exist_ok=True)
        texts_all = sorted(known)
        np.savez(path, texts=np.array(texts_all), vectors=np.stack([known[t] for t in texts_all]))
    return known


def vector_of(texts: tuple[str, ...], vectors: dict[str, np.ndarray]) -> np.ndarray:
    """An initiative's vector as the bot makes it from its texts' vectors."""
    return initiative_vector(np.stack([vectors[t] for t in texts]))


def cosines(a: Sequence[str], b: Sequence[str], vectors: dict[str, np.ndarray]) -> np.ndarray:
    return np.array([float(vectors[x] @ vectors[y]) for x, y in zip(a, b, strict=True)])


def products(a: Sequence[str], b: Sequence[str], vectors: dict[str, np.ndarray]) -> np.ndarray:
    """u_d·v_d of each pair, one row per pair: what blend.DIAGONAL weighs."""
    return np.stack([vectors[x] for x in a]) * np.stack([vectors[y] for y in b])


@dataclass
class Scored:
    """Two scorers on the same pairs: the lexical score, and the blend on the lexical scale."""

    lexical: list[float]
    blended: list[float]
    probability: np.ndarray  # the blend before it is put on the lexical scale


def score_pairs(
    na: Sequence[list[str]], nb: Sequence[list[str]], cos: np.ndarray, uv: np.ndarray
) -> Scored:
    """Both scorers on these pairs; `uv`: the products of their vectors (`products()`)."""
    features = [score.features(x, y) for x, y in zip(na, nb, strict=True)]
    diagonal = uv.astype(np.float64) @ np.asarray(blend.DIAGONAL, dtype=np.float64)
    p = blend.probability(cos, features, diagonal) if len(features) else np.zeros(0)
    return Scored([f.score for f in features], blend.on_lexical_scale(p).tolist(), p)


# Ridges tried for the blend's logistic fit, as (ridge on blend._terms, ridge on the diagonal
# metric's products or None for no diagonal); the first is the one committed before the
# diagonal. A smaller ridge fits SICK better in cross-validation but ranks the civic tuning pairs
# worse, so the ridges used are those with the best cross-validated F1 on SICK TRAIN+TRIAL among
# those whose F1 at MATCH_THRESHOLD on the Pabulib tuning pairs is no lower than the first's.
RIDGES = (
    *((ridge, None) for ridge in (1e-3, 3e-4, 1e-4, 1e-5, 0.0)),
    *((3e-4, diagonal) for diagonal in (3.0, 2.0, 1.0, 0.5, 0.3, 0.1)),
)


def _logistic(terms: np.ndarray, y: np.ndarray, ridge: float | np.ndarray) -> tuple[float, ...]:
    """Logistic regression by Newton's method on standardised terms: intercept, weights
    (`ridge`: one for all terms, or one per term)."""
    mean, sd = terms.mean(axis=0), terms.std(axis=0)
    sd[sd == 0] = 1.0
    x = np.hstack([np.ones((len(y), 1)), (terms - mean) / sd])
    w = np.zeros(x.shape[1])
    penalty = np.diag(np.r_[0.0, np.broadcast_to(ridge, (x.shape[1] - 1,))])
    for _ in range(40):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        gradient = x.T @ (p - y) / len(y) + penalty @ w
        hessian = (x * (p * (1 - p))[:, None]).T @ x / len(y) + penalty
        w -= np.linalg.solve(hessian, gradient)
    weights = w[1:] / sd
    return (float(w[0] - (w[1:] * mean / sd).sum()), *map(float, weights))


def _blend_terms(
    sick: Sick, cos: np.ndarray, uv: np.ndarray, rows: list[int], diagonal: bool
) -> tuple[np.ndarray, np.ndarray]:
    features = [score.features(sick.na[i], sick.nb[i]) for i in rows]
    terms = blend._terms(cos[rows].astype(np.float32), features).astype(np.float64)
    if diagonal:
        terms = np.hstack([terms, uv[rows].astype(np.float64)])
    return terms, np.array([sick.gold[i] >= SIMILAR for i in rows], dtype=np.float64)


def _ridge_of(ridges: tuple[float, float | None], dim: int) -> np.ndarray:
    """Per-term ridges: blend._terms' and, with a diagonal, the products'."""
    terms, diagonal = ridges
    extra = np.full(0 if diagonal is None else dim, diagonal or 0.0)
    return np.r_[np.full(len(blend.WEIGHTS) - 1, terms), extra].astype(np.float64)


def cross_validate(
    sick: Sick, cos: np.ndarray, uv: np.ndarray, folds: int = 5, seeds: int = 3
) -> dict[tuple[float, float | None], float]:
    """Each ridge of RIDGES with its cross-validated F1 on TRAIN+TRIAL (never TEST)."""
    dev = np.array(sick.indices("TRAIN", "TRIAL"))
    gold = np.array(sick.gold)[dev]
    results = []
    for ridges in RIDGES:
        terms, y = _blend_terms(sick, cos, uv, dev.tolist(), ridges[1] is not None)
        ridge = _ridge_of(ridges, uv.shape[1])
        f1s, rhos = [], []
        for seed in range(seeds):
            parts = np.array_split(np.random.default_rng(seed).permutation(len(dev)), folds)
            for k in range(folds):
                held = parts[k]
                fit = np.concatenate([parts[j] for j in range(folds) if j != k])
                w = np.asarray(_logistic(terms[fit], y[fit], ridge))
                logit = w[0] + terms @ w[1:]
                at, _ = best_threshold(logit[fit].tolist(), (y[fit] > 0).tolist())
                f1s.append(prf(logit[held].tolist(), (y[held] > 0).tolist(), at)[2])
                rhos.append(spearman(logit[held].tolist(), gold[held].tolist()))
        print(
            f"  blend ridges {ridges}: cross-validated on TRAIN+TRIAL, Spearman "
            f"{statistics.fmean(rhos):.4f}, F1 {statistics.fmean(f1s):.4f}"
        )
        results.append((ridges, statistics.fmean(f1s)))
    return dict(results)


def fit_blend(
    sick: Sick, cos: np.ndarray, uv: np.ndarray, ridges: tuple[float, float | None]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Logistic regression of relatedness >= 4.0 on blend.py's terms and (with a diagonal
    ridge) the products u_d·v_d, on TRAIN+TRIAL only: blend.WEIGHTS and blend.DIAGONAL."""
    terms, y = _blend_terms(sick, cos, uv, sick.indices("TRAIN", "TRIAL"), ridges[1] is not None)
    w = _logistic(terms, y, _ridge_of(ridges, uv.shape[1]))
    n = len(blend.WEIGHTS)
    diagonal = w[n:] if ridges[1] is not None else (0.0,) * uv.shape[1]
    return tuple(w[:n]), tuple(diagonal)


def put_on_lexical_scale(pairs: Pairs, vectors: dict[str, np.ndarray]) -> tuple[tuple, float]:
    """blend.ANCHORS for the current blend.WEIGHTS from the tuning pairs, and the F1 at
    MATCH_THRESHOLD on them that these anchors give."""
    tuned = score_labelled(pairs, vectors)
    anchors = tuple(
        (anchor(tuned.probability, tuned.lexical, pairs.same, at), at)
        for at in (SEARCH_MIN_SCORE, MATCH_THRESHOLD, DUPLICATE_THRESHOLD)
    )
    scaled = blend.on_lexical_scale(tuned.probability, anchors).tolist()
    return anchors, prf(scaled, pairs.same, MATCH_THRESHOLD)[2]


def anchor(p: np.ndarray, lexical: Sequence[float], gold: Sequence[bool], at: float) -> float:
    """The blend probability that does what the lexical score does at `at` on these labelled
    pairs, with the property its use needs kept: for the search minimum the highest probability
    that finds as many of the same pairs (a search must not find less), for a match the lowest
    that is as precise (a match must not be wrong more often), for a duplicate the lowest that is
    right DUPLICATE_PRECISION of the time (the lexical score is about as precise at
    DUPLICATE_THRESHOLD; asking for its exact precision, 18 of 19, costs the blend recall)."""
    order = np.argsort(-p)
    hits = np.cumsum(np.asarray(gold)[order])
    precision_at, recall_at, _ = prf(lexical, gold, at)
    if at == DUPLICATE_THRESHOLD:
        precision_at = DUPLICATE_PRECISION
    if at == SEARCH_MIN_SCORE:
        last = int(np.flatnonzero(hits / sum(gold) >= recall_at).min())
    else:
        precision = hits / np.arange(1, len(order) + 1)
        last = int(np.flatnonzero(precision >= precision_at).max())
    below = p[order[last + 1]] if last + 1 < len(order) else 0.0
    return round(float(p[order[last]] + below) / 2, 3)


# --- same-initiative pairs ---------------------------------------------------------------


@dataclass
class Pairs:
    name: str
    a: list[str]  # what the lexical score reads (titles)
    b: list[str]
    va: list[tuple[str, ...]]  # what the vectors are of (title, and description if any)
    vb: list[tuple[str, ...]]
    same: list[bool]

    def texts(self) -> set[str]:
        return {text for item in (*self.va, *self.vb) for text in item}


def _read_labels(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def pabulib_rows(data: Path) -> dict[str, dict[str, str]]:
    """Pabulib projects by the key bench/pabulib_pairs.csv uses."""
    with (data / "pabulib_nl_projects.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["name"].strip()]
    return {
        f"{r['source_file'].removeprefix('Netherlands_').removesuffix('.pb')}:{r['project_id']}": r
        for r in rows
    }


def tuning_edition(row: dict[str, str]) -> bool:
    return row["edition"].startswith("Buurtbudget")


def load_pairs(data: Path) -> tuple[Pairs, Pairs, Pairs]:
    """Pabulib pairs of the tuning editions, of the report editions, and the Velsen-style pairs."""
    projects = pabulib_rows(data)
    split: dict[bool, Pairs] = {
        tuning: Pairs("pabulib_" + ("tune" if tuning else "report"), [], [], [], [], [])
        for tuning in (True, False)
    }
    for label in _read_labels(HERE / "pabulib_pairs.csv"):
        a, b = projects[label["project_a"]], projects[label["project_b"]]
        if tuning_edition(a) != tuning_edition(b):
            continue
        pairs = split[tuning_edition(a)]
        title_a, title_b = a["name"].strip(), b["name"].strip()
        pairs.a.append(title_a)
        pairs.b.append(title_b)
        pairs.va.append((title_a,))
        pairs.vb.append((title_b,))
        pairs.same.append(label["same"] == "1")
    velsen = Pairs("velsen", [], [], [], [], [])
    for row in _read_labels(HERE / "velsen_pairs.csv"):
        velsen.a.append(row["title_a"])
        velsen.b.append(row["title_b"])
        velsen.va.append(tuple(initiative_texts(row["title_a"], row["description_a"])))
        velsen.vb.append(tuple(initiative_texts(row["title_b"], row["description_b"])))
        velsen.same.append(row["same"] == "1")
    return split[True], split[False], velsen


def score_labelled(pairs: Pairs, vectors: dict[str, np.ndarray]) -> Scored:
    uv = np.stack([vector_of(a, vectors) for a in pairs.va]) * np.stack(
        [vector_of(b, vectors) for b in pairs.vb]
    )
    return score_pairs(
        [normalize(t).split() for t in pairs.a],
        [normalize(t).split() for t in pairs.b],
        uv.sum(axis=1),
        uv,
    )


def report_pairs(pairs: Pairs, scored: Scored) -> dict[str, float]:
    out: dict[str, float] = {}
    line = f"{pairs.name:>15} pairs ({sum(pairs.same)} same of {len(pairs.same)}):"
    for name, values in (("lexical", scored.lexical), ("blended", scored.blended)):
        _, best = best_threshold(values, pairs.same)
        p, r, f1 = prf(values, pairs.same, MATCH_THRESHOLD)
        out |= {
            f"{name}_{pairs.name}_best_f1": round(best, 4),
            f"{name}_{pairs.name}_f1": round(f1, 4),
            f"{name}_{pairs.name}_precision": round(p, 4),
            f"{name}_{pairs.name}_recall": round(r, 4),
        }
        line += f" {name} best F1 {best:.3f}, at MATCH P {p:.3f} R {r:.3f} F1 {f1:.3f};"
    print(line.rstrip(";"))
    return out


def dedupe_recall(
    name: str,
    rows: list[tuple[str, str, str | None]],
    vectors: list[np.ndarray],
    same: set[tuple[str, str]],
    labelled: set[tuple[str, str]],
) -> dict[str, float | None]:
    """`find_duplicates` over `rows` at DUPLICATE_THRESHOLD, lexical and blended: the share of
    the labelled same pairs it reports, and how many of the labelled pairs it reports are same."""
    out: dict[str, float] = {}
    line = f"{name:>15} dedupe at {DUPLICATE_THRESHOLD} ({len(rows)} rows, {len(same)} same):"
    for scorer, given in (("lexical", None), ("blended", vectors)):
        found = {tuple(sorted((a, b))) for a, b, _ in find_duplicates(rows, vectors=given)}
        recall = len(found & same) / len(same)
        judged = found & labelled  # the other pairs found were never labelled
        precision = round(len(judged & same) / len(judged), 4) if judged else None
        out |= {
            f"{scorer}_{name}_dedupe_recall": round(recall, 4),
            f"{scorer}_{name}_dedupe_precision": precision,
            f"{scorer}_{name}_dedupe_pairs": len(found),
        }
        line += (
            f" {scorer} recall {recall:.3f} (of the labelled pairs found, "
            f"{'n/a' if precision is None else f'{precision:.3f}'} same; {len(found)} pairs);"
        )
    print(line.rstrip(";"))
    return out


def dedupe_figures(data: Path, velsen: Pairs, vectors: dict[str, np.ndarray]) -> dict[str, float]:
    projects = pabulib_rows(data)
    out: dict[str, float] = {}
    # The tuning editions first: DUPLICATE_THRESHOLD's precision is chosen there.
    for name, tuning in (("pabulib_tune", True), ("pabulib_report", False)):
        split = {key: row for key, row in projects.items() if tuning_edition(row) == tuning}
        labels = [
            (tuple(sorted((r["project_a"], r["project_b"]))), r["same"] == "1")
            for r in _read_labels(HERE / "pabulib_pairs.csv")
            if r["project_a"] in split and r["project_b"] in split
        ]
        keys = sorted(split)
        out |= dedupe_recall(
            name,
            [(key, split[key]["name"].strip(), None) for key in keys],
            [vectors[split[key]["name"].strip()] for key in keys],
            {pair for pair, same in labels if same},
            {pair for pair, _ in labels},
        )
    # The Velsen-style ideas as an import would store them: words from the title, meaning
    # from title and description.
    side_a = list(zip(velsen.a, velsen.va, strict=True))
    side_b = list(zip(velsen.b, velsen.vb, strict=True))
    ideas = sorted(set(side_a) | set(side_b))
    key = {idea: str(n) for n, idea in enumerate(ideas)}
    pairs = [
        (tuple(sorted((key[a], key[b]))), same)
        for a, b, same in zip(side_a, side_b, velsen.same, strict=True)
    ]
    out |= dedupe_recall(
        "velsen",
        [(key[idea], idea[0], None) for idea in ideas],
        [vector_of(idea[1], vectors) for idea in ideas],
        {pair for pair, same in pairs if same},
        {pair for pair, _ in pairs},
    )
    return out


# --- cost of the vector search ---------------------------------------------------------------


def unit_vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def near(base: np.ndarray, rng: np.random.Generator, spread: float = 0.33) -> np.ndarray:
    """Unit vectors around the rows of `base` (cosine about 0.95 with them): stand-ins for
    the vectors of variations of a title, without embedding 100,000 texts."""
    noise = rng.standard_normal(base.shape, dtype=np.float32) * (spread / math.sqrt(base.shape[1]))
    vectors = base + noise
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def nearest_ms(table: VectorTable, queries: np.ndarray) -> list[float]:
    table.nearest(queries[0], 40)
    times = []
    for query in queries:
        start = time.perf_counter()
        table.nearest(query, 40)
        times.append((time.perf_counter() - start) * 1000)
    return times


def scaling(dim: int, rng: np.random.Generator, sizes=(100_000, 200_000, 400_000)) -> dict:
    """p50 of the vector search alone as the table grows (random vectors; its cost does not
    depend on what they mean), and the size at which it passes 5 ms (linear in the rows)."""
    out: dict[str, float] = {}
    queries = unit_vectors(200, dim, rng)
    table = VectorTable(dim)
    p50s = []
    for size in sizes:
        block = unit_vectors(size - len(table), dim, rng)
        for n, vector in enumerate(block, start=len(table)):
            table.set(n, vector)
        p50 = percentile(nearest_ms(table, queries), 0.5)
        p50s.append(p50)
        out[f"vector_search_ms_p50_{size}"] = round(p50, 3)
        print(f"   vector search alone among {size:,}: p50 {p50:.3f} ms")
    slope = (p50s[-1] - p50s[0]) / (sizes[-1] - sizes[0])
    limit = sizes[0] + (5.0 - p50s[0]) / slope if slope > 0 else float("inf")
    out["vector_search_5ms_at"] = int(round(limit, -4)) if math.isfinite(limit) else -1
    print(f"   a numpy product over the projection passes 5 ms p50 at about {limit:,.0f} rows")
    return out


def embedding_cost(encoder: Encoder, velsen: Pairs) -> dict[str, float]:
    """Milliseconds to embed one saved initiative (title and description) and one query."""
    ideas = sorted(set(velsen.va) | set(velsen.vb))[:40]
    titles = [(title,) for title in sorted(set(velsen.a) | set(velsen.b))[:40]]
    out = {}
    for name, texts in (("embed_initiative_ms", ideas), ("embed_query_ms", titles)):
        encoder.embed(list(texts[0]))
        times = []
        for parts in texts:  # as the bot does: one call for the title and the description
            start = time.perf_counter()
            initiative_vector(encoder.embed(list(parts)))
            times.append((time.perf_counter() - start) * 1000)
        out[name] = round(percentile(times, 0.5), 2)
    print(
        f"   embedding one saved initiative: p50 {out['embed_initiative_ms']} ms; one query "
        f"(a title): {out['embed_query_ms']} ms (one thread, off the event loop)"
    )
    return out


# --- main ----------------------------------------------------------------------------------


def quality(
    args: argparse.Namespace, encoder: Encoder, titles: list[str]
) -> tuple[dict[str, float | int], Pairs, np.ndarray]:
    """SICK-NL, the pairs and dedupe (tuning first with --tune); also what the timing needs of
    it: the Velsen-style pairs and the vectors of the Pabulib titles. What else it loads is
    freed before the 100,000 initiatives are built."""
    out: dict[str, float | int] = {}
    sick = load_sick(args.data)
    tune_pairs, report_pairs_, velsen = load_pairs(args.data)
    vectors = embed_all(
        encoder,
        {
            *sick.a,
            *sick.b,
            *titles,
            *(t for pairs in (tune_pairs, report_pairs_, velsen) for t in pairs.texts()),
        },
    )
    sick_cos = cosines(sick.a, sick.b, vectors)
    sick_uv = products(sick.a, sick.b, vectors)
    if args.tune:
        tune(sick)
        cv_f1 = cross_validate(sick, sick_cos, sick_uv)
        fits = []
        for ridges in RIDGES:
            blend.WEIGHTS, blend.DIAGONAL = fit_blend(sick, sick_cos, sick_uv, ridges)
            blend.ANCHORS, civic_f1 = put_on_lexical_scale(tune_pairs, vectors)
            print(f"  blend ridges {ridges}: Pabulib tuning pairs F1 at MATCH {civic_f1:.4f}")
            fits.append((ridges, blend.WEIGHTS, blend.DIAGONAL, blend.ANCHORS, civic_f1))
        allowed = [fit for fit in fits if fit[4] >= fits[0][4]]
        ridges, blend.WEIGHTS, blend.DIAGONAL, blend.ANCHORS, _ = max(
            allowed, key=lambda fit: cv_f1[fit[0]]
        )
        print(
            f"blend.WEIGHTS (SICK-NL TRAIN+TRIAL, ridges {ridges}): "
            f"{tuple(round(w, 4) for w in blend.WEIGHTS)}"
        )
        print(f"blend.DIAGONAL: {tuple(round(w, 3) for w in blend.DIAGONAL)}")
        print(f"blend.ANCHORS (from the Pabulib tuning pairs): {blend.ANCHORS}")

    sick_scored = score_pairs(sick.na, sick.nb, sick_cos, sick_uv)
    for name, values in (("lexical", sick_scored.lexical), ("blended", sick_scored.blended)):
        out.update({f"{name}_{k}": v for k, v in evaluate(values, sick, name).items()})
    out.update(
        {f"baseline_{k}": v for k, v in evaluate(baseline_scores(sick), sick, "baseline").items()}
    )

    for pairs in (tune_pairs, report_pairs_, velsen):
        out.update(report_pairs(pairs, score_labelled(pairs, vectors)))
    out.update(dedupe_figures(args.data, velsen, vectors))
    return out, velsen, np.stack([vectors[t] for t in titles])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared/data folder")
    parser.add_argument("--size", type=int, default=100_000, help="initiatives to index")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--baseline-queries", type=int, default=60)
    parser.add_argument("--tune", action="store_true", help="tune the constants first")
    parser.add_argument("--seed", type=int, default=453)  # Velsen's CBS code
    args = parser.parse_args(argv)
    if not (args.data / "sick_nl.tsv").is_file():
        print(f"bench: no sick_nl.tsv in {args.data} (use --data)", file=sys.stderr)
        return 2
    encoder = get_encoder()
    if encoder is None:
        print("bench: the sentence model did not load (see the warning above)", file=sys.stderr)
        return 2
    titles = load_titles(args.data)
    out, velsen, title_vectors = quality(args, encoder, titles)

    rng = random.Random(args.seed)
    corpus = make_corpus(titles, args.size, rng)
    picks = [rng.randrange(len(titles)) for _ in range(args.queries)]
    queries = [(vary(titles[t], rng), rng.choice(KERNEN), t) for t in picks]
    # Each generated initiative's vector lies near the real vector of the title it varies.
    generator = np.random.default_rng(args.seed)
    query_vectors = near(title_vectors[[t for _, _, t in queries]], generator)

    start = time.perf_counter()
    index = MatchIndex()
    for first in range(0, len(corpus.texts), 1_000):
        block = range(first, min(first + 1_000, len(corpus.texts)))
        block_vectors = near(title_vectors[[corpus.base[n] for n in block]], generator)
        for doc_id, vector in zip(block, block_vectors, strict=True):
            index.add(doc_id, normalize(corpus.texts[doc_id]), corpus.kerns[doc_id])
            index.set_vector(doc_id, vector)
    build_s = time.perf_counter() - start
    print(f"   index: {len(index):,} initiatives with vectors in {build_s:.2f} s")
    out.update({"n_initiatives": len(index), "n_queries": len(queries)})
    out["index_build_s"] = round(build_s, 3)

    by_text = {text: n for n, (text, _, _) in enumerate(queries)}
    for name, with_vector in (("lexical", False), ("blended", True)):

        def run(text: str, kern: str, with_vector: bool = with_vector) -> list[int]:
            vector = query_vectors[by_text[text]] if with_vector else None
            return [m.doc_id for m in index.query(text, kern=kern, limit=5, vector=vector)]

        run(queries[0][0], queries[0][1])  # warm the caches as a running bot has them
        times, recall = time_queries(run, queries, corpus, titles)
        out[f"{name}_query_ms_p50"] = round(percentile(times, 0.5), 3)
        out[f"{name}_query_ms_p95"] = round(percentile(times, 0.95), 3)
        out[f"{name}_recall_at_5"] = round(recall, 4)
        print(
            f"{name:>9} top-5 of {len(index):,}: p50 {out[f'{name}_query_ms_p50']} ms, "
            f"p95 {out[f'{name}_query_ms_p95']} ms, recall@5 {recall:.4f} ({len(queries)} queries)"
        )
    assert index._vectors is not None
    out["vector_search_ms_p50"] = round(
        percentile(nearest_ms(index._vectors, query_vectors[:500]), 0.5), 3
    )
    print(f"   of which the vector search: p50 {out['vector_search_ms_p50']} ms")
    out.update(embedding_cost(encoder, velsen))

    texts = corpus.texts  # the naive scan needs nothing but the raw texts

    def baseline_run(text: str, _kern: str) -> list[int]:
        hits = process.extract(
            text, texts, scorer=fuzz.token_set_ratio, processor=str.lower, limit=5
        )
        return [i for _, _, i in hits]

    base_queries = queries[: args.baseline_queries]
    base_times, base_recall = time_queries(baseline_run, base_queries, corpus, titles)
    out.update(
        {
            "baseline_n_queries": len(base_queries),
            "baseline_query_ms_p50": round(percentile(base_times, 0.5), 3),
            "baseline_query_ms_p95": round(percentile(base_times, 0.95), 3),
            "baseline_recall_at_5": round(base_recall, 4),
        }
    )
    print(
        f" baseline top-5 of {len(texts):,}: p50 {out['baseline_query_ms_p50']} ms, "
        f"p95 {out['baseline_query_ms_p95']} ms, recall@5 {base_recall:.4f} "
        f"({len(base_queries)} queries)"
    )
    out["rss_mb"] = round(peak_rss_mb(), 1)
    print(
        f"peak RSS of this process (the model, 100,000 initiatives with vectors, the baseline): "
        f"{out['rss_mb']} MiB"
    )
    index = MatchIndex()  # the 100,000 go before the table grows further
    out.update(scaling(encoder.dim, generator))
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
