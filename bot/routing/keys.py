"""Topic keys: "main" or "main/sub". What it means for one key to lie within another, once."""

from __future__ import annotations


def within(key: str | None, prefix: str) -> bool:
    """True when `key` is `prefix` or one of its subtopics: "afval/grofvuil" is within "afval"
    and within itself, "afvalbak" is not within "afval"."""
    return key is not None and f"{key}/".startswith(f"{prefix}/")


def main_topic(key: str | None) -> str | None:
    """The main topic of a key: "initiatieven" for "initiatieven/groen" and for itself."""
    return key.split("/", 1)[0] if key else None
