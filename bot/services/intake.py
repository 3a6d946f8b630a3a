"""Deciding when an initiative's description needs a pointed follow-up question."""

from __future__ import annotations

import re
from enum import StrEnum

_WORD = re.compile(r"\w+", re.UNICODE)
# Words that signal a resident has not made up their mind yet ("iets met groen ofzo").
_VAGUE = {"iets", "dingen", "ofzo", "enzo", "misschien", "eventueel", "something", "stuff", "maybe"}
_VAGUE_PHRASES = ("weet ik niet", "weet niet", "geen idee", "van alles", "not sure", "no idea")
MIN_WORDS = 6
# A longer description that still hedges is concrete enough: the follow-up would be nagging.
VAGUE_MAX_WORDS = 20


class FollowUp(StrEnum):
    SHORT = "short"
    VAGUE = "vague"


def description_follow_up(description: str) -> FollowUp | None:
    """A follow-up to ask about `description`, or None when it is concrete enough."""
    words = [w.lower() for w in _WORD.findall(description)]
    if len(words) < MIN_WORDS:
        return FollowUp.SHORT
    lowered = description.lower()
    hedges = sum(w in _VAGUE for w in words) + sum(p in lowered for p in _VAGUE_PHRASES)
    if hedges and len(words) <= VAGUE_MAX_WORDS:
        return FollowUp.VAGUE
    return None
