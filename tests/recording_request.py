"""A Bot API that lives in memory: records every call the bot makes and answers like Telegram."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from telegram.request import BaseRequest, RequestData

from testing.fake_telegram.methods import BotApiError, check_params

BOT_USER = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "Burgerbeest",
    "username": "burgerbeest_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_SENDS = {"sendMessage", "sendPhoto", "sendDocument"}
_EDITS = {"editMessageText", "editMessageReplyMarkup", "editMessageCaption"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None
    # Uploaded files by field name: (file name, content, MIME type).
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        chat = self.params.get("chat_id")
        return int(chat) if chat is not None else None

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def refused(self) -> bool:
        """Whether the Bot API answered with an error."""
        return isinstance(self.result, dict) and self.result.get("ok") is False

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row after row."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [
            (button["text"], button.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]


class RecordingRequest(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        # chat id → (status, description): every send to that chat fails like Telegram would.
        self.failing_chats: dict[int, tuple[int, str]] = {}
        # Bot API method → (status, description): a server that does not offer a method.
        self.failing_methods: dict[str, tuple[int, str]] = {}
        # chat id → [(sends to let through first, status, description, retry_after)]: one send
        # to that chat, later on, fails once (a part of a split message, say).
        self._one_failure: dict[int, list[tuple[int, int, str, int | None]]] = {}
        self._message_ids = count(5000)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return None

    def fail_once(
        self,
        chat_id: int,
        *,
        after: int,
        status: int,
        description: str,
        retry_after: int | None = None,
    ) -> None:
        """Let `after` more sends to the chat through, then refuse the next one, once."""
        self._one_failure.setdefault(chat_id, []).append((after, status, description, retry_after))

    def _scripted_failure(self, name: str, chat_id: int | None) -> dict[str, Any] | None:
        if name not in _SENDS or chat_id not in self._one_failure:
            return None
        waiting = self._one_failure[chat_id]
        after, status, description, retry_after = waiting[0]
        if after > 0:
            waiting[0] = (after - 1, status, description, retry_after)
            return None
        waiting.pop(0)
        if not waiting:
            del self._one_failure[chat_id]
        result: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            result["parameters"] = {"retry_after": retry_after}
        return result

    def block(self, chat_id: int) -> None:
        self.failing_chats[chat_id] = (403, "Forbidden: bot was blocked by the user")

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = dict(request_data.multipart_data or {}) if request_data else {}
        call = Call(name, params, files=files)
        self.calls.append(call)
        chat_id = call.chat_id
        failing = name in self.failing_methods
        if failing or (chat_id in self.failing_chats and (name in _SENDS or name in _EDITS)):
            status, description = (
                self.failing_methods[name] if failing else self.failing_chats[chat_id]
            )
            call.result = {"ok": False, "error_code": status, "description": description}
            return status, json.dumps(call.result).encode()
        scripted = self._scripted_failure(name, chat_id)
        if scripted is not None:
            call.result = scripted
            return scripted["error_code"], json.dumps(scripted).encode()
        try:
            # A text, caption or button Telegram would refuse is refused here too.
            check_params(name, params)
        except BotApiError as refused:
            call.result = refused.response()
            return refused.code, json.dumps(call.result).encode()
        call.result = self._result(name, params)
        return 200, json.dumps({"ok": True, "result": call.result}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name == "getUpdates":
            return []
        if name in _SENDS or name in _EDITS:
            message: dict[str, Any] = {
                "message_id": params.get("message_id") or next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                "from": BOT_USER,
            }
            if "text" in params:
                message["text"] = params["text"]
            if params.get("reply_markup"):
                markup = params["reply_markup"]
                message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
            return message
        return True
