"""Sentence meaning: one small interface to a sentence-embedding model, and nothing else.

Matching and routing blend a model's cosine with their lexical scores; when no model can be
loaded they use the lexical scores alone (see `get_encoder`). The model must come inside a
package from the registry (no model hub is reachable), loads once per process, and uses one
thread, so the other core stays with the bot.
"""

from bot.semantic.encoder import (
    Encoder,
    cosine,
    embed_many,
    embed_one,
    fingerprint,
    get_encoder,
    pack,
    set_encoder,
    unpack,
)

__all__ = [
    "Encoder",
    "cosine",
    "embed_many",
    "embed_one",
    "fingerprint",
    "get_encoder",
    "pack",
    "set_encoder",
    "unpack",
]
