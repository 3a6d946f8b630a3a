"""Sentence vectors of indexed initiatives, and the nearest ones to a query vector.

Rows are int8 with a scale each (a quarter of float32's memory, and a cosine off by at most
0.002). A query reads every row, so its cost is memory traffic: on the 2-core bench machine a
float32 product over 100,000 × 384 took 11–20 ms, too slow for the 5 ms a whole query may take.
So above `EXACT_UP_TO` rows a projection on the leading principal axes of the stored vectors
(64 dimensions, float32, 26 MB at 100,000) picks `RESCORED` rows first, and only those are
scored exactly. bench/matching.py measures it: about 1.7 ms at 100,000 rows, passing 5 ms
somewhere between 250,000 and 300,000; beyond that a numpy product is not enough and an
approximate index (IVF, HNSW) would be the next step.
"""

from __future__ import annotations

import numpy as np

# Below this many rows every row is scored exactly (a few milliseconds at most).
EXACT_UP_TO = 8_192
# Dimensions of the projection, and rows it hands on to exact scoring: 64 keeps 2/3 of the
# variance of e5 vectors of civic titles and finds 97 % of the exact top 10 within its top 200
# (measured on the SICK-NL and Pabulib texts).
PROJECTED_DIM = 64
RESCORED = 512
# Fitted once from at most this many rows, again whenever the table has doubled since.
FIT_SAMPLE = 4_096


def initiative_texts(title: str, description: str) -> list[str]:
    """What an initiative's vector is made of: its title, and its description if it has one."""
    return [t for t in (title.strip(), description.strip()) if t]


def initiative_vector(parts: np.ndarray) -> np.ndarray:
    """One vector from the vectors of `initiative_texts()`: their normalised sum, so title and
    description count equally. On the Velsen-style pairs (bench/matching.py) this finds far more
    of the same ideas at the bot's thresholds than one vector of "title. description", whose
    cosine with a short search text comes out lower than the thresholds expect (they were set
    on titles)."""
    total = np.asarray(parts, dtype=np.float32).sum(axis=0)
    return total / (np.linalg.norm(total) or 1.0)


class VectorTable:
    """Unit vectors by id: set, drop, and the ids nearest to a query (cosine)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._rows = np.zeros((0, dim), dtype=np.int8)
        self._scales = np.zeros(0, dtype=np.float32)
        self._ids = np.zeros(0, dtype=np.int64)  # -1: a free row
        self._row_of: dict[int, int] = {}
        self._free: list[int] = []
        self._used = 0  # rows ever handed out (free ones included)
        # The projection: the mean, the axes (dim × PROJECTED_DIM) and the projected rows.
        self._mean: np.ndarray | None = None
        self._axes: np.ndarray | None = None
        self._projected = np.zeros((0, PROJECTED_DIM), dtype=np.float32)
        self._fitted_at = 0

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row_of

    def get(self, doc_id: int) -> np.ndarray | None:
        row = self._row_of.get(doc_id)
        if row is None:
            return None
        return self._rows[row].astype(np.float32) * self._scales[row]

    def set(self, doc_id: int, vector: np.ndarray) -> None:
        vector = np.asarray(vector, dtype=np.float32).reshape(self.dim)
        row = self._row_of.get(doc_id)
        if row is None:
            row = self._free.pop() if self._free else self._new_row()
            self._row_of[doc_id] = row
        peak = float(np.abs(vector).max()) or 1.0
        self._rows[row] = np.round(vector * (127.0 / peak)).astype(np.int8)
        self._scales[row] = peak / 127.0
        self._ids[row] = doc_id
        if self._axes is not None:
            self._projected[row] = (vector - self._mean) @ self._axes
        if len(self._row_of) > max(EXACT_UP_TO, 2 * self._fitted_at):
            self._fit()

    def drop(self, doc_id: int) -> None:
        row = self._row_of.pop(doc_id, None)
        if row is None:
            return
        self._ids[row] = -1
        self._rows[row] = 0
        if self._axes is not None:
            self._projected[row] = 0.0
        self._free.append(row)

    def cosines(self, ids: list[int], query: np.ndarray) -> dict[int, float]:
        """The cosine of each of `ids` that has a vector with the (unit) `query`."""
        rows = [self._row_of[i] for i in ids if i in self._row_of]
        if not rows:
            return {}
        values = self._exact(np.asarray(rows), np.asarray(query, dtype=np.float32))
        return dict(zip(self._ids[rows].tolist(), values.tolist(), strict=True))

    def nearest(self, query: np.ndarray, k: int) -> dict[int, float]:
        """Up to `k` ids with the highest cosine to the (unit) `query`, with their cosines."""
        if not self._row_of or k < 1:
            return {}
        query = np.asarray(query, dtype=np.float32)
        if self._axes is None:
            rows = np.flatnonzero(self._ids[: self._used] >= 0)
        else:
            near = self._projected[: self._used] @ ((query - self._mean) @ self._axes)
            take = min(RESCORED, self._used)
            rows = np.argpartition(-near, take - 1)[:take]
            rows = rows[self._ids[rows] >= 0]
        values = self._exact(rows, query)
        if len(rows) > k:
            best = np.argpartition(-values, k - 1)[:k]
            rows, values = rows[best], values[best]
        return dict(zip(self._ids[rows].tolist(), values.tolist(), strict=True))

    def _exact(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        return (self._rows[rows].astype(np.float32) @ query) * self._scales[rows]

    def _new_row(self) -> int:
        if self._used == len(self._ids):
            # In place (realloc): a copy would hold the old and the new table at once; by a
            # quarter, as the new rows are zeroed, so resident, from the start.
            grown = max(64, len(self._ids) + len(self._ids) // 4)
            self._rows.resize((grown, self.dim), refcheck=False)
            self._scales.resize(grown, refcheck=False)
            self._ids.resize(grown, refcheck=False)
            self._ids[self._used :] = -1
            if self._axes is not None:
                self._projected.resize((grown, PROJECTED_DIM), refcheck=False)
        self._used += 1
        return self._used - 1

    def _fit(self) -> None:
        """The principal axes of (a sample of) the stored vectors, and every row projected."""
        live = np.flatnonzero(self._ids[: self._used] >= 0)
        sample = np.random.default_rng(len(live)).choice(
            live, min(FIT_SAMPLE, len(live)), replace=False
        )
        vectors = self._rows[sample].astype(np.float32) * self._scales[sample, None]
        self._mean = vectors.mean(axis=0)
        _, _, axes = np.linalg.svd(vectors - self._mean, full_matrices=False)
        self._axes = np.ascontiguousarray(axes[:PROJECTED_DIM].T)
        self._projected.resize((len(self._ids), PROJECTED_DIM), refcheck=False)
        for start in range(0, self._used, 4_096):  # in chunks: no float32 copy of everything
            block = slice(start, min(start + 4_096, self._used))
            full = self._rows[block].astype(np.float32) * self._scales[block, None]
            self._projected[block] = (full - self._mean) @ self._axes
        self._projected[: self._used][self._ids[: self._used] < 0] = 0.0
        self._fitted_at = len(live)
