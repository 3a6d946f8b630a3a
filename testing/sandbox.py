"""`burgerbeest sandbox`: try the bot in a terminal, before there is a token.

The real bot runs against the local stand-in of the Bot API (testing/fake_telegram) with a database
of its own; the terminal is the Telegram app: type to send, `:1` to press the first button of the
newest message, `:press 12 2` or `:press Ja` for any message's buttons, `:as bram` to become
another person. Photos and documents the bot sends are saved as files. Nothing leaves the machine.
`burgerbeest sandbox --demo` plays a scripted story the same way (testing/demo.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bot.config import Config, TelegramConfig
from bot.migrate import upgrade
from models import Role
from models.base import utcnow
from models.database import create_engine
from testing.fake_telegram.calls import Call
from testing.fake_telegram.server import FakeBotApi
from testing.fake_telegram.updates import user

SANDBOX_TOKEN = "1000000:sandbox-token-not-secret"  # noqa: S105 - the stand-in's own token
FIRST_ID = 1001
HELP = """Type a message or a command (/start, /idee, /help …) and press Enter.
  :1, :2 …         press button 1, 2 … of the newest message with buttons
  :press 12 2      press button 2 under message #12 (every message shows its #number)
  :press Ja        press the button whose label says "Ja" (the newest such button)
  :as NAME         talk as another person (a new one is created on first use)
  :invite ambtenaar NAME, :invite moderator NAME
                   NAME gets an invite code and uses it with /aanmelden (without NAME:
                   just the code)
  :later           jump to the bot's next delivery time (questions reach civil servants
                   at set times on working days): the bot sends what is due then
  :who             who you are now
  :quit            stop
Photos and documents the bot sends are saved as files; their path is shown."""
_COMMAND = re.compile(r"^:(\w+)\s*(.*)$")
# What the bot does that a person in the chat sees.
_SHOWN = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "deleteMessage",
        "answerCallbackQuery",
    }
)
_UNSAFE = re.compile(r"[^\w.-]+")

Lines = AsyncIterable[str]


async def terminal_lines(prompt: Callable[[], str]) -> AsyncIterator[str]:
    """Lines typed in the terminal; input() runs in a thread so the bot keeps working."""
    while True:
        try:
            yield await asyncio.to_thread(input, prompt())
        except EOFError:
            return


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


class Sandbox:
    def __init__(
        self,
        config: Config,
        directory: Path,
        out: Callable[[str], None] = print,
        *,
        echo: bool = False,
    ) -> None:
        self.directory = directory
        self.files = directory / "files"
        self.api = FakeBotApi(SANDBOX_TOKEN, strict=False)
        self.config = config
        self.out = out
        # Print every line as "name> line" (a script); a terminal shows what was typed itself.
        self.echo = echo
        self.people: dict[str, dict[str, object]] = {}
        self.current = ""
        self._shown = 0
        self._with_buttons: set[tuple[object, object]] = set()
        self.services: Any = None
        self.application: Any = None

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

    # --- what the bot did ------------------------------------------------------------------

    def show_new(self) -> None:
        """Print what the bot did since last time, in the chats of the people here."""
        calls = self.api.calls()
        for call in calls[self._shown :]:
            if call.method in _SHOWN:
                self._show(call)
        self._shown = len(calls)

    def _who(self, chat_id: object) -> str:
        return next((n for n, p in self.people.items() if p["id"] == chat_id), str(chat_id))

    def _show(self, call: Call) -> None:
        if call.method == "answerCallbackQuery":
            if call.ok and call.params.get("text"):
                self.out(f"  (pop-up) {call.params['text']}")
            return
        who, number = self._who(call.chat_id), call.message_id
        if not call.ok:
            self.out(f"  (Telegram refused the bot's {call.method} to {who}: {call.description})")
            return
        key = (call.chat_id, number)
        if call.method == "sendMessage":
            self.out(f"\n🤖 #{number} to {who}:\n{call.plain_text}")
        elif call.method in ("sendPhoto", "sendDocument"):
            kind = "photo" if call.method == "sendPhoto" else "document"
            saved = self._save(call, kind, who)
            where = f"saved as {saved}" if saved else "(a file Telegram already had)"
            self.out(f"\n🤖 #{number} to {who}: {'🖼' if kind == 'photo' else '📎'} {kind} {where}")
            if call.plain_text:
                self.out(call.plain_text)
        elif call.method == "deleteMessage":
            self.out(f"  (message #{number} to {who} deleted)")
            return
        elif call.method == "editMessageReplyMarkup":
            if call.buttons:
                self.out(f"\n✎ (message #{number} to {who} edited) new buttons:")
            elif key in self._with_buttons:
                self.out(f"  ✎ (message #{number} to {who}: buttons removed)")
        else:  # editMessageText, editMessageCaption
            self.out(f"\n✎ (message #{number} to {who} edited)\n{call.plain_text}")
            if not call.buttons and key in self._with_buttons:
                self.out("   (buttons removed)")
        for index, (label, data) in enumerate(call.buttons, 1):
            self.out(f"   [{index}] {label}" if data else f"   [{index}] {label} (a link)")
        if call.buttons:
            self._with_buttons.add(key)
        else:
            self._with_buttons.discard(key)

    def _save(self, call: Call, kind: str, who: str) -> Path | None:
        """Write the photo or document the bot sent to a file; None if its bytes are unknown."""
        value = call.params.get(kind)
        upload = call.files.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = call.files.get(value.removeprefix("attach://"))
        if upload is not None:
            content, name = upload.content, upload.filename
        else:
            content, name = self.api.uploaded(str(value or "")), None
        if content is None:
            return None
        suffix = ".jpg" if kind == "photo" else ""
        name = _UNSAFE.sub("-", name or f"{kind}{suffix}").strip("-") or kind
        self.files.mkdir(parents=True, exist_ok=True)
        path = self.files / f"{who}-{call.message_id}-{name}"
        path.write_bytes(content)
        return path

    # --- what the person does --------------------------------------------------------------

    def press(self, spec: str) -> str | None:
        """Press a button in the current person's chat; an error text if there is none.

        "3": button 3 of the newest message with buttons; "12 3" or "#12 Ja": under message 12,
        by number or label; "Ja": the newest button whose label is or contains that.
        """
        spec = spec.strip()
        chat = [m for m in self.api.chat_messages(int(self.me["id"])) if _buttons(m)]
        if not chat:
            return "no message with buttons yet"
        newest_first = list(reversed(chat))
        first, _, rest = spec.partition(" ")
        if spec.isdigit():
            return self._press_number(newest_first[0], int(spec))
        if first.lstrip("#").isdigit() and rest.strip():
            number = int(first.lstrip("#"))
            message = next((m for m in chat if m["message_id"] == number), None)
            if message is None:
                return f"message #{number} has no buttons (now)"
            if rest.strip().isdigit():
                return self._press_number(message, int(rest))
            newest_first = [message]
            spec = rest.strip()
        if not spec:
            return "say which button: :press 12 2, or :press and (part of) its label"
        wanted = spec.casefold()
        for matches in (
            lambda label: label.casefold().strip() == wanted,
            lambda label: wanted in label.casefold(),
        ):
            for message in newest_first:
                for index, button in enumerate(_buttons(message), 1):
                    if matches(str(button.get("text", ""))):
                        return self._press_number(message, index)
        return f'no button says "{spec}"'

    def _press_number(self, message: dict[str, Any], number: int) -> str | None:
        buttons = _buttons(message)
        if not 1 <= number <= len(buttons):
            return f"there is no button {number} (1–{len(buttons)})"
        button = buttons[number - 1]
        if "callback_data" not in button:
            return f"that button opens {button.get('url', 'a link')}"
        self.out(
            f"  ({self.current} presses [{number}] {button['text']} under #{message['message_id']})"
        )
        self.api.enqueue(self.api.updates.press(self.me, button["callback_data"], message=message))
        return None

    def say(self, text: str) -> None:
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            self.api.enqueue(self.api.updates.command(self.me, command, args))
        else:
            self.api.enqueue(self.api.updates.text(self.me, text))

    # --- running ---------------------------------------------------------------------------

    def _bot_calls(self) -> int:
        return sum(1 for c in self.api.calls() if c.method != "getUpdates")

    async def settle(self, limit: float = 300.0, quiet: float = 0.3) -> None:
        """Wait until the bot has handled what was sent and has been quiet a moment, then show
        what it did. The first question or idea may wait for the sentence model to load."""
        from handlers.moderators.scheduled import running

        deadline = time.monotonic() + limit
        # The stand-in confirms updates in its own thread: there is no event to await.
        while self.api.pending() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        if self.application is not None:
            # The updater hands updates on before it confirms them: join() waits for the rest.
            remaining = max(deadline - time.monotonic(), 0.1)
            try:
                await asyncio.wait_for(self.application.update_queue.join(), remaining)
                senders = list(running(self.application).values())
                if senders:  # announcements being sent: until they are done
                    await asyncio.wait(senders, timeout=max(deadline - time.monotonic(), 0.1))
            except TimeoutError:
                pass
        seen, since = self._bot_calls(), time.monotonic()
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now = self._bot_calls()
            if now != seen:
                seen, since = now, time.monotonic()
        self.show_new()

    async def run(self, lines: Lines | None = None, *, banner: bool = True) -> int:
        from handlers.app import build_application  # the app imports every handler: only here

        self.api.start()
        config = self._sandbox_config()
        engine = create_engine(config.database_url)
        await upgrade(engine)
        application = build_application(config, engine=engine)
        self.application = application
        self.services = application.bot_data["services"]
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        self.become("anna")
        if banner:
            self.out(f"Burgerbeest {config.municipality.name} sandbox — you are {self.current}.")
            self.out(HELP)
        try:
            async for line in lines or terminal_lines(lambda: f"{self.current}> "):
                line = line.strip()
                if line.startswith("#"):  # a script's narration
                    self.out(f"\n── {line.lstrip('#').strip()}")
                    continue
                if self.echo and line:
                    self.out(f"\n{self.current}> {line}")
                if not await self.handle(line):
                    break
                await self.settle()
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
            if application.post_shutdown:
                await application.post_shutdown(application)
            self.api.stop()
            await engine.dispose()
        return 0

    async def invite(self, rest: str) -> None:
        """A fresh invite code for a civil servant or moderator, as `burgerbeest invite` gives;
        with a name, that person uses it at once."""
        role_name, _, name = rest.strip().partition(" ")
        try:
            role = Role(role_name or Role.CIVIL_SERVANT.value)
        except ValueError:
            self.out(f"  (roles: {Role.CIVIL_SERVANT.value}, {Role.MODERATOR.value})")
            return
        if role is Role.RESIDENT:
            self.out("  (residents need no invite: /start)")
            return
        code, _ = await self.services.invites.create(role)
        if not name.strip():
            self.out(
                f"  (invite for a {role.value}: send  /aanmelden {code}  as that person,"
                f" or say who: :invite {role.value} NAME)"
            )
            return
        self.become(name)
        self.out(f"  (invite for a {role.value}: {self.current} sends /aanmelden with the code)")
        if self.echo:
            self.out(f"\n{self.current}> /aanmelden {code}")
        self.say(f"/aanmelden {code}")

    async def later(self) -> None:
        """Run the bot's delivery as at its next delivery time (a digest of questions for civil
        servants on working days), so one need not wait for it."""
        from handlers.context import BotContext
        from handlers.dispatch import TelegramSender

        questions = self.services.questions
        slot = questions.calendar.next_slot(utcnow(), questions.config.dispatch_times)
        local = slot.astimezone(self.config.municipality.tz)
        report = await self.services.dispatch.run_due(
            TelegramSender(BotContext(self.application)), now=slot
        )
        self.out(f"  (it is {local:%A %d %B %H:%M} for the bot: it sent {report.sent} message(s))")

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False to stop."""
        if not line:
            return True
        match = _COMMAND.match(line)
        if match is None:
            self.say(line)
            return True
        word, rest = match.groups()
        problem = None
        if word.isdigit():
            problem = self.press(word)
        elif word == "press":
            problem = self.press(rest)
        elif word == "as":
            self.become(rest)
            self.out(f"  (you are now {self.current})")
        elif word == "invite":
            await self.invite(rest)
        elif word == "later":
            await self.later()
        elif word == "who":
            self.out(f"  (you are {self.current}, Telegram id {self.me['id']})")
        elif word in ("quit", "exit", "q"):
            return False
        else:
            self.out(HELP)
        if problem:
            self.out(f"  ({problem})")
        return True
