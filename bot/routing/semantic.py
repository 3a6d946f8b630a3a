"""Meaning for the topic classifier: embedded prototypes of the taxonomy, and the labelled
examples this municipality's own traffic taught it. No Telegram and no database here.

Prototypes (shared/notes/embeddings.md measured both): every keyword and name of a subtopic is
embedded on its own and a subtopic scores its best keyword ("keyword max"), and one text per
subtopic ("main - sub: keyword, keyword, ...") is its prototype. Both are z-scored per question
and blended with the lexical strength in bot/routing/classifier.py.

Examples: a resident's pick, a civil servant's forward to a topic, a moderator's assignment from
triage each label one question; the nearest labelled neighbours vote for their topic, weighted
by how close they are (exp((cosine - 1) / sharpness)), so an almost identical question counts
fully and a loosely related one hardly. An example labelled with a main topic votes for each of
its subtopics with `main_share`.

Embedding the ~1,700 keywords costs ~25 s at 15 ms a text, so the prototypes are computed once
per process (a module-level cache) and kept on disk between processes, keyed by a fingerprint of
the exact texts and the encoder: a changed taxonomy or model computes them again, once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.routing.taxonomy import Taxonomy
from bot.semantic import Encoder, fingerprint

log = logging.getLogger(__name__)

# Bump when what a prototype is changes (the texts embedded, their order, the file's layout).
_PROTOTYPE_VERSION = "1"


@dataclass(frozen=True)
class SemanticParams:
    """The blend's weights, tuned by `bench/routing.py --tune` on the Buurtbudget editions."""

    keyword_weight: float = 0.1  # z-scored best keyword cosine
    prototype_weight: float = 0.1  # z-scored cosine with the subtopic's one-text prototype
    example_weight: float = 2.0  # the labelled neighbours' votes
    neighbours: int = 5  # examples that vote
    sharpness: float = 0.1  # a neighbour at cosine 1 - sharpness votes 1/e
    main_share: float = 0.5  # an example labelled with a main topic, per subtopic (not tuned)
    temperature: float = 3.0  # confidence: softmax over the best three blended scores


DEFAULT_SEMANTIC = SemanticParams()


def _zscore(x: np.ndarray) -> np.ndarray:
    spread = float(x.std())
    return (x - x.mean()) / spread if spread > 0 else np.zeros_like(x)


@dataclass(frozen=True)
class Prototypes:
    """The taxonomy's embedded texts, for one encoder."""

    keywords: np.ndarray  # (n, dim) float32 unit rows: every keyword and name
    owners: np.ndarray  # (n,) subtopic index of each keyword row
    topics: np.ndarray  # (subtopics, dim): one prototype text per subtopic

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """(subtopics,) z-scored keyword-max and prototype cosines, stacked as (2, subtopics)."""
        best = np.full(len(self.topics), -1.0, dtype=np.float32)
        np.maximum.at(best, self.owners, self.keywords @ vector)
        return np.stack([_zscore(best), _zscore(self.topics @ vector)])


def _prototype_texts(taxonomy: Taxonomy) -> tuple[list[str], list[int], list[str]]:
    keywords: list[str] = []
    owners: list[int] = []
    topics: list[str] = []
    for index, topic in enumerate(taxonomy.subtopics):
        main = taxonomy.main_of(topic.key)
        # Its own words and names, and the main topic's names (not its keywords: those are
        # shared by all children and would say nothing about which one).
        own = dict.fromkeys(
            [*topic.keywords, *topic.names.values(), *main.names.values()]
        )  # ordered, no duplicates
        keywords += own
        owners += [index] * len(own)
        nl = ", ".join(topic.keywords_by_language.get("nl", ()))
        topics.append(f"{main.name('nl')} - {topic.name('nl')}: {nl}")
    return keywords, owners, topics


_cache: dict[str, Prototypes] = {}
_cache_lock = threading.Lock()


def cache_dir() -> Path:
    """Where prototypes are kept between processes: $XDG_CACHE_HOME/burgerbeest, else
    ~/.cache/burgerbeest (the systemd unit's home is the bot's own writable directory)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "burgerbeest"


def prototypes(taxonomy: Taxonomy, encoder: Encoder) -> Prototypes:
    """The taxonomy's prototypes for `encoder`: from memory, else from disk, else embedded
    (and then saved; a cache that cannot be written only costs the next start time)."""
    keywords, owners, topics = _prototype_texts(taxonomy)
    digest = hashlib.sha256(
        "\x1f".join(
            [_PROTOTYPE_VERSION, fingerprint(encoder), *keywords, *map(str, owners), *topics]
        ).encode()
    ).hexdigest()[:24]
    with _cache_lock:  # one thread embeds; the others wait for its result
        found = _cache.get(digest)
        if found is None:
            found = _load(digest, len(keywords), len(topics)) or _embed(
                digest, encoder, keywords, owners, topics
            )
            _cache[digest] = found
        return found


def _load(digest: str, n_keywords: int, n_topics: int) -> Prototypes | None:
    path = cache_dir() / f"routing-{digest}.npz"
    try:
        with np.load(path) as data:
            found = Prototypes(
                data["keywords"].astype(np.float32),
                data["owners"].astype(np.int64),
                data["topics"].astype(np.float32),
            )
    except (OSError, KeyError, ValueError):
        return None
    if len(found.keywords) != n_keywords or len(found.topics) != n_topics:
        return None
    return found


def _embed(
    digest: str, encoder: Encoder, keywords: list[str], owners: list[int], topics: list[str]
) -> Prototypes:
    log.info("Embedding %s routing prototypes (once per taxonomy and model)", len(keywords))
    found = Prototypes(
        encoder.embed(keywords), np.asarray(owners, dtype=np.int64), encoder.embed(topics)
    )
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Written under another name and renamed: two processes starting at once never read
        # half a file.
        fd, tmp = tempfile.mkstemp(prefix=".routing-", suffix=".npz", dir=directory)
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                keywords=found.keywords.astype(np.float16),
                owners=found.owners,
                topics=found.topics.astype(np.float16),
            )
        Path(tmp).replace(directory / f"routing-{digest}.npz")
    except OSError as exc:
        log.warning("Routing prototypes not cached in %s: %s", directory, exc)
    return found


@dataclass(frozen=True)
class _Examples:
    ids: tuple[int, ...]
    topics: tuple[str, ...]
    vectors: np.ndarray  # (n, dim) float32
    labels: np.ndarray  # (n, subtopics): what each example votes for


class ExampleIndex:
    """Labelled example vectors in memory, for nearest-neighbour votes. Every change builds a
    new snapshot, so a reader never sees half of one."""

    def __init__(self, taxonomy: Taxonomy, params: SemanticParams) -> None:
        subtopics = [t.key for t in taxonomy.subtopics]
        position = {key: i for i, key in enumerate(subtopics)}
        self._label_rows: dict[str, np.ndarray] = {}
        for topic in taxonomy:
            row = np.zeros(len(subtopics), dtype=np.float32)
            if topic.is_main:
                for child in taxonomy.children(topic.key):
                    row[position[child.key]] = params.main_share
            else:
                row[position[topic.key]] = 1.0
            self._label_rows[topic.key] = row
        self._params = params
        self._width = len(subtopics)
        self._set([], [], [])

    def __len__(self) -> int:
        return len(self._state.ids)

    def replace(self, rows: Iterable[tuple[int, np.ndarray, str]]) -> None:
        """All examples at once (id, vector, topic key); topics the taxonomy lacks are left out
        (a taxonomy edit may have removed them)."""
        kept = [(i, v, k) for i, v, k in rows if k in self._label_rows]
        self._set([i for i, _, _ in kept], [k for _, _, k in kept], [v for _, v, _ in kept])

    def add(self, example_id: int, vector: np.ndarray, topic_key: str) -> None:
        """One more example, or a new label for an id already known."""
        state = self._state
        keep = [n for n, i in enumerate(state.ids) if i != example_id]
        rows = [(state.ids[n], state.vectors[n], state.topics[n]) for n in keep]
        self.replace([*rows, (example_id, vector, topic_key)])

    def remove(self, example_id: int) -> bool:
        state = self._state
        if example_id not in state.ids:
            return False
        self.replace(
            (i, state.vectors[n], k)
            for n, (i, k) in enumerate(zip(state.ids, state.topics, strict=True))
            if i != example_id
        )
        return True

    def _set(self, ids: list[int], topics: list[str], vectors: list[np.ndarray]) -> None:
        self._state = _Examples(
            tuple(ids),
            tuple(topics),
            np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, 0), np.float32),
            np.asarray([self._label_rows[k] for k in topics], dtype=np.float32).reshape(
                len(ids), self._width
            ),
        )

    def votes(self, vector: np.ndarray, *, leave_out: int | None = None) -> np.ndarray:
        """(subtopics,) the nearest examples' votes; zeros without examples."""
        state = self._state
        similarity = state.vectors @ vector if state.ids else np.zeros(0, dtype=np.float32)
        if leave_out is not None and leave_out in state.ids:
            similarity[state.ids.index(leave_out)] = -np.inf
        k = min(self._params.neighbours, len(similarity))
        if k == 0:
            return np.zeros(self._width, dtype=np.float32)
        nearest = np.argpartition(-similarity, k - 1)[:k]
        weights = np.exp((similarity[nearest] - 1.0) / self._params.sharpness)
        return weights.astype(np.float32) @ state.labels[nearest]

    def items(self) -> list[tuple[int, str, np.ndarray]]:
        """(id, topic key, vector) of every example, oldest first."""
        state = self._state
        return list(zip(state.ids, state.topics, state.vectors, strict=True))
