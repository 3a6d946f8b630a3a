"""Callback data as declared button kinds.

Every kind of button press is one `Button`, declared beside the flow that answers it: it builds
the data the button carries (refusing what Telegram would refuse: more than 64 bytes), gives the
flow's handler its pattern, and parses a press back into typed values. A press is data any client
can forge, so `parse` checks every field again and returns None for what the flow never built.

    KERN = Button("idee:kern", int)          # "idee:kern:3"
    INTRO = Button("idee:intro", ("yes", "no"))
    TOPIC = Button("post:t", (int, "none"))  # a number, or the word "none"

A field is `int` (a whole number ≥ 0), `str` (a word: letters, digits, `_ . -`), a tuple of the
literal words allowed, or a tuple mixing those.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

# The most a button may carry (Bot API: callback_data is 1–64 bytes).
LIMIT = 64
# At most 9 digits, as common.is_number: a number fits every id column (32-bit on PostgreSQL,
# where a forged larger one would fail the query instead of being refused like a stale button).
_NUMBER = r"\d{1,9}"
_WORD = r"[A-Za-z0-9_.\-]{1,40}"

Field = type | str | tuple[type | str, ...]
Value = int | str


def _alternatives(field: Field) -> tuple[type | str, ...]:
    return field if isinstance(field, tuple) else (field,)


def _regex(field: Field) -> str:
    parts = []
    for alternative in _alternatives(field):
        if alternative is int:
            parts.append(_NUMBER)
        elif alternative is str:
            parts.append(_WORD)
        elif isinstance(alternative, str) and re.fullmatch(_WORD, alternative):
            parts.append(re.escape(alternative))
        else:
            raise TypeError(f"not a button field: {alternative!r}")
    return "(" + "|".join(parts) + ")"


class Button:
    """One kind of button: a prefix ("flow:action") and the typed fields after it."""

    def __init__(self, prefix: str, *fields: Field) -> None:
        if not re.fullmatch(r"[a-z]+(:[a-z]+)*", prefix):
            raise ValueError(f"not a button prefix: {prefix!r}")
        self.prefix = prefix
        self.fields = fields
        self._field_patterns = [re.compile(_regex(f), re.ASCII) for f in fields]
        self.pattern = re.compile(
            "^" + re.escape(prefix) + "".join(":" + _regex(f) for f in fields) + "$", re.ASCII
        )

    def __repr__(self) -> str:
        return f"Button({self.prefix!r})"

    def build(self, *values: Value) -> str:
        """The callback data for these values; ValueError for a value the pattern would refuse
        or data longer than Telegram takes."""
        if len(values) != len(self.fields):
            raise ValueError(f"{self.prefix} takes {len(self.fields)} values, not {len(values)}")
        texts = [str(v) for v in values]
        for value, text, pattern in zip(values, texts, self._field_patterns, strict=True):
            if isinstance(value, bool) or not pattern.fullmatch(text):
                raise ValueError(f"{self.prefix}: {value!r} does not fit its field")
        data = ":".join([self.prefix, *texts])
        if len(data.encode()) > LIMIT:
            raise ValueError(f"{self.prefix}: {len(data.encode())} bytes, Telegram takes {LIMIT}")
        return data

    def parse(self, data: str | None) -> tuple[Any, ...] | None:
        """The typed values of a press, or None when the data is not this button's."""
        match = self.pattern.fullmatch(data or "")
        if match is None:
            return None
        values: list[Value] = []
        for text, field in zip(match.groups(), self.fields, strict=True):
            numeric = int in _alternatives(field) and text.isdigit()
            values.append(int(text) if numeric else text)
        return tuple(values)

    def one(self, data: str | None) -> Any:
        """The single value of a one-field button's press, or None."""
        values = self.parse(data)
        return values[0] if values else None

    def handler(self, callback: Callable[[Update, Any], Awaitable[Any]]) -> CallbackQueryHandler:
        """The handler that answers exactly this kind of press."""
        return CallbackQueryHandler(callback, pattern=self.pattern)


def any_press(prefix: str) -> re.Pattern[str]:
    """Every press of a flow ("idee" → every "idee:…"), for the flow's stale-button fallback."""
    return re.compile("^" + re.escape(prefix) + ":")
