"""Initiative → topic: classify real Dutch idea titles and compare with their edition's label.

    python bench/initiative_topics.py           # figures on the report set, JSON as the last line
    python bench/initiative_topics.py --tune    # thresholds on the tuning set

The same data and label mapping as bench/routing.py (shared/data/pabulib_nl_projects.csv,
bench/pabulib_topics.csv). Main-topic level: a title is right when its predicted main topic is
the main topic of any key its label maps to. Subtopic level (an initiative stores a subtopic when
the classifier is sure of it): a subtopic is right as in bench/routing.py, when the label maps to
it or to its main topic (a broad label such as "Openbare ruimte"). Tuning on
the `Buurtbudget ...` editions, figures on the `... Begroot` editions and Assen. Titles only:
the data has almost no descriptions, while /idee classifies title, description and motivation
together, so coverage here is a lower bound.

Variants:
- `with_initiatieven`: every main topic is a candidate (what the bot does);
- `without_initiatieven`: the generic main topic "initiatieven" left out, so an initiative lands
  in a municipal domain (public space, care, events ...); scored on the titles whose label still
  maps to some other main topic;
- `always_initiatieven`: the constant answer, as a baseline for how informative labels are.

- `main_only`: every main topic a candidate, only main topics stored (the bot before subtopics).

Figures per variant, main-topic level: `top1` (best candidate right, among labelled titles),
`coverage` (share of labelled titles the bot is sure of: at or above the threshold and no tie),
`precision` (main topic right among those), `unknown_share` (all titles stored as "onbekend" on
import, or asked in /idee). Subtopic level: `sub_top1` (the best subtopic of the best main topic
right, among labelled titles), `sub_coverage` (share of labelled titles stored with a subtopic),
`sub_precision` (right among those); `stored_precision` (what is stored right at its own level:
a subtopic by its label, a main topic by its main topic); `topics` the distribution of stored
keys and `topic_shares` the same as shares of all titles.

`--tune` picks the main threshold (main-only, as before) and then, with it, the subtopic
threshold: each the lowest whose precision on the tuning set is at least PRECISION_TARGET
(SUBTOPIC_PRECISION_TARGET for the subtopic).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO.parent))

from routing import (  # noqa: E402 - after the path fix, so `python bench/...` works
    DATA,
    MAPPING,
    BenchError,
    Item,
    hit,
    is_report,
    is_tuning,
    read_items,
    read_mapping,
)

from bot.routing import TopicClassifier, load_taxonomy  # noqa: E402
from bot.routing.taxonomy import Taxonomy  # noqa: E402
from bot.services.initiative_topics import (  # noqa: E402
    INITIATIVE_SUBTOPIC_THRESHOLD,
    INITIATIVE_TOPIC_THRESHOLD,
    InitiativeTopics,
)

GENERIC = "initiatieven"
PRECISION_TARGET = 0.93
# Lower for subtopics: they only split the statistics (follows and routing go by main topic), and
# the editions' labels are budget themes, which often name another theme than the title does
# ("Zingen met buurtbewoners" is labelled meeting, not culture), so agreement with them is a
# floor on how often a subtopic is right, not the rate itself.
SUBTOPIC_PRECISION_TARGET = 0.70


def main_truth(item: Item, taxonomy: Taxonomy, exclude: str | None) -> set[str]:
    return {taxonomy.main_of(k).key for k in item.truth} - {exclude}


def figures(topics: InitiativeTopics, items: list[Item]) -> dict[str, object]:
    taxonomy = topics.taxonomy
    exclude = next(iter(topics.exclude), None)
    labelled = right1 = stored = stored_right = unknown = 0
    sub_right1 = sub_stored = sub_stored_right = level_right = 0
    distribution: Counter[str] = Counter()
    for item in items:
        guess = topics.guess(item.title)
        distribution[guess.key or "onbekend"] += 1
        unknown += guess.key is None
        truth = main_truth(item, taxonomy, exclude)
        if not truth:
            continue
        labelled += 1
        best_main = guess.candidates[0] if guess.candidates else None
        right1 += best_main in truth
        if best_main is not None:
            best_sub = topics.subtopic_scores(item.title, best_main, limit=1)
            sub_right1 += bool(best_sub) and hit(best_sub[0].key, item.truth)
        if guess.key is not None:
            stored += 1
            stored_right += guess.main in truth
            if "/" in guess.key:
                sub_stored += 1
                sub_stored_right += hit(guess.key, item.truth)
                level_right += hit(guess.key, item.truth)
            else:
                level_right += guess.key in truth
    return {
        "n": len(items),
        "labelled": labelled,
        "top1": _ratio(right1, labelled),
        "coverage": _ratio(stored, labelled),
        "precision": _ratio(stored_right, stored),
        "unknown_share": _ratio(unknown, len(items)),
        "sub_top1": _ratio(sub_right1, labelled),
        "sub_coverage": _ratio(sub_stored, labelled),
        "sub_precision": _ratio(sub_stored_right, sub_stored),
        "stored_precision": _ratio(level_right, stored),
        "topics": dict(distribution.most_common()),
        "topic_shares": {k: _ratio(n, len(items)) for k, n in distribution.most_common()},
    }


def constant(items: list[Item], taxonomy: Taxonomy) -> dict[str, object]:
    labelled = [i for i in items if i.truth]
    right = sum(GENERIC in main_truth(i, taxonomy, None) for i in labelled)
    return {"labelled": len(labelled), "top1": _ratio(right, len(labelled))}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def tune(topics: InitiativeTopics, items: list[Item]) -> None:
    tuning = [i for i in items if is_tuning(i.edition)]
    chosen = None
    for step in range(0, 11):
        threshold = step / 20
        f = figures(InitiativeTopics(topics.classifier, threshold, subtopic_threshold=None), tuning)
        print(f"threshold {threshold:.2f}: coverage {f['coverage']} precision {f['precision']}")
        precision = f["precision"]
        if chosen is None and isinstance(precision, float) and precision >= PRECISION_TARGET:
            chosen = threshold
    print(f"lowest threshold with precision >= {PRECISION_TARGET}: {chosen}")
    # The subtopic threshold, with the main one the bot uses, the same way.
    chosen = None
    for step in range(0, 21):
        threshold = step / 20
        f = figures(
            InitiativeTopics(topics.classifier, topics.threshold, subtopic_threshold=threshold),
            tuning,
        )
        print(
            f"subtopic threshold {threshold:.2f}: sub_coverage {f['sub_coverage']} "
            f"sub_precision {f['sub_precision']} stored_precision {f['stored_precision']}"
        )
        precision = f["sub_precision"]
        target = SUBTOPIC_PRECISION_TARGET
        if chosen is None and isinstance(precision, float) and precision >= target:
            chosen = threshold
    print(f"lowest subtopic threshold with sub_precision >= {target}: {chosen}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args(argv)
    taxonomy = load_taxonomy()
    try:
        items = read_items(args.data, read_mapping(MAPPING, taxonomy))
    except BenchError as exc:
        print(f"bench/initiative_topics.py: {exc}", file=sys.stderr)
        return 2
    classifier = TopicClassifier(taxonomy)
    topics = InitiativeTopics(classifier)
    without = InitiativeTopics(classifier, exclude=frozenset({GENERIC}))
    main_only = InitiativeTopics(classifier, subtopic_threshold=None)
    if args.tune:
        tune(topics, items)
        return 0
    result: dict[str, object] = {
        "threshold": INITIATIVE_TOPIC_THRESHOLD,
        "subtopic_threshold": INITIATIVE_SUBTOPIC_THRESHOLD,
    }
    for part, selected in (("tuning", is_tuning), ("report", is_report)):
        chosen = [i for i in items if selected(i.edition)]
        result[part] = {
            "with_initiatieven": figures(topics, chosen),
            "without_initiatieven": figures(without, chosen),
            "main_only": figures(main_only, chosen),
            "always_initiatieven": constant(chosen, taxonomy),
        }
    for part in ("tuning", "report"):
        for variant, f in result[part].items():  # type: ignore[union-attr]
            shown = {k: v for k, v in f.items() if k not in ("topics", "topic_shares")}
            print(f"{part:7} {variant:21} {shown}")
    report = result["report"]["with_initiatieven"]  # type: ignore[index]
    print(f"report  stored keys (share of all titles): {report['topic_shares']}")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
