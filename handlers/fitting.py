"""Every text the bot sends fits Telegram's limits: the one place that guarantees it.

Telegram refuses a message over 4,096 characters and a caption over 1,024, counted in UTF-16
code units of the text after entity parsing (tags count nothing, `&amp;` counts one, an emoji
outside the BMP two). `FittingBot` is the application's Bot: every call passes through it, so
a text that is too long is split into several messages (at a paragraph, line or word, with open
HTML tags closed and reopened around the cut, the buttons under the last part) and an edit, a
caption or a toast, which cannot become several messages, is shortened with "…". Flows that can
outgrow a message and read badly in parts page themselves (/wie); this is the guarantee below.

Once the first part has arrived the message must never be sent again whole: a later part that
meets flood control waits as Telegram asks and is tried again here, and any other failure is
raised as `PartlySent`, which no sender retries.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from dataclasses import dataclass
from typing import Any

from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ExtBot

from handlers.delivery import PartlySent, retry_seconds

log = logging.getLogger(__name__)

TEXT_MAX = 4096
CAPTION_MAX = 1024
TOAST_MAX = 200
ELLIPSIS = "…"
# How often, and how long at most, a later part waits out flood control before giving up.
PART_RETRIES = 3
PART_WAIT_MAX_S = 60.0

# A tag, or one of the character references Telegram's HTML parser knows (others stay as typed).
_TOKEN = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>|&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|lt|gt|amp|quot);"
)
# A break this far into the room, or further, is good; an earlier one wastes too much of it.
_GOOD_BREAK = 0.5


@dataclass(frozen=True, slots=True)
class _Atom:
    """One indivisible piece of the source: a tag (no width) or a character as typed."""

    raw: str
    units: int = 0
    char: str = ""  # the character a reader sees; "" for a tag
    tag: str = ""  # the tag's name, for tags
    closing: bool = False


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _atoms(text: str, is_html: bool) -> list[_Atom]:
    if not is_html:
        return [_Atom(ch, _units(ch), ch) for ch in text]
    atoms: list[_Atom] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        atoms += [_Atom(ch, _units(ch), ch) for ch in text[pos : match.start()]]
        if match.group(2):
            atoms.append(_Atom(match.group(0), tag=match.group(2).lower(), closing=bool(match[1])))
        else:
            char = html.unescape(match.group(0))
            atoms.append(_Atom(match.group(0), _units(char), char))
        pos = match.end()
    atoms += [_Atom(ch, _units(ch), ch) for ch in text[pos:]]
    return atoms


def visible_length(text: str, *, is_html: bool = True) -> int:
    """The length Telegram checks against its limits: UTF-16 units of the parsed text."""
    return sum(atom.units for atom in _atoms(text, is_html))


def fits(text: str, limit: int = TEXT_MAX, *, is_html: bool = True) -> bool:
    return visible_length(text, is_html=is_html) <= limit


def _cut(atoms: list[_Atom], start: int, room: int) -> int:
    """Where the part that begins at `start` should end: the best break that leaves it at most
    `room` units — before a blank line, else a line break, else a space, else mid-word."""
    end, used = start, 0
    while end < len(atoms) and used + atoms[end].units <= room:
        used += atoms[end].units
        end += 1
    if end == len(atoms):
        return end
    floor, used = end, 0
    for index in range(start, end):  # a good break leaves the part at least half full
        if used >= room * _GOOD_BREAK:
            floor = index
            break
        used += atoms[index].units
    for wanted in ("\n\n", "\n", " "):
        for index in range(end, floor - 1, -1):
            if _breaks_before(atoms, index, wanted):
                # Tags closed right at the break close in this part.
                while atoms[index].tag and atoms[index].closing:
                    index += 1
                return index
    return end


def _breaks_before(atoms: list[_Atom], index: int, wanted: str) -> bool:
    """Whether the text from `index` on starts with `wanted` (tags in between are skipped)."""
    seen = ""
    for position in range(index, len(atoms)):
        atom = atoms[position]
        if atom.tag:
            continue
        seen += atom.char
        if not wanted.startswith(seen):
            return False
        if seen == wanted:
            return True
    return False


def _still_open(open_tags: list[_Atom], atoms: list[_Atom]) -> list[_Atom]:
    """The tags open after `atoms`, when `open_tags` were open before them."""
    stack = list(open_tags)
    for atom in atoms:
        if atom.tag and atom.closing:
            if stack and stack[-1].tag == atom.tag:
                stack.pop()
        elif atom.tag:
            stack.append(atom)
    return stack


def _render(atoms: list[_Atom], open_tags: list[_Atom]) -> str:
    """The part's source: the tags open before it reopened, those open at its end closed."""
    closing = [f"</{tag.tag}>" for tag in reversed(_still_open(open_tags, atoms))]
    return "".join([*(tag.raw for tag in open_tags), *(atom.raw for atom in atoms), *closing])


def _trimmed(atoms: list[_Atom], start: int, end: int) -> tuple[int, int]:
    """The part without the whitespace at either cut, nor tags opened just before its end
    (they belong to the next part)."""
    while start < end and not atoms[start].tag and atoms[start].char.isspace():
        start += 1
    while end > start and (
        (atoms[end - 1].tag and not atoms[end - 1].closing) or atoms[end - 1].char.isspace()
    ):
        end -= 1
    return start, end


def split(text: str, limit: int = TEXT_MAX, *, is_html: bool = True) -> list[str]:
    """`text` as parts that each fit `limit`; the text itself when it fits."""
    atoms = _atoms(text, is_html)
    if sum(atom.units for atom in atoms) <= limit:
        return [text]
    parts: list[str] = []
    open_tags: list[_Atom] = []
    start = 0
    while start < len(atoms):
        end = _cut(atoms, start, limit)
        first, last = _trimmed(atoms, start, end)
        if any(atom.char.strip() for atom in atoms[first:last]):
            parts.append(_render(atoms[first:last], open_tags))
        # What was trimmed off the end starts the next part.
        following = last if end < len(atoms) and last > start else end
        open_tags = _still_open(open_tags, atoms[start:following])
        start = following
    return parts or [text]


def shorten(text: str, limit: int, *, is_html: bool = True) -> str:
    """`text` cut to fit `limit`, at a word where one is near, ending in "…"."""
    atoms = _atoms(text, is_html)
    if sum(atom.units for atom in atoms) <= limit:
        return text
    end = _cut(atoms, 0, limit - _units(ELLIPSIS))
    first, last = _trimmed(atoms, 0, end)
    return _render([*atoms[first:last], _Atom(ELLIPSIS, _units(ELLIPSIS), ELLIPSIS)], [])


# A message too long becomes several; a text that cannot (an edit, a caption, a toast) is
# shortened: the parameter and its limit per Bot API method.
_SPLIT = frozenset({"sendMessage"})
_SHORTEN = {
    "editMessageText": ("text", TEXT_MAX),
    "sendPhoto": ("caption", CAPTION_MAX),
    "sendDocument": ("caption", CAPTION_MAX),
    "sendAnimation": ("caption", CAPTION_MAX),
    "sendVideo": ("caption", CAPTION_MAX),
    "sendAudio": ("caption", CAPTION_MAX),
    "sendVoice": ("caption", CAPTION_MAX),
    "copyMessage": ("caption", CAPTION_MAX),
    "editMessageCaption": ("caption", CAPTION_MAX),
    "answerCallbackQuery": ("text", TOAST_MAX),
}
# What only the first part of a split message keeps (it answers the message replied to), and
# what only the last keeps (the buttons under it).
_FIRST_ONLY = ("reply_parameters", "reply_to_message_id")
_LAST_ONLY = ("reply_markup",)


class FittingBot(ExtBot[None]):
    """The application's Bot: no text leaves it longer than Telegram accepts."""

    async def _do_post(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> Any:
        is_html = str(data.get("parse_mode") or "").lower() == ParseMode.HTML.lower()
        if endpoint in _SHORTEN:
            key, limit = _SHORTEN[endpoint]
            text = data.get(key)
            if isinstance(text, str) and not fits(text, limit, is_html=is_html):
                log.warning("%s: %s shortened to %s characters", endpoint, key, limit)
                data = {**data, key: shorten(text, limit, is_html=is_html)}
            return await super()._do_post(endpoint, data, **kwargs)
        text = data.get("text")
        if endpoint not in _SPLIT or not isinstance(text, str):
            return await super()._do_post(endpoint, data, **kwargs)
        parts = split(text, TEXT_MAX, is_html=is_html)
        if len(parts) > 1:
            log.info("%s: text sent in %s parts", endpoint, len(parts))
        result: Any = None
        for number, part in enumerate(parts, 1):
            fields = {**data, "text": part}
            for dropped in (_FIRST_ONLY if number > 1 else ()) + (
                _LAST_ONLY if number < len(parts) else ()
            ):
                fields.pop(dropped, None)
            if number == 1:
                result = await super()._do_post(endpoint, fields, **kwargs)
            else:
                result = await self._later_part(endpoint, fields, number, len(parts), **kwargs)
        return result

    async def _later_part(
        self, endpoint: str, fields: dict[str, Any], number: int, of: int, **kwargs: Any
    ) -> Any:
        waits = 0
        while True:
            try:
                return await super()._do_post(endpoint, fields, **kwargs)
            except RetryAfter as error:
                seconds = retry_seconds(error)
                waits += 1
                if waits >= PART_RETRIES or seconds > PART_WAIT_MAX_S:
                    raise PartlySent(number - 1, of, error) from error
                log.info(
                    "%s: part %s of %s waits %.0f s for flood control",
                    endpoint,
                    number,
                    of,
                    seconds,
                )
                await asyncio.sleep(seconds)
            except TelegramError as error:
                raise PartlySent(number - 1, of, error) from error
