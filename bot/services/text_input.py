"""Cleaning what residents type, before anything looks at it or stores it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# Zero-width joiner glues emoji sequences together (👩‍👩‍👧); every other format character
# (zero-width space, bidi overrides that can disguise text, BOM) is removed.
_KEEP_FORMAT = {"\u200d"}
_KEEP_CONTROL = {"\n", "\t"}


def clean(text: str | None) -> str:
    """NFC-normalised text without invisible format/control characters, trimmed per line."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    kept = [
        ch
        for ch in text
        if ch in _KEEP_CONTROL
        or ch in _KEEP_FORMAT
        or unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Co", "Cn")
    ]
    lines = "".join(kept).replace("\t", " ").split("\n")
    text = "\n".join(line.strip() for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    # Text made of nothing but joiners and spaces counts as empty.
    return text.strip() if text.replace("\u200d", "").strip() else ""


class Problem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class Checked:
    text: str
    problem: Problem | None = None
    length: int = 0
    limit: int = 0


def check(raw: str | None, limit: int) -> Checked:
    """Clean `raw` and say whether it is usable as an answer of at most `limit` characters."""
    text = clean(raw)
    if not text:
        return Checked(text, Problem.EMPTY)
    if len(text) > limit:
        return Checked(text, Problem.TOO_LONG, length=len(text), limit=limit)
    return Checked(text)


def excerpt(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace made one space), cut to at most `limit`
    characters with "…": for a list, a log line or a button label."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Telegram ids fit in 52 bits (16 digits); chats of groups are negative.
_TELEGRAM_ID = re.compile(r"-?[0-9]{1,16}")


def parse_telegram_id(text: str) -> int | None:
    """A Telegram id as someone typed it, or None: ASCII digits only ("²".isdigit() is True)
    and never more than an id column holds."""
    text = text.strip()
    return int(text) if _TELEGRAM_ID.fullmatch(text) else None
