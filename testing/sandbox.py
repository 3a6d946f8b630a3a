"""`burgerbeest sandbox`: try the bot in a terminal, before there is a token.

The real bot runs against the local stand-in of the Bot API (testing/fake_telegram) with a database
of its own; the terminal is the Telegram app: type to send, `:1` to press the first button,
`:as bram` to become another resident. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from bot.config import Config, TelegramConfig
from bot.migrate import upgrade
from models import Role
from models.database import create_engine
from testing.fake_telegram.server import FakeBotApi
from testing.fake_telegram.updates import user

SANDBOX_TOKEN = "1000000:sandbox-token-not-secret"  # noqa: S105 - the stand-in's own token
FIRST_ID = 1001
HELP = """Type a message or a command (/start, /idee, /help …) and press Enter.
  :1, :2 …    press a button of the last message with buttons
  :as NAME    talk as another person (a new one is created on first use)
  :invite ambtenaar|moderator
              an invite code; send /aanmelden CODE as the person who takes the role
  :who        who you are now
  :quit       stop"""
_COMMAND = re.compile(r"^:(\w+)\s*(.*)$")

Lines = AsyncIterator[str]


async def terminal_lines(prompt: Callable[[], str]) -> Lines:
    """Lines typed in the terminal; input() runs in a thread so the bot keeps working."""
    while True:
        try:
            yield await asyncio.to_thread(input, prompt())
        except EOFError:
            return


class Sandbox:
    def __init__(self, config: Config, directory: Path, out: Callable[[str], None] = print) -> None:
        self.directory = directory
        self.api = FakeBotApi(SANDBOX_TOKEN, strict=False)
        self.config = config
        self.out = out
        self.people: dict[str, dict[str, object]] = {}
        self.current = ""
        self._shown = 0
        self.services: object | None = None

    def _sandbox_config(self) -> Config:
        return dataclasses.replace(
            self.config,
            telegram=TelegramConfig(
                token=SANDBOX_TOKEN, api_base_url=self.api.base_url, rate_limit=False
            ),
            database_url=f"sqlite+aiosqlite:///{self.directory / 'sandbox.sqlite3'}",
        )

    def become(self, name: str) -> None:
        name = name.strip().lower() or "anna"
        if name not in self.people:
            self.people[name] = user(
                FIRST_ID + len(self.people), first_name=name.capitalize(), username=name
            )
        self.current = name

    @property
    def me(self) -> dict[str, object]:
        return self.people[self.current]

    def show_new(self) -> None:
        """Print what the bot did since last time, in the chats of the people here."""
        calls = self.api.calls()
        for call in calls[self._shown :]:
            if call.method not in ("sendMessage", "editMessageText", "answerCallbackQuery"):
                continue
            if call.method == "answerCallbackQuery":
                if call.params.get("text"):
                    self.out(f"  (pop-up) {call.params['text']}")
                continue
            who = next((n for n, p in self.people.items() if p["id"] == call.chat_id), "?")
            marker = "✎" if call.method == "editMessageText" else "🤖"
            self.out(f"\n{marker} to {who}:\n{call.plain_text or call.text}")
            for number, (label, _) in enumerate(call.buttons, 1):
                self.out(f"   [{number}] {label}")
        self._shown = len(calls)

    def press(self, number: int) -> str | None:
        """Press button `number` of the newest message with buttons; an error text if none."""
        for message in reversed(self.api.chat_messages(int(self.me["id"]))):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            buttons = [b for row in rows for b in row]
            if buttons:
                if not 1 <= number <= len(buttons):
                    return f"there is no button {number} (1–{len(buttons)})"
                data = buttons[number - 1]["callback_data"]
                self.api.enqueue(self.api.updates.press(self.me, data, message=message))
                return None
        return "no message with buttons yet"

    def say(self, text: str) -> None:
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            self.api.enqueue(self.api.updates.command(self.me, command, args))
        else:
            self.api.enqueue(self.api.updates.text(self.me, text))

    async def _settle(self) -> None:
        """Give the bot a moment to answer before the next prompt."""
        for _ in range(40):
            await asyncio.sleep(0.05)
            if not self.api.pending():
                break
        await asyncio.sleep(0.2)
        self.show_new()

    async def run(self, lines: Lines | None = None) -> int:
        from handlers.app import build_application  # the app imports every handler: only here

        self.api.start()
        config = self._sandbox_config()
        engine = create_engine(config.database_url)
        await upgrade(engine)
        application = build_application(config, engine=engine)
        self.services = application.bot_data["services"]
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        self.become("anna")
        self.out(f"Burgerbeest {config.municipality.name} sandbox — you are {self.current}.")
        self.out(HELP)
        try:
            async for line in lines or terminal_lines(lambda: f"{self.current}> "):
                if not await self.handle(line.strip()):
                    break
                await self._settle()
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
            if application.post_shutdown:
                await application.post_shutdown(application)
            self.api.stop()
        return 0

    async def invite(self, role_name: str) -> str:
        """A fresh invite code for a civil servant or moderator, as `burgerbeest invite` gives."""
        try:
            role = Role(role_name.strip() or Role.CIVIL_SERVANT.value)
        except ValueError:
            return f"  (roles: {Role.CIVIL_SERVANT.value}, {Role.MODERATOR.value})"
        if role is Role.RESIDENT:
            return "  (residents need no invite: /start)"
        code, _ = await self.services.invites.create(role)  # type: ignore[union-attr]
        return f"  (invite for a {role.value}: send  /aanmelden {code}  as that person)"

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False to stop."""
        if not line:
            return True
        match = _COMMAND.match(line)
        if match is None:
            self.say(line)
            return True
        word, rest = match.groups()
        if word.isdigit():
            problem = self.press(int(word))
            if problem:
                self.out(f"  ({problem})")
        elif word == "as":
            self.become(rest)
            self.out(f"  (you are now {self.current})")
        elif word == "invite":
            self.out(await self.invite(rest))
        elif word == "who":
            self.out(f"  (you are {self.current}, Telegram id {self.me['id']})")
        elif word in ("quit", "exit", "q"):
            return False
        else:
            self.out(HELP)
        return True
