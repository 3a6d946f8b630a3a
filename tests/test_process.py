"""The bot as its own process, over HTTP, against a local stand-in of the Bot API.

`burgerbeest run` with `api_base_url` pointing at the stand-in, exactly as with a self-hosted
Bot API server: a resident signs up, saves an initiative through /idee, sees it in /mijn, and
still sees it after the process was stopped and started again. The token never shows in a log.
"""

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
WAIT = 30.0


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
        return self.api.wait_for_sync("sendMessage", chat_id=self.id, since=mark, timeout=WAIT).text

    def expects(self, fragment: str) -> str:
        """Wait for a message with `fragment` that was not read yet (a second reply)."""
        call = self.api.wait_for_sync(
            "sendMessage", lambda c: fragment in c.text, chat_id=self.id, timeout=WAIT
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
                            expect, chat_id=self.id, since=mark, timeout=WAIT
                        ).text
        raise AssertionError(f"no button {label!r} in the chat")


def test_onboard_idee_mijn_and_restart_as_a_process(
    tmp_path: Path, empty_database_url: str
) -> None:
    log = tmp_path / "bot.log"
    with FakeBotApi(TOKEN) as api:
        config = write_config(tmp_path, api, empty_database_url)
        anna = Resident(api, user_id=1001, first_name="Anna", username="anna")
        with bot_process(config, log):
            assert "Privacy" in anna.says("/start")
            assert "In welke kern" in anna.presses("Akkoord")
            assert "hoe mag die je bereiken" in anna.presses("Driehuis")
            assert "Alles staat klaar, Anna" in anna.presses("gebruikersnaam")

            assert "zes korte vragen" in anna.says("/idee")
            anna.expects("1/6")
            assert "2/6" in anna.says("Natuurspeeltuin bij de Kweekduin")
            assert "3/6" in anna.says(
                "Een speeltuin met boomstammen, zand en water in plaats van klimrekken."
            )
            assert "4/6" in anna.says("Voor kinderen uit de buurt die graag buiten spelen.")
            assert "bepaalde plek" in anna.presses("Driehuis")
            assert "5/6" in anna.says("Het veldje achter de school")
            anna.presses("Advies", expect="editMessageReplyMarkup")  # toggles in place
            assert "6/6" in anna.presses("Klaar")
            assert "Klopt dit?" in anna.presses("Ja, graag")
            assert "Opgeslagen!" in anna.presses("Opslaan")
            assert "Natuurspeeltuin bij de Kweekduin" in anna.says("/mijn")

        # A clean stop (SIGTERM) and a new process on the same database and stand-in.
        with bot_process(config, log):
            listing = anna.says("/mijn")
            assert "Natuurspeeltuin bij de Kweekduin" in listing
            assert "Status: idee" in listing

        commands = {c.params.get("language_code") for c in api.calls("setMyCommands")}
        assert commands == {None, "nl", "en"}
    output = log.read_text(encoding="utf-8")
    assert "Burgerbeest Velsen starting" in output
    assert TOKEN not in output and "process-test-secret-token" not in output
