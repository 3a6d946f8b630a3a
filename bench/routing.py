"""Routing benchmark: classify real Dutch idea titles and compare with their edition's label.

    python bench/routing.py                 # figures on the report set, JSON as the last line
    python bench/routing.py --tune          # grid search on the tuning set, prints the best
    python bench/routing.py --data DIR      # another copy of shared/data
    python bench/routing.py --no-dispatch   # without the dispatch throughput (minutes)

Data: shared/data/pabulib_nl_projects.csv (Pabulib; see shared/data/README.md), read in place,
never copied. Labels are mapped once onto topic keys in bench/pabulib_topics.csv (provenance in
its comment lines). Tuning uses the `Buurtbudget ...` editions only: keywords were added from
errors on those titles, parameters and threshold come from `--tune` on them. Figures are reported
on the `... Begroot` editions and Assen; the gap between the two sets is the honest measure of
how much the keyword work overfitted.

Level: the labels are themes (groen, ontmoeting, cultuur, jeugd, ...), which match our
subtopics where a label names one theme; broad labels ("Openbare ruimte", "Sociaal") map to a
main topic or several subtopics and any of them counts. So accuracy is at subtopic level where
the label allows it and main-topic level where it does not. Unlabelled titles (Assen, Weesp and
several Buurtbudget editions have no category) count for asked_share and timing only.

Threshold: the expected cost per question, with a wrong automatic route costing 1 (a civil
servant forwards it, the resident waits a day), asking when the right topic is among the three
offered costing 0.25 (one tap) and asking when it is not costing 0.5 (the resident browses the
menu). `--tune` picks the threshold with the lowest cost on the tuning set; the chosen values live
in bot/routing/classifier.py, and this script reports with those. Idea titles are short, playful
and their labels often span several themes, so most titles land below the threshold: asked_share
here is an upper bound for real questions, and the threshold should be re-tuned once real,
labelled Velsen questions exist (`burgerbeest route` gives their confidences).

Lexical and blended in one run: `lexical` is the keyword classifier alone (what the bot does
without a sentence model), `blended` the same classifier with the model: lexical strength plus
embedded taxonomy prototypes (bot/routing/semantic.py), zero-shot, i.e. before it learned
anything. Its threshold is tuned by the same cost, on the tuning set, in the regime the bot
lives in once it has learned: `--tune` scores each half of the tuning editions with the other
half's titles as examples (two folds by edition).

Learning curve (`learning`): routing of the report set after 0, 50 and 200 corrected examples
and after all labelled tuning titles. The examples go through the bot's own mechanism
(bot/services/routing_examples.py on a scratch SQLite database): tuning titles in a shuffled
order (three seeds, averaged) are classified one by one, and each one the bot would ask about or
get wrong is learned with the topic a resident would pick: the first offered candidate that fits
its label, else the label's main topic (the "iets anders" menu). `all_tuning` learns every
labelled tuning title that way. No Pabulib title becomes a runtime default: the examples live in
the scratch database only.

Start-up (`startup_s`): embedding the taxonomy's prototypes with an empty cache, and loading
them from the cache as every later start does.

Last line: one JSON object, with dispatch throughput for 10,000 queued questions unless
`--no-dispatch`.
"""

from __future__ import annotations

import os

# One BLAS thread, as the bot runs with (bot/__init__.py): set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import asyncio
import csv
import html
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot import semantic  # noqa: E402 - after the path fix, so `python bench/...` works
from bot.routing import semantic as routing_semantic  # noqa: E402
from bot.routing.classifier import (  # noqa: E402
    BLENDED_THRESHOLD,
    CONFIDENCE_THRESHOLD,
    DEFAULT_PARAMS,
    TopicClassifier,
    TopicScore,
)
from bot.routing.keys import main_topic  # noqa: E402
from bot.routing.semantic import DEFAULT_SEMANTIC  # noqa: E402
from bot.routing.taxonomy import Taxonomy, TaxonomyError, load_taxonomy  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MAPPING = Path(__file__).resolve().parent / "pabulib_topics.csv"
PROJECTS = "pabulib_nl_projects.csv"
COST_WRONG, COST_ASK_OFFERED, COST_ASK_MENU = 1.0, 0.25, 0.5


class BenchError(Exception):
    """Missing data or an incomplete mapping: one line on stderr, exit 2."""


@dataclass(frozen=True)
class Item:
    edition: str
    title: str
    label: str
    truth: tuple[str, ...]  # accepted topic keys; () = not scored


def is_tuning(edition: str) -> bool:
    return edition.startswith("Buurtbudget")


def is_report(edition: str) -> bool:
    return "Begroot" in edition.split() or edition.startswith("Assen")


def read_mapping(path: Path, taxonomy: Taxonomy) -> dict[str, tuple[str, ...]]:
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    mapping: dict[str, tuple[str, ...]] = {}
    for row in csv.DictReader(rows):
        keys = tuple(k.strip() for k in (row["topic"] or "").split("|") if k.strip())
        unknown = [k for k in keys if k not in taxonomy]
        if unknown:
            raise BenchError(f"{path}: label {row['label']!r} maps to unknown topic {unknown[0]}")
        mapping[row["label"]] = keys
    return mapping


def read_items(data: Path, mapping: dict[str, tuple[str, ...]]) -> list[Item]:
    path = data / PROJECTS
    if not path.is_file():
        raise BenchError(f"{path} not found (use --data DIR)")
    items = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            label = html.unescape(row["category"]).strip()
            if label and label not in mapping:
                raise BenchError(f"label {label!r} is not in {MAPPING.name}: map it first")
            truth = mapping.get(label, ())
            items.append(Item(row["edition"], row["name"].strip(), label, truth))
    return items


def hit(predicted: str, truth: tuple[str, ...]) -> bool:
    main = predicted.split("/", 1)[0]
    return predicted in truth or main in truth


@dataclass
class Tally:
    n: int = 0
    labelled: int = 0
    top1: int = 0
    top3: int = 0
    asked: int = 0
    auto: int = 0  # labelled and not asked
    auto_right: int = 0
    cost: float = 0.0

    def add(self, item: Item, scores: list[TopicScore], threshold: float) -> None:
        self.n += 1
        asked = not scores or scores[0].confidence < threshold
        self.asked += asked
        if not item.truth:
            return
        self.labelled += 1
        right1 = bool(scores) and hit(scores[0].key, item.truth)
        right3 = any(hit(s.key, item.truth) for s in scores[:3])
        self.top1 += right1
        self.top3 += right3
        if asked:
            self.cost += COST_ASK_OFFERED if right3 else COST_ASK_MENU
        else:
            self.auto += 1
            self.auto_right += right1
            self.cost += 0.0 if right1 else COST_WRONG

    def figures(self) -> dict[str, float | int | None]:
        def ratio(a: int | float, b: int) -> float | None:
            return round(a / b, 3) if b else None  # null in JSON: nothing to measure

        return {
            "n": self.n,
            "labelled": self.labelled,
            "top1": ratio(self.top1, self.labelled),
            "top3": ratio(self.top3, self.labelled),
            "asked_share": ratio(self.asked, self.n),
            "auto_precision": ratio(self.auto_right, self.auto),
            "cost": ratio(self.cost, self.labelled),
        }


def run(
    classifier: TopicClassifier, items: list[Item], threshold: float
) -> tuple[Tally, dict[str, Tally], list[float]]:
    """Classify every item as the bot would (the text embedded too, when blended)."""
    total, per_edition, times = Tally(), defaultdict(Tally), []
    for item in items:
        start = time.perf_counter()
        scores = classifier.classify(item.title, limit=3)
        times.append((time.perf_counter() - start) * 1000)
        total.add(item, scores, threshold)
        per_edition[item.edition].add(item, scores, threshold)
    return total, dict(per_edition), times


def best_threshold(scored: list[tuple[Item, list[TopicScore]]]) -> tuple[float, Tally]:
    best: tuple[float, Tally] | None = None
    for step in range(0, 101, 2):
        threshold = step / 100
        tally = Tally()
        for item, scores in scored:
            tally.add(item, scores, threshold)
        if best is None or tally.cost < best[1].cost - 1e-9:
            best = (threshold, tally)
    assert best is not None
    return best


def tune(taxonomy: Taxonomy, items: list[Item]) -> None:
    """Ranking parameters by top-1 (then top-3) on the tuning set, then scale and threshold by
    cost. Prints the table; copy the winner into bot/routing/classifier.py by hand."""
    tuning = [i for i in items if is_tuning(i.edition) and i.truth]
    grid = {
        "fuzzy_cutoff": [85.0, 88.0, 101.0],  # 101 = no typo matching at all
        "fuzzy_min_len": [5, 7],
        "head_weight": [0.0, 0.6, 0.8],
        "phrase_bonus": [0.5, 1.0],
        "spread_power": [0.5, 1.0],
        "main_weight": [0.2, 0.4, 0.8],
    }
    results = []
    for values in itertools.product(*grid.values()):
        params = replace(DEFAULT_PARAMS, **dict(zip(grid, values, strict=True)))
        classifier = TopicClassifier(taxonomy, params=params)
        tally = Tally()
        for item in tuning:
            tally.add(item, classifier.classify(item.title), CONFIDENCE_THRESHOLD)
        results.append((tally.top1, tally.top3, params))
    results.sort(key=lambda r: (r[0], r[1]), reverse=True)
    n = len(tuning)
    print(f"tuning set: {n} labelled Buurtbudget titles; best ranking parameters:")
    for top1, top3, params in results[:8]:
        print(f"  top1 {top1 / n:.3f} top3 {top3 / n:.3f}  {params}")
    ranking = results[0][2]
    print("strength_scale x threshold (expected cost per question):")
    for scale in (0.5, 1.0, 1.5, 2.0, 3.0):
        classifier = TopicClassifier(taxonomy, params=replace(ranking, strength_scale=scale))
        scored = [(item, classifier.classify(item.title)) for item in tuning]
        threshold, tally = best_threshold(scored)
        print(f"  scale {scale}: threshold {threshold:.2f} {tally.figures()}")


class MemoEncoder:
    """The loaded model with a memory: the bench embeds each title once however often it is
    classified (the name is the model's, so the prototype cache is the bot's)."""

    def __init__(self, inner: semantic.Encoder) -> None:
        self.name, self.dim, self._inner = inner.name, inner.dim, inner
        self._memo: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self._inner.embed(missing), strict=True))
        return np.stack([self._memo[t] for t in texts]).reshape(len(texts), self.dim)


def pick(scores: list[TopicScore], item: Item, exclude: str | None = None) -> str:
    """The topic a resident picks for `item`: the first offered candidate that fits its label
    (not the one they just said was wrong), else the label's main topic from the menu."""
    for score in scores[:3]:
        if score.key != exclude and hit(score.key, item.truth):
            return score.key
    return main_topic(item.truth[0]) or item.truth[0]


def _folds(items: list[Item]) -> tuple[list[Item], list[Item]]:
    editions = sorted({i.edition for i in items})
    return (
        [i for i in items if editions.index(i.edition) % 2 == 0],
        [i for i in items if editions.index(i.edition) % 2 == 1],
    )


def _learn_all(classifier: TopicClassifier, items: list[Item]) -> None:
    """Every item as an example, labelled as a resident would, into the classifier's memory
    directly (the tuning search; the learning curve goes through the service)."""
    rows = []
    for n, item in enumerate(items):
        vector = classifier.encoder.embed([item.title])[0]  # type: ignore[union-attr]
        scores = classifier.ranked(classifier.blended(vector, item.title, examples=False))
        rows.append((n, vector.astype(np.float16).astype(np.float32), pick(scores, item)))
    classifier.examples.replace(rows)


def tune_blend(taxonomy: Taxonomy, items: list[Item]) -> None:
    """The blend on the tuning set: prototype weights by top-1 zero-shot; example weights by
    top-1 across two folds (one half's titles as examples for the other); temperature and
    threshold by cost across the same folds."""
    tuning = [i for i in items if is_tuning(i.edition) and i.truth]
    results = []
    for kw, proto in itertools.product([0.0, 0.05, 0.1, 0.15, 0.2, 0.3], repeat=2):
        params = replace(DEFAULT_SEMANTIC, keyword_weight=kw, prototype_weight=proto)
        classifier = TopicClassifier(taxonomy, semantic=params)
        tally = Tally()
        for item in tuning:
            tally.add(item, classifier.classify(item.title), BLENDED_THRESHOLD)
        results.append((tally.top1, tally.top3, kw, proto))
    results.sort(reverse=True)
    n = len(tuning)
    print(f"blend, zero-shot, {n} labelled Buurtbudget titles: top1 top3 keyword prototype")
    for top1, top3, kw, proto in results[:6]:
        print(f"  {top1 / n:.3f} {top3 / n:.3f}  {kw} {proto}")
    base = replace(DEFAULT_SEMANTIC, keyword_weight=results[0][2], prototype_weight=results[0][3])
    one, other = _folds(tuning)
    print("examples (two folds): top1 top3 weight neighbours sharpness")
    found = []
    for weight, k, sharpness in itertools.product([0.5, 1.0, 2.0], [5, 10, 20], [0.03, 0.05, 0.1]):
        params = replace(base, example_weight=weight, neighbours=k, sharpness=sharpness)
        tally = Tally()
        for learn, score in ((one, other), (other, one)):
            classifier = TopicClassifier(taxonomy, semantic=params)
            _learn_all(classifier, learn)
            for item in score:
                tally.add(item, classifier.classify(item.title), BLENDED_THRESHOLD)
        found.append((tally.top1, tally.top3, params))
    found.sort(key=lambda r: (r[0], r[1]), reverse=True)
    for top1, top3, params in found[:6]:
        print(
            f"  {top1 / n:.3f} {top3 / n:.3f}  {params.example_weight} {params.neighbours}"
            f" {params.sharpness}"
        )
    best = found[0][2]
    print("temperature x threshold (expected cost per question, two folds):")
    for temperature in (0.5, 1.0, 1.5, 2.0, 3.0, 5.0):
        params = replace(best, temperature=temperature)
        scored = []
        for learn, score in ((one, other), (other, one)):
            classifier = TopicClassifier(taxonomy, semantic=params)
            _learn_all(classifier, learn)
            scored += [(item, classifier.classify(item.title)) for item in score]
        threshold, tally = best_threshold(scored)
        print(f"  temperature {temperature}: threshold {threshold:.2f} {tally.figures()}")
    print(f"best: {best}")


async def _curve(
    taxonomy: Taxonomy, tuning: list[Item], report: list[Item], seed: int | None
) -> dict[str, dict[str, float | int | None]]:
    """Report figures after 0, 50, 200 corrected examples in one shuffled order of the tuning
    titles (seed None: every labelled tuning title, in file order)."""
    from bot.migrate import upgrade
    from bot.services.routing_examples import RoutingExamples
    from models import ExampleSource
    from models.database import create_engine, create_sessionmaker

    order = list(tuning)
    if seed is not None:
        random.Random(seed).shuffle(order)
    figures: dict[str, dict[str, float | int | None]] = {}
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{directory}/examples.sqlite3")
        await upgrade(engine)
        classifier = TopicClassifier(taxonomy)
        examples = RoutingExamples(create_sessionmaker(engine), classifier)
        learned = 0
        if seed is not None:
            figures["0"] = run(classifier, report, classifier.threshold)[0].figures()
        for item in order:
            scores = classifier.classify(item.title)
            asked = not scores or scores[0].confidence < classifier.threshold
            wrong = not scores or not hit(scores[0].key, item.truth)
            if seed is None or asked or wrong:
                source = ExampleSource.ASKED if asked else ExampleSource.CORRECTED
                exclude = None if asked else scores[0].key
                await examples.learn(pick(scores, item, exclude), source, text=item.title)
                learned += 1
                if seed is not None and learned in (50, 200):
                    figures[str(learned)] = run(classifier, report, classifier.threshold)[
                        0
                    ].figures()
        if seed is None:
            figures["all_tuning"] = {
                **run(classifier, report, classifier.threshold)[0].figures(),
                "examples": learned,
            }
        await engine.dispose()
    return figures


def learning_curve(
    taxonomy: Taxonomy, items: list[Item], seeds: Sequence[int] = (1, 2, 3)
) -> dict[str, dict[str, float | int | None]]:
    tuning = [i for i in items if is_tuning(i.edition) and i.truth]
    report = [i for i in items if is_report(i.edition)]
    runs = [asyncio.run(_curve(taxonomy, tuning, report, seed)) for seed in seeds]
    curve: dict[str, dict[str, float | int | None]] = {}
    for point in ("0", "50", "200"):
        at = [r[point] for r in runs if point in r]
        curve[point] = {
            key: round(statistics.mean(f[key] for f in at), 3)  # type: ignore[misc]
            for key in ("top1", "top3", "asked_share", "auto_precision", "cost")
            if all(f[key] is not None for f in at)
        }
    curve.update(asyncio.run(_curve(taxonomy, tuning, report, None)))
    return curve


def startup_figures(taxonomy: Taxonomy) -> dict[str, float]:
    """Seconds to get the taxonomy's prototypes with an empty cache (the first start with a
    taxonomy and model) and from the cache (every later start)."""
    saved = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory() as directory:
        os.environ["XDG_CACHE_HOME"] = directory
        try:
            figures = {}
            for label in ("cold", "warm"):
                routing_semantic._cache.clear()  # a new process
                start = time.perf_counter()
                TopicClassifier(taxonomy).prepare()
                figures[label] = round(time.perf_counter() - start, 2)
        finally:
            if saved is None:
                os.environ.pop("XDG_CACHE_HOME", None)
            else:
                os.environ["XDG_CACHE_HOME"] = saved
    return figures


DISPATCH_QUEUED = 10_000


def dispatch_figures(queued: int = DISPATCH_QUEUED) -> dict[str, float]:
    """Dispatch throughput: `queued` questions waiting for one digest time, sent by the real
    DispatchService (claim in a transaction, send, record, per row) to a zero-latency sender
    on an SQLite file; what the database side costs per message, Telegram's limits apart."""
    import asyncio
    import tempfile
    from datetime import timedelta

    from bot.migrate import upgrade
    from bot.services.delivery import SENT, Result
    from bot.services.dispatch import Delivery, DispatchService
    from bot.services.questions import QuestionService
    from models import CivilServant, Question, ScheduledWork, User, WorkKind
    from models.base import utcnow
    from models.database import create_engine, create_sessionmaker

    async def run(directory: str) -> tuple[float, int]:
        engine = create_engine(f"sqlite+aiosqlite:///{directory}/bench.sqlite3")
        await upgrade(engine)
        sessions = create_sessionmaker(engine)
        now = utcnow()
        async with sessions.begin() as session:
            resident, servant_user = User(telegram_id=1), User(telegram_id=2)
            session.add_all([resident, servant_user])
            await session.flush()
            servant = CivilServant(
                user_id=servant_user.id, name="Bench", department="Bench", topics=["gemeente"]
            )
            session.add(servant)
            await session.flush()
            questions = [
                Question(
                    resident_id=resident.id,
                    text=f"vraag {n}",
                    topic_key="gemeente",
                    assignee_id=servant.id,
                    deadline_at=now + timedelta(days=5),
                )
                for n in range(queued)
            ]
            session.add_all(questions)
            await session.flush()
            session.add_all(
                ScheduledWork(
                    kind=WorkKind.DELIVER,
                    due_at=now - timedelta(seconds=1),
                    question_id=q.id,
                    recipient_id=servant_user.id,
                    payload={"urgent": False},
                )
                for q in questions
            )
        sent = 0

        async def sender(delivery: Delivery) -> Result:
            nonlocal sent
            sent += 1
            return SENT

        dispatch = DispatchService(sessions, QuestionService(sessions))
        start = time.perf_counter()
        await dispatch.run_due(sender)
        elapsed = time.perf_counter() - start
        await engine.dispose()
        return elapsed, sent

    with tempfile.TemporaryDirectory() as directory:
        elapsed, sent = asyncio.run(run(directory))
    if sent != queued:
        raise RuntimeError(f"dispatched {sent} of {queued}")
    print(f"dispatch: {queued} queued questions in {elapsed:.1f} s ({queued / elapsed:.0f}/s)")
    return {"dispatch_queued": queued, "dispatch_per_s": round(queued / elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="shared data directory")
    parser.add_argument("--taxonomy", type=Path, default=None, help="topics.toml to use")
    parser.add_argument("--tune", action="store_true", help="grid search on the tuning set")
    parser.add_argument("--no-dispatch", action="store_true", help="skip dispatch throughput")
    args = parser.parse_args(argv)
    try:
        taxonomy = load_taxonomy(args.taxonomy)
        items = read_items(args.data, read_mapping(MAPPING, taxonomy))
    except (TaxonomyError, BenchError) as exc:
        print(exc, file=sys.stderr)
        return 2
    model = semantic.get_encoder()
    if args.tune:
        tune(taxonomy, items)
        if model is not None:
            semantic.set_encoder(MemoEncoder(model))
            tune_blend(taxonomy, items)
        return 0

    tuning = [i for i in items if is_tuning(i.edition)]
    report = [i for i in items if is_report(i.edition)]
    print("level: subtopic where the label names one theme, main topic where it is broad")
    print(f"{DEFAULT_PARAMS}")
    result: dict[str, object] = {
        "level": "subtopic, main topic where the label is broad",
        "set": "report: Begroot editions + Assen",
    }
    lexical = TopicClassifier(taxonomy, semantic=None)
    kinds: list[tuple[str, TopicClassifier, float]] = [("lexical", lexical, CONFIDENCE_THRESHOLD)]
    if model is None:
        print("no sentence model: lexical figures only", file=sys.stderr)
    else:
        result["startup_s"] = startup_figures(taxonomy)
        print(f"prototypes at start: {result['startup_s']} s (empty cache, cached)")
        semantic.set_encoder(MemoEncoder(model))
        blended = TopicClassifier(taxonomy)
        blended.encoder.embed([i.title for i in items])  # type: ignore[union-attr]
        kinds.append(("blended", blended, BLENDED_THRESHOLD))
        print(f"{DEFAULT_SEMANTIC}")
    for name, classifier, threshold in kinds:
        tune_total, _, _ = run(classifier, tuning, threshold)
        total, editions, times = run(classifier, report, threshold)
        print(f"{name}, threshold {threshold}:")
        print(f"  tuning set (Buurtbudget): {tune_total.figures()}")
        print("  report set (Begroot editions + Assen):")
        for edition, tally in sorted(editions.items()):
            print(f"    {edition:<40} {tally.figures()}")
        figures = total.figures()
        print(f"    {'all':<40} {figures}")
        p50 = statistics.median(times)
        print(f"  classify: p50 {p50:.3f} ms, p95 {statistics.quantiles(times, n=20)[-1]:.3f} ms")
        result[name] = {
            "threshold": threshold,
            **figures,
            "editions": {e: t.figures() for e, t in sorted(editions.items())},
            "tuning": tune_total.figures(),
            "classify_ms_p50": round(p50, 3),
        }
    if model is not None:
        # What the bot pays per question: the embedding, which the bench memoised above.
        start = time.perf_counter()
        model.embed([i.title for i in report[:100]])
        embed_ms = (time.perf_counter() - start) * 10
        print(f"  embedding a title: {embed_ms:.1f} ms")
        result["embed_ms_per_title"] = round(embed_ms, 1)
        curve = learning_curve(taxonomy, items)
        print("learning curve on the report set (examples: figures):")
        for point, figures in curve.items():
            print(f"  {point:>10}: {figures}")
        result["learning"] = curve
    if not args.no_dispatch:
        result.update(dispatch_figures())
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
