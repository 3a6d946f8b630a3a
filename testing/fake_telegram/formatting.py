"""Telegram's HTML parse mode: the text a user sees, its entities, and Telegram's parse errors.

The bot sends everything with parse_mode HTML, so an unescaped `<` in a resident's text is a real
production failure ("can't parse entities"). The fake server renders HTML like Telegram does, so
end-to-end tests hit the same 400 and see the same plain text in returned messages.
"""

from __future__ import annotations

import html
import re
from typing import Any

from testing.fake_telegram.updates import utf16_len

_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([^\s=>/]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_CHAR_REF = re.compile(r"&(#[0-9]+|#[xX][0-9A-Fa-f]+|lt|gt|amp|quot);")

_KINDS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",  # only with class="tg-spoiler"
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class EntityParseError(ValueError):
    """Telegram's 400 "Bad Request: can't parse entities: ..." for malformed markup."""


def render_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities (UTF-16 offsets) for HTML-formatted `source`."""
    out: list[str] = []
    length = 0  # UTF-16 length of the plain text so far
    stack: list[tuple[str, dict[str, Any], int]] = []  # (tag, entity, start)
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(source):
        lt = source.find("<", pos)
        data_end = len(source) if lt == -1 else lt
        if data_end > pos:
            chunk = _unescape(source[pos:data_end])
            out.append(chunk)
            length += utf16_len(chunk)
        if lt == -1:
            break
        match = _TAG.match(source, lt)
        offset = len(source[:lt].encode("utf-8"))
        if match is None:
            raise EntityParseError(f"Unexpected end of name token at byte offset {offset}")
        closing, tag, attributes = match.group(1), match.group(2).lower(), match.group(3)
        pos = match.end()
        if closing:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
            open_tag, entity, start = stack.pop()
            if open_tag != tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{open_tag}>", '
                    f'found "</{tag}>"'
                )
            _close(entity, start, length, stack, entities)
            continue
        entity = _open(tag, _attributes(attributes), offset)
        stack.append((tag, entity, length))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _unescape(chunk: str) -> str:
    # Telegram knows the numeric references and only four named ones; others stay as typed.
    return _CHAR_REF.sub(lambda m: html.unescape(m.group(0)), chunk)


def _attributes(raw: str) -> dict[str, str]:
    return {
        m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTR.finditer(raw)
    }


def _open(tag: str, attributes: dict[str, str], offset: int) -> dict[str, Any]:
    kind = _KINDS.get(tag)
    if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {offset}')
    entity: dict[str, Any] = {"type": kind}
    if tag == "a":
        href = attributes.get("href", "")
        user_id = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user_id:
            # Only the id: the server fills in the User it knows (BotApiMethods._mentions).
            entity = {"type": "text_mention", "user": {"id": int(user_id.group(1))}}
        else:
            entity["url"] = href
    elif tag == "code" and attributes.get("class", "").startswith("language-"):
        entity["language"] = attributes["class"].removeprefix("language-")
    elif tag == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attributes.get("emoji-id", "")
    return entity


def _close(
    entity: dict[str, Any],
    start: int,
    end: int,
    stack: list[tuple[str, dict[str, Any], int]],
    entities: list[dict[str, Any]],
) -> None:
    # <pre><code class="language-x"> is one pre entity with a language, as Telegram makes it.
    if entity["type"] == "code" and "language" in entity and stack and stack[-1][0] == "pre":
        stack[-1][1]["language"] = entity["language"]
        return
    if entity["type"] == "text_link" and not entity.get("url"):
        return
    if end > start:  # Telegram drops empty entities
        entities.append({**entity, "offset": start, "length": end - start})
