"""The bot as its own process, over HTTP, against the local stand-in of the Bot API: the
helpers that process-level tests share (start/stop the process, act as a resident)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.fake_telegram.server import FakeBotApi
from bot.fake_telegram.updates import user

TOKEN = "4242:process-test-secret-token"
# Generous: under a loaded CI machine a bot process can take several seconds to start.
WAIT = 60.0


def write_config(directory: Path, api: FakeBotApi, database_url: str) -> Path:
    path = directory / "config.toml"
    path.write_text(
        "[telegram]\n"
        f'api_base_url = "{api.base_url}"\n'
        "[database]\n"
        f'url = "{database_url}"\n'
        "[municipality]\n"
        'name = "Velsen"\n'
        'kernen = ["IJmuiden", "Driehuis", "Velserbroek"]\n',
        encoding="utf-8",
    )
    return path


@contextmanager
def bot_process(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "BURGERBEEST_TOKEN": TOKEN}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=WAIT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class Resident:
    """A person in the stand-in's chat: types, presses buttons, reads what the bot sent."""

    def __init__(self, api: FakeBotApi, **profile: object) -> None:
        self.api = api
        self.user = user(**profile)  # type: ignore[arg-type]
        self.id = self.user["id"]

    def says(self, text: str) -> str:
        mark = self.api.mark()
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            self.api.enqueue(self.api.updates.command(self.user, command, args))
        else:
            self.api.enqueue(self.api.updates.text(self.user, text))
        return self.api.wait_for_sync(
            "sendMessage", chat_id=self.id, since=mark, timeout=WAIT, ok=True
        ).text

    def expects(self, fragment: str) -> str:
        """Wait for a message with `fragment` that was not read yet (a second reply)."""
        call = self.api.wait_for_sync(
            "sendMessage", lambda c: fragment in c.text, chat_id=self.id, timeout=WAIT, ok=True
        )
        return call.text

    def presses(self, label: str, expect: str = "sendMessage") -> str:
        """Press the newest button whose label contains `label`; the text of the bot's next
        `expect` call (a new message, or an edit for buttons that change in place)."""
        for message in reversed(self.api.chat_messages(self.id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        mark = self.api.mark()
                        self.api.enqueue(
                            self.api.updates.press(
                                self.user, button["callback_data"], message=message
                            )
                        )
                        return self.api.wait_for_sync(
                            expect, chat_id=self.id, since=mark, timeout=WAIT, ok=True
                        ).text
        raise AssertionError(f"no button {label!r} in the chat")
