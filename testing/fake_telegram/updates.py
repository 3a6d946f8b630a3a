"""Telegram update payloads as the Bot API sends them, for tests and the sandbox.

Everything here returns plain JSON dicts (what `getUpdates` would carry), so the same payloads
serve `Update.de_json` in the offline harness and the fake Bot API server over HTTP.
Entity offsets and lengths are in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

JSON = dict[str, Any]

BOT_USER: JSON = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "Burgerbeest",
    "username": "burgerbeest_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# Telegram marks these in what a user types; a bot command is only one at the start of a word.
_ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "bot_command",
        re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])"),
    ),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")),
    ("mention", re.compile(r"(?<![\w/@])@[A-Za-z][A-Za-z0-9_]{4,31}\b")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: characters outside the BMP (most emoji) count twice."""
    return len(text.encode("utf-16-le")) // 2


def entity(text: str, part: str, kind: str, *, start: int = 0, **extra: Any) -> JSON:
    """A MessageEntity of type `kind` covering the first `part` in `text` at or after `start`."""
    index = text.index(part, start)
    return {
        "type": kind,
        "offset": utf16_len(text[:index]),
        "length": utf16_len(part),
        **extra,
    }


def detect_entities(text: str) -> list[JSON]:
    """The entities Telegram's clients attach to plain typed text, in order of offset."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            # Earlier patterns win: "/start@bot" is one command, not a command and a mention.
            if any(start < e and s < end for s, e, _ in found):
                continue
            found.append((start, end, kind))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]


def user(
    user_id: int,
    *,
    first_name: str = "Test",
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "nl",
    is_bot: bool = False,
) -> JSON:
    """A User; optional fields are left out when None, as Telegram does."""
    payload: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    optional = {"last_name": last_name, "username": username, "language_code": language_code}
    payload.update({key: value for key, value in optional.items() if value is not None})
    return payload


def private_chat(of_user: JSON) -> JSON:
    """The private Chat between the bot and a user: its id is the user's id."""
    chat: JSON = {"id": of_user["id"], "type": "private", "first_name": of_user["first_name"]}
    for key in ("last_name", "username"):
        if key in of_user:
            chat[key] = of_user[key]
    return chat


def now() -> int:
    return int(time.time())


def message(
    from_user: JSON,
    message_id: int,
    *,
    chat: JSON | None = None,
    date: int | None = None,
    **fields: Any,
) -> JSON:
    """A Message in the private chat with `from_user` (or `chat`), with any extra fields."""
    payload: JSON = {
        "message_id": message_id,
        "from": from_user,
        "chat": chat if chat is not None else private_chat(from_user),
        "date": now() if date is None else date,
    }
    payload.update({key: value for key, value in fields.items() if value is not None})
    return payload


def message_update(
    update_id: int,
    from_user: JSON,
    text: str,
    *,
    message_id: int | None = None,
    date: int | None = None,
    entities: list[JSON] | None = None,
) -> JSON:
    """A text message from a user in their private chat with the bot.

    Entities (bot commands, links, mentions, hashtags) are detected as Telegram does, unless
    `entities` is given; pass `[]` for none.
    """
    if entities is None:
        entities = detect_entities(text)
    return {
        "update_id": update_id,
        "message": message(
            from_user,
            update_id if message_id is None else message_id,
            date=date,
            text=text,
            entities=entities or None,
        ),
    }


def sticker_update(
    update_id: int,
    from_user: JSON,
    *,
    message_id: int | None = None,
    date: int | None = None,
    emoji: str = "👍",
    file_id: str | None = None,
) -> JSON:
    sticker = {
        "file_id": file_id or f"CAACAgIAAxkBAAI-sticker-{update_id}",
        "file_unique_id": f"AgADsticker{update_id}",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "set_name": "BurgerbeestTest",
        "file_size": 24_576,
    }
    return {
        "update_id": update_id,
        "message": message(
            from_user,
            update_id if message_id is None else message_id,
            date=date,
            sticker=sticker,
        ),
    }


def photo_sizes(file_id: str, *, file_size: int = 81_920) -> list[JSON]:
    """The thumbnails-to-full list Telegram sends for one photo; the last one is the largest."""
    sizes = ((90, 67), (320, 240), (800, 600), (1280, 960))
    return [
        {
            "file_id": f"{file_id}-{width}",
            "file_unique_id": f"{file_id[-12:]}{index}",
            "width": width,
            "height": height,
            "file_size": max(1, file_size * width * height // (1280 * 960)),
        }
        for index, (width, height) in enumerate(sizes)
    ]


def photo_update(
    update_id: int,
    from_user: JSON,
    *,
    caption: str | None = None,
    message_id: int | None = None,
    date: int | None = None,
    file_id: str | None = None,
) -> JSON:
    """A photo from a user, optionally with a caption (entities detected like in text)."""
    entities = detect_entities(caption) if caption else []
    return {
        "update_id": update_id,
        "message": message(
            from_user,
            update_id if message_id is None else message_id,
            date=date,
            photo=photo_sizes(file_id or f"AgACAgQAAxkBAAI-photo-{update_id}"),
            caption=caption,
            caption_entities=entities or None,
        ),
    }


def callback_update(
    update_id: int,
    from_user: JSON,
    data: str,
    *,
    message_id: int | None = None,
    message_text: str = "...",
    reply_markup: JSON | None = None,
    bot: JSON | None = None,
    message: JSON | None = None,
    query_id: str | None = None,
) -> JSON:
    """A press on an inline button under a message the bot sent in the user's private chat.

    Pass `message` (e.g. the result the fake server returned for sendMessage) to press under
    that exact message; otherwise a bot message with `message_id` and `message_text` is built.
    """
    if message is None:
        if message_id is None:
            raise ValueError("callback_update needs message_id or message")
        message = _bot_message(from_user, message_id, message_text, reply_markup, bot)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id or str(4_000_000_000_000 + update_id),
            "from": from_user,
            "message": message,
            # Stable per chat, like Telegram's global identifier of the chat with the message.
            "chat_instance": str(-(8_000_000_000_000 + abs(from_user["id"]))),
            "data": data,
        },
    }


def _bot_message(
    to_user: JSON,
    message_id: int,
    text: str,
    reply_markup: JSON | None,
    bot: JSON | None,
) -> JSON:
    return {
        "message_id": message_id,
        "from": bot or BOT_USER,
        "chat": private_chat(to_user),
        "date": now(),
        "text": text,
        **({"reply_markup": reply_markup} if reply_markup else {}),
    }


class UpdateFactory:
    """Numbers updates and messages itself, so a test only says who does what.

    >>> updates = UpdateFactory()
    >>> anna = user(1001, first_name="Anna")
    >>> updates.command(anna, "start")["message"]["text"]
    '/start'

    `next_message_id(chat_id)` lets the fake server hand out message ids, so user and bot
    messages in one chat share a sequence as they do on Telegram.
    """

    def __init__(
        self,
        *,
        first_update_id: int = 1,
        bot: JSON | None = None,
        next_message_id: Callable[[int], int] | None = None,
    ) -> None:
        self.bot = bot or BOT_USER
        self._lock = threading.Lock()
        self._update_ids: Iterator[int] = count(first_update_id)
        self._message_ids: dict[int, Iterator[int]] = {}
        self._next_message_id = next_message_id

    def _ids(self, chat_id: int) -> tuple[int, int]:
        with self._lock:
            update_id = next(self._update_ids)
            if self._next_message_id is not None:
                return update_id, self._next_message_id(chat_id)
            ids = self._message_ids.setdefault(chat_id, count(1))
            return update_id, next(ids)

    def _update_id(self) -> int:
        with self._lock:
            return next(self._update_ids)

    def text(self, from_user: JSON, text: str, *, entities: list[JSON] | None = None) -> JSON:
        update_id, message_id = self._ids(from_user["id"])
        return message_update(update_id, from_user, text, message_id=message_id, entities=entities)

    def command(
        self,
        from_user: JSON,
        command: str,
        args: str = "",
        *,
        bot_username: str | None = None,
    ) -> JSON:
        """`/command args`; `bot_username` gives the `/command@botname` spelling."""
        name = command.removeprefix("/")
        if bot_username:
            name = f"{name}@{bot_username}"
        text = f"/{name} {args}" if args else f"/{name}"
        return self.text(from_user, text)

    def press(
        self,
        from_user: JSON,
        data: str,
        message_id: int | None = None,
        *,
        message: JSON | None = None,
        message_text: str = "...",
        reply_markup: JSON | None = None,
    ) -> JSON:
        """A button press under `message` or under the bot's message `message_id`."""
        return callback_update(
            self._update_id(),
            from_user,
            data,
            message_id=message_id,
            message_text=message_text,
            reply_markup=reply_markup,
            bot=self.bot,
            message=message,
        )

    def sticker(self, from_user: JSON, *, emoji: str = "👍") -> JSON:
        update_id, message_id = self._ids(from_user["id"])
        return sticker_update(update_id, from_user, message_id=message_id, emoji=emoji)

    def photo(self, from_user: JSON, caption: str | None = None) -> JSON:
        update_id, message_id = self._ids(from_user["id"])
        return photo_update(update_id, from_user, caption=caption, message_id=message_id)

    def message(self, from_user: JSON, **fields: Any) -> JSON:
        """Any other kind of message: `factory.message(anna, location={...})`."""
        update_id, message_id = self._ids(from_user["id"])
        return {"update_id": update_id, "message": message(from_user, message_id, **fields)}
