"""VectorTable: the nearest vectors by cosine, exactly while small, through a projection when
large; rows set, replaced and dropped."""

from __future__ import annotations

import numpy as np
import pytest

from bot.matching import vectors
from bot.matching.vectors import VectorTable, initiative_texts, initiative_vector


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute_force(rows: dict[int, np.ndarray], query: np.ndarray, k: int) -> list[int]:
    return sorted(rows, key=lambda i: -float(rows[i] @ query))[:k]


def test_nearest_is_exact_while_small_and_follows_set_and_drop() -> None:
    rng = np.random.default_rng(1)
    table = VectorTable(16)
    rows = dict(enumerate(unit(rng, 50, 16), start=100))
    for doc_id, row in rows.items():
        table.set(doc_id, row)
    query = unit(rng, 1, 16)[0]
    found = table.nearest(query, 5)
    stored = {doc_id: table.get(doc_id) for doc_id in rows}  # as int8 rows keep them
    assert sorted(found, key=lambda i: -found[i]) == brute_force(stored, query, 5)
    assert all(abs(found[i] - float(rows[i] @ query)) < 0.01 for i in found)  # int8 rows

    best = brute_force(rows, query, 1)[0]
    table.drop(best)
    assert best not in table and best not in table.nearest(query, 5)
    table.set(best, -query)  # back, now the farthest
    assert table.nearest(query, 1).keys() != {best}
    assert len(table) == 50 and np.allclose(table.get(best), -query, atol=0.01)
    assert table.cosines([best, 999], query).keys() == {best}


def test_nearest_through_the_projection_when_large(monkeypatch: pytest.MonkeyPatch) -> None:
    # A projection on as many axes as the vectors have loses nothing: the same answers.
    monkeypatch.setattr(vectors, "EXACT_UP_TO", 100)
    monkeypatch.setattr(vectors, "PROJECTED_DIM", 16)
    monkeypatch.setattr(vectors, "RESCORED", 20)
    rng = np.random.default_rng(2)
    table = VectorTable(16)
    rows = dict(enumerate(unit(rng, 300, 16)))
    for doc_id, row in rows.items():
        table.set(doc_id, row)
    assert table._axes is not None  # fitted at 101, and again at 203
    for doc_id in range(0, 300, 3):
        table.drop(doc_id)
        del rows[doc_id]
    stored = {doc_id: table.get(doc_id) for doc_id in rows}  # as int8 rows keep them
    for query in unit(rng, 10, 16):
        found = table.nearest(query, 5)
        assert sorted(found, key=lambda i: -found[i]) == brute_force(stored, query, 5)


def test_an_initiative_vector_weighs_title_and_description_equally() -> None:
    assert initiative_texts(" Bankjes ", "  ") == ["Bankjes"]
    assert initiative_texts("Bankjes", "Meer zitplekken") == ["Bankjes", "Meer zitplekken"]
    title, description = np.eye(4, dtype=np.float32)[:2]
    combined = initiative_vector(np.stack([title, description]))
    assert np.isclose(np.linalg.norm(combined), 1.0)
    assert np.isclose(combined @ title, combined @ description)
    assert np.allclose(initiative_vector(title[None, :]), title)
