"""The Bot API methods the fake server answers, with the state they need and Telegram's refusals.

Results are Bot API objects PTB parses (`Message`, `User`, `BotCommand`, `File`, `True`); errors are
`BotApiError` with Telegram's wording, which the server turns into `{"ok": false, ...}`.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from testing.fake_telegram.formatting import EntityParseError, render_html
from testing.fake_telegram.params import UploadedFile
from testing.fake_telegram.updates import photo_sizes, private_chat, utf16_len

JSON = dict[str, Any]
Files = dict[str, UploadedFile]
Handler = Callable[[JSON, Files], Any]

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Telegram's limits, in UTF-16 code units of the text after entity parsing.
TEXT_MAX, CAPTION_MAX, TOAST_MAX = 4096, 1024, 200
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class BotApiError(Exception):
    """An error answer of the Bot API: HTTP status = error_code, as Telegram does."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> JSON:
        payload: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            payload["parameters"] = self.parameters
        return payload


def bad_request(detail: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {detail}")


class BotApiMethods:
    """Chats, messages, commands and files as the bot has shaped them; `lock` guards them all."""

    def __init__(self, bot_user: JSON, lock: threading.Condition, *, strict: bool) -> None:
        self.bot_user = bot_user
        self.strict = strict
        self.webhook_url = ""
        self._lock = lock
        self._chats: dict[int, JSON] = {}
        # Users the bot has seen in updates, as a text mention shows them.
        self._users: dict[int, JSON] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_id: dict[int, int] = {}
        self._queries: set[str] = set()
        self._commands: dict[str, list[JSON]] = {}
        self._files: dict[str, bytes] = {}
        self._file_count = 0
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name, handler in {
            "getMe": lambda p, f: dict(self.bot_user),
            "logOut": lambda p, f: True,
            "close": lambda p, f: True,
            "setWebhook": self.set_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "setMyCommands": self.set_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getMyCommands": self.get_my_commands,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendChatAction": self.send_chat_action,
            "getFile": self.get_file,
        }.items():
            self.register(name, handler)

    # --- registry --------------------------------------------------------------------------

    def register(self, name: str, handler: Handler) -> None:
        # Telegram matches method names case-insensitively.
        self._handlers[name.lower()] = (name, handler)

    def canonical(self, name: str) -> str | None:
        entry = self._handlers.get(name.lower())
        return entry[0] if entry else None

    def handler(self, name: str) -> Handler | None:
        entry = self._handlers.get(name.lower())
        return entry[1] if entry else None

    # --- what the server learns from updates ------------------------------------------------

    def learn(self, update: JSON) -> None:
        """Chats, message ids and callback queries that an enqueued update makes known."""
        for key in ("message", "edited_message"):
            if key in update:
                self._see_message(update[key])
        query = update.get("callback_query")
        if query:
            self._queries.add(str(query["id"]))
            if isinstance(query.get("message"), dict):
                self._see_message(query["message"])
            self.add_chat(query["from"])

    def _see_message(self, message: JSON) -> None:
        sender = message.get("from")
        if isinstance(sender, dict) and sender.get("id") != self.bot_user["id"]:
            self._see_user(sender)
        chat = message["chat"]
        self._chats.setdefault(chat["id"], dict(chat))
        self._last_id[chat["id"]] = max(self._last_id.get(chat["id"], 0), message["message_id"])
        if message.get("from", {}).get("id") == self.bot_user["id"]:
            # A press under a bot message the test made up: let the bot edit that message.
            self._messages.setdefault((chat["id"], message["message_id"]), copy.deepcopy(message))

    def add_chat(self, user_or_chat: JSON) -> None:
        if "type" in user_or_chat:
            chat = user_or_chat
        else:
            chat = private_chat(user_or_chat)
            self._see_user(user_or_chat)
        self._chats.setdefault(chat["id"], dict(chat))

    def _see_user(self, seen: JSON) -> None:
        if "id" in seen and "first_name" in seen:
            # A User as another message shows it: the fields that are the same for every bot.
            self._users[seen["id"]] = {
                key: seen[key]
                for key in ("id", "is_bot", "first_name", "last_name", "username")
                if key in seen
            } | {"is_bot": bool(seen.get("is_bot", False))}

    def _mentions(self, entities: list[JSON]) -> list[JSON]:
        """Entities as Telegram returns them: a text mention carries the whole User (id, is_bot,
        first_name, ...), which clients and PTB need. Telegram only links a user the bot can
        see (one who wrote to it); a mention of anyone else is left out and the words stay
        plain. Lenient mode makes up a user instead, as it makes up chats."""
        resolved = []
        for found in entities:
            if found.get("type") == "text_mention":
                user_id = (found.get("user") or {}).get("id")
                known = self._users.get(user_id) if isinstance(user_id, int) else None
                if known is None and not self.strict and isinstance(user_id, int):
                    known = {"id": user_id, "is_bot": False, "first_name": "Test"}
                if known is None:
                    continue
                found = {**found, "user": dict(known)}
            resolved.append(found)
        return resolved

    def next_id(self, chat_id: int) -> int:
        with self._lock:
            self._last_id[chat_id] = self._last_id.get(chat_id, 0) + 1
            return self._last_id[chat_id]

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        found = self._messages.get((chat_id, message_id))
        return copy.deepcopy(found) if found else None

    def chat_messages(self, chat_id: int) -> list[JSON]:
        return [
            copy.deepcopy(message)
            for (chat, _), message in sorted(self._messages.items())
            if chat == chat_id
        ]

    def uploaded(self, file_id: str) -> bytes | None:
        """The bytes the bot uploaded under this file_id (any size of a photo), or None."""
        return self._files.get(file_id)

    def file_content(self, path: str) -> bytes | None:
        file_id = path.rsplit("/", 1)[-1]
        return self._files.get(file_id, f"fake-telegram file {file_id}".encode())

    # --- webhook ---------------------------------------------------------------------------

    def set_webhook(self, params: JSON, files: Files) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        with self._lock:
            self.webhook_url = url
        return True

    def get_webhook_info(self, params: JSON, files: Files) -> JSON:
        with self._lock:
            return {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }

    # --- sending ---------------------------------------------------------------------------

    def send_message(self, params: JSON, files: Files) -> JSON:
        text, entities = _formatted(params, "text", TEXT_MAX)
        with self._lock:
            entities = self._mentions(entities)
            chat = self._chat(params)
            return self._new_message(
                chat, params, text=text, entities=entities or None, **_markup(params)
            )

    def send_photo(self, params: JSON, files: Files) -> JSON:
        caption, entities = _formatted(params, "caption", CAPTION_MAX)
        with self._lock:
            entities = self._mentions(entities)
            chat = self._chat(params)
            file_id = self._file_id(params, files, "photo", "AgACAgQAAxkBAAI")
            sizes = photo_sizes(file_id)
            if file_id in self._files:
                # Every size downloads as the uploaded bytes; the largest reports their length.
                for size in sizes:
                    self._files[size["file_id"]] = self._files[file_id]
                sizes[-1]["file_size"] = len(self._files[file_id])
            return self._new_message(
                chat,
                params,
                photo=sizes,
                caption=caption or None,
                caption_entities=entities or None,
                **_markup(params),
            )

    def send_document(self, params: JSON, files: Files) -> JSON:
        caption, entities = _formatted(params, "caption", CAPTION_MAX)
        with self._lock:
            entities = self._mentions(entities)
            chat = self._chat(params)
            file_id = self._file_id(params, files, "document", "BQACAgQAAxkBAAI")
            upload = files.get("document")
            document = {
                "file_id": file_id,
                "file_unique_id": file_id[-16:],
                "file_name": (upload.filename if upload else None) or "document",
                "mime_type": upload.content_type if upload else "application/octet-stream",
                "file_size": len(self._files.get(file_id, b"")),
            }
            return self._new_message(
                chat,
                params,
                document=document,
                caption=caption or None,
                caption_entities=entities or None,
                **_markup(params),
            )

    def send_chat_action(self, params: JSON, files: Files) -> bool:
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        with self._lock:
            self._chat(params)
        return True

    def _new_message(self, chat: JSON, params: JSON, **fields: Any) -> JSON:
        message: JSON = {
            "message_id": self.next_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        message.update({key: value for key, value in fields.items() if value is not None})
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _chat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is not None:
            return chat
        if self.strict or not isinstance(chat_id, int):
            raise bad_request("chat not found")
        return {"id": chat_id, "type": "private", "first_name": "Test"}

    def _file_id(self, params: JSON, files: Files, field: str, prefix: str) -> str:
        upload = files.get(field)
        value = params.get(field)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        if upload is not None:
            self._file_count += 1
            file_id = f"{prefix}{self._file_count:06d}"
            self._files[file_id] = upload.content
            return file_id
        if not value:
            raise bad_request(f"there is no {field} in the request")
        return str(value)  # a file_id or URL the bot passed on

    # --- editing ---------------------------------------------------------------------------

    def edit_message_text(self, params: JSON, files: Files) -> JSON | bool:
        text, entities = _formatted(params, "text", TEXT_MAX)
        return self._edit(params, "text", text, entities, "message to edit not found")

    def edit_message_caption(self, params: JSON, files: Files) -> JSON | bool:
        caption, entities = _formatted(params, "caption", CAPTION_MAX, allow_empty=True)
        return self._edit(params, "caption", caption, entities, "message to edit not found")

    def edit_message_reply_markup(self, params: JSON, files: Files) -> JSON | bool:
        markup = _markup(params)
        if "inline_message_id" in params:
            return True
        with self._lock:
            message = self._existing(params, "message to edit not found")
            if self.strict and message.get("reply_markup") == markup.get("reply_markup"):
                raise bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
            _set(message, "reply_markup", markup.get("reply_markup"))
            message["edit_date"] = int(time.time())
            return copy.deepcopy(message)

    def _edit(
        self, params: JSON, key: str, value: str, entities: list[JSON], missing: str
    ) -> JSON | bool:
        markup = _markup(params)
        if "inline_message_id" in params:
            return True  # messages sent via inline mode are not kept
        entities_key = "entities" if key == "text" else "caption_entities"
        with self._lock:
            entities = self._mentions(entities)
            message = self._existing(params, missing)
            if key == "text" and "text" not in message:
                raise bad_request("there is no text in the message to edit")
            unchanged = (
                message.get(key, "") == value
                and message.get(entities_key, []) == entities
                and message.get("reply_markup") == markup.get("reply_markup")
            )
            if self.strict and unchanged:
                raise bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
            _set(message, key, value or None)
            _set(message, entities_key, entities or None)
            # Editing without reply_markup removes the inline keyboard, on Telegram too.
            _set(message, "reply_markup", markup.get("reply_markup"))
            message["edit_date"] = int(time.time())
            return copy.deepcopy(message)

    def delete_message(self, params: JSON, files: Files) -> bool:
        with self._lock:
            self._existing(params, "message to delete not found")
            chat_id, message_id = _message_key(params)
            self._messages.pop((chat_id, message_id), None)
        return True

    def _existing(self, params: JSON, missing: str) -> JSON:
        chat_id, message_id = _message_key(params)
        message = self._messages.get((chat_id, message_id))
        if message is not None:
            return message
        if self.strict:
            raise bad_request(missing)
        chat = self._chats.get(chat_id) or {"id": chat_id, "type": "private", "first_name": "Test"}
        message = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
            "text": "",
        }
        self._messages[(chat_id, message_id)] = message
        return message

    # --- callback queries and commands -----------------------------------------------------

    def answer_callback_query(self, params: JSON, files: Files) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = str(params.get("text") or "")
        if utf16_len(text) > TOAST_MAX:
            raise bad_request("MESSAGE_TOO_LONG")
        with self._lock:
            if query_id not in self._queries and self.strict:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            # One answer per query: a second one gets the same refusal.
            self._queries.discard(query_id)
        return True

    def set_my_commands(self, params: JSON, files: Files) -> bool:
        commands = _json(params.get("commands"), [])
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            name = str(command.get("command", ""))
            if not (1 <= len(name) <= 32) or not all(c.isascii() for c in name):
                raise bad_request("BOT_COMMAND_INVALID")
            if name != name.lower() or not name.replace("_", "").isalnum():
                raise bad_request("BOT_COMMAND_INVALID")
            if not (1 <= len(str(command.get("description", ""))) <= 256):
                raise bad_request("command description must be 1-256 characters")
        with self._lock:
            self._commands[_scope_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def delete_my_commands(self, params: JSON, files: Files) -> bool:
        with self._lock:
            self._commands.pop(_scope_key(params), None)
        return True

    def get_my_commands(self, params: JSON, files: Files) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._commands.get(_scope_key(params), []))

    def get_file(self, params: JSON, files: Files) -> JSON:
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise bad_request("file_id is empty")
        with self._lock:
            size = len(self.file_content(file_id) or b"")
        return {
            "file_id": file_id,
            "file_unique_id": file_id[-16:],
            "file_size": size,
            "file_path": f"files/{file_id}",
        }


def check_params(method: str, params: JSON) -> None:
    """Raise Telegram's refusal of a send or edit whose text, caption or buttons it would not
    take, whatever the chat: for a stand-in that keeps no chats (tests/recording_request.py)."""
    if method in ("sendMessage", "editMessageText"):
        _formatted(params, "text", TEXT_MAX)
    elif method in ("sendPhoto", "sendDocument", "editMessageCaption"):
        _formatted(params, "caption", CAPTION_MAX, allow_empty=method == "editMessageCaption")
    elif method == "answerCallbackQuery" and utf16_len(str(params.get("text") or "")) > TOAST_MAX:
        raise bad_request("MESSAGE_TOO_LONG")
    _markup(params)


def _formatted(
    params: JSON, key: str, limit: int, *, allow_empty: bool = False
) -> tuple[str, list[JSON]]:
    """The text as the user will see it, and its entities, refusing what Telegram refuses."""
    raw = params.get(key)
    raw = "" if raw is None else str(raw)
    parse_mode = str(params.get("parse_mode") or "").lower()
    entities: list[JSON] = _json(
        params.get(f"{'caption_' if key == 'caption' else ''}entities"), []
    )
    if parse_mode == "html":
        try:
            raw, entities = render_html(raw)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    # MarkdownV2 and Markdown are passed through as written: the bot uses HTML.
    if key == "text" and not raw.strip() and not allow_empty:
        raise bad_request("message text is empty")
    if utf16_len(raw) > limit:
        raise bad_request("message is too long" if key == "text" else "message caption is too long")
    return raw, entities


def _markup(params: JSON) -> JSON:
    """{"reply_markup": inline keyboard} to echo, or {}: Telegram only returns inline keyboards."""
    markup = _json(params.get("reply_markup"), None)
    if not markup:
        return {}
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return {}
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    for row in keyboard:
        for button in row:
            if not str(button.get("text", "")):
                raise bad_request("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                raise bad_request("BUTTON_DATA_INVALID")
            if len(button) < 2:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
    return {"reply_markup": markup}


def _json(value: Any, default: Any) -> Any:
    """A parameter that may still be JSON text (a JSON body can nest it either way)."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse JSON: {exc}") from exc
    return value


def _message_key(params: JSON) -> tuple[int, int]:
    try:
        return int(params["chat_id"]), int(params["message_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_request("message identifier is not specified") from exc


def _scope_key(params: JSON) -> str:
    scope = _json(params.get("scope"), {"type": "default"})
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


def _set(message: JSON, key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value
