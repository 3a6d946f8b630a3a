"""A local stand-in of the Telegram Bot API and builders of the updates Telegram sends.

Used by end-to-end and fault-injection tests (the bot as its own process, over HTTP) and by the
offline harness (update payloads only). See `FakeBotApi` and `UpdateFactory`.
"""

from testing.fake_telegram.calls import Call
from testing.fake_telegram.methods import BotApiError
from testing.fake_telegram.params import UploadedFile
from testing.fake_telegram.server import DEFAULT_TOKEN, FakeBotApi
from testing.fake_telegram.updates import (
    BOT_USER,
    UpdateFactory,
    callback_update,
    detect_entities,
    entity,
    message_update,
    photo_update,
    sticker_update,
    user,
    utf16_len,
)

__all__ = [
    "BOT_USER",
    "DEFAULT_TOKEN",
    "BotApiError",
    "Call",
    "FakeBotApi",
    "UpdateFactory",
    "UploadedFile",
    "callback_update",
    "detect_entities",
    "entity",
    "message_update",
    "photo_update",
    "sticker_update",
    "user",
    "utf16_len",
]
