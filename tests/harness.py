"""The offline harness: the real Application, a recording Bot API, updates as a person sends them.

Tests talk like residents (`await bot.send(anna, "/idee")`, `await bot.press(anna, "Opslaan")`)
and assert on what the bot sent back. Any error that reaches PTB's error handlers fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update

from bot.config import Config, MunicipalityConfig, TelegramConfig
from bot.migrate import upgrade
from bot.services.flood import FloodGuard
from handlers.app import build_application
from handlers.context import BotApplication, BotContext
from models.database import create_engine
from testing.fake_telegram.updates import UpdateFactory, user
from tests.recording_request import Call, RecordingRequest

TOKEN = "123456:TEST-secret-token-for-tests"
KERNEN = (
    "IJmuiden",
    "Velsen-Zuid",
    "Velsen-Noord",
    "Driehuis",
    "Santpoort-Noord",
    "Santpoort-Zuid",
    "Velserbroek",
)


def make_config(directory: Path, database_url: str) -> Config:
    return Config(
        path=directory / "config.toml",
        telegram=TelegramConfig(token=TOKEN, rate_limit=False),
        database_url=database_url,
        municipality=MunicipalityConfig(name="Velsen", kernen=KERNEN),
    )


@dataclass(frozen=True)
class Person:
    """A Telegram account a test speaks as."""

    id: int
    payload: dict[str, Any]


class BotHarness:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.request = RecordingRequest()
        self.updates = UpdateFactory()
        self.errors: list[BaseException] = []
        self.app: BotApplication | None = None

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        engine = create_engine(self.config.database_url)
        await upgrade(engine)
        self.app = build_application(self.config, request=self.request, engine=engine)
        self.app.add_error_handler(self._record_error)
        # Tests talk faster than any person; tests/test_flood.py puts a real limit back.
        self.app.bot_data["flood"] = FloodGuard(limit=1_000_000)
        await self.app.initialize()
        # run_polling() calls post_init after initialize(); the harness does the same.
        if self.app.post_init:
            await self.app.post_init(self.app)

    async def stop(self) -> None:
        """Stop like the process does on SIGTERM: persistence flushed, engine disposed."""
        if self.app is None:
            return
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        if self.app.post_shutdown:
            await self.app.post_shutdown(self.app)
        self.app = None

    async def restart(self) -> None:
        """A new Application on the same database, as after a restart of the process."""
        await self.stop()
        self.request = RecordingRequest()
        await self.start()

    async def _record_error(self, update: object, context: BotContext) -> None:
        self.errors.append(context.error)

    # --- speaking as a person --------------------------------------------------------------

    def person(
        self,
        user_id: int,
        first_name: str = "Anna",
        *,
        username: str | None = None,
        language_code: str | None = "nl",
    ) -> Person:
        return Person(
            user_id,
            user(user_id, first_name=first_name, username=username, language_code=language_code),
        )

    async def feed(self, payload: dict[str, Any]) -> None:
        assert self.app is not None, "harness not started"
        await self.app.process_update(Update.de_json(payload, self.app.bot))

    async def send(self, who: Person, text: str) -> list[Call]:
        """A text message (a command when it starts with '/'); returns what the bot sent back."""
        before = len(self.request.calls)
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            await self.feed(self.updates.command(who.payload, command, args))
        else:
            await self.feed(self.updates.text(who.payload, text))
        return self.replies(who, since=before)

    async def send_sticker(self, who: Person) -> list[Call]:
        before = len(self.request.calls)
        await self.feed(self.updates.sticker(who.payload))
        return self.replies(who, since=before)

    async def send_photo(self, who: Person, caption: str | None = None) -> list[Call]:
        before = len(self.request.calls)
        await self.feed(self.updates.photo(who.payload, caption=caption))
        return self.replies(who, since=before)

    async def press(self, who: Person, label_or_data: str) -> list[Call]:
        """Press the newest offered button whose label contains, or data equals, the argument."""
        for call in reversed(self.replies(who)):
            for label, data in call.buttons:
                if data == label_or_data or label_or_data in label:
                    return await self.press_data(who, data, call.result["message_id"])
        offered = [b for c in self.replies(who) for b in c.buttons]
        raise AssertionError(f"no button {label_or_data!r} was offered; offered: {offered}")

    async def press_data(self, who: Person, data: str, message_id: int = 1) -> list[Call]:
        """Press with data built by a `Button` (handlers/callbacks.py), offered or not."""
        before = len(self.request.calls)
        await self.feed(self.updates.press(who.payload, data, message_id=message_id))
        return self.calls(since=before)

    async def forge(self, who: Person, data: str, message_id: int = 1) -> list[Call]:
        """Press with callback data no button of the bot carries, as a modified client can: the
        one place a test writes callback data by hand."""
        return await self.press_data(who, data, message_id)

    def context(self) -> BotContext:
        """A context as a job gets it, for running job callbacks directly."""
        assert self.app is not None, "harness not started"
        return BotContext(self.app)

    # --- what the bot did ------------------------------------------------------------------

    def calls(self, method: str | None = None, *, since: int = 0) -> list[Call]:
        return [c for c in self.request.calls[since:] if method is None or c.method == method]

    def replies(self, who: Person, *, since: int = 0) -> list[Call]:
        """Messages the bot sent to `who` (after call number `since`)."""
        return [
            c
            for c in self.request.calls[since:]
            if c.method in ("sendMessage", "sendPhoto", "sendDocument") and c.chat_id == who.id
        ]

    def last_text(self, who: Person) -> str:
        sent = self.replies(who)
        assert sent, f"the bot sent nothing to {who.id}"
        return sent[-1].text

    def answers(self) -> list[str]:
        """The texts of answerCallbackQuery calls (toasts and alerts), in order."""
        return [c.params.get("text", "") for c in self.calls("answerCallbackQuery")]
