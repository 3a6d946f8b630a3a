"""What the fake Bot API recorded: one `Call` per HTTP request the bot made."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from testing.fake_telegram.params import UploadedFile

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendSticker",
        "sendLocation",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "copyMessage",
        "forwardMessage",
    }
)


@dataclass
class Call:
    """One request: its parameters as the bot meant them and the answer it got."""

    seq: int
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    time: float = 0.0  # wall clock at arrival (time.time())
    monotonic: float = 0.0  # time.monotonic() at arrival, for measuring pacing
    duration: float = 0.0
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    # True when the connection was cut instead of answered (see FakeBotApi.disconnect).
    dropped: bool = False
    # True when the bot hung up first (a cancelled long poll, a killed process).
    abandoned: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok")) and not (self.dropped or self.abandoned)

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def error_code(self) -> int | None:
        return self.response.get("error_code")

    @property
    def description(self) -> str:
        return self.response.get("description", "")

    @property
    def chat_id(self) -> int | str | None:
        chat = self.params.get("chat_id")
        if isinstance(chat, str) and chat.lstrip("-").isdigit():
            return int(chat)
        return chat

    @property
    def message_id(self) -> int | None:
        """The message this call sent or touched."""
        if isinstance(self.result, dict) and "message_id" in self.result:
            return self.result["message_id"]
        return self.params.get("message_id")

    @property
    def text(self) -> str:
        """The text or caption as the bot sent it (markup included)."""
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def plain_text(self) -> str:
        """The text or caption as the user reads it (HTML rendered), from the answer."""
        result = self.result if isinstance(self.result, dict) else {}
        return result.get("text") or result.get("caption") or ""

    @property
    def reply_markup(self) -> dict[str, Any]:
        markup = self.params.get("reply_markup") or {}
        return json.loads(markup) if isinstance(markup, str) else markup

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row after row."""
        return [
            (button.get("text", ""), button.get("callback_data", ""))
            for row in self.reply_markup.get("inline_keyboard", [])
            for button in row
        ]

    def describe(self) -> str:
        """One line for failure messages."""
        if self.dropped or self.abandoned:
            outcome = "dropped" if self.dropped else "abandoned"
        else:
            outcome = "ok" if self.ok else str(self.error_code)
        parts = [f"#{self.seq} {self.method}"]
        if self.chat_id is not None:
            parts.append(f"chat={self.chat_id}")
        if self.text:
            text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
            parts.append(repr(text))
        if self.buttons:
            parts.append(f"buttons={[data for _, data in self.buttons]}")
        parts.append(f"-> {outcome}")
        return " ".join(parts)
