"""`burgerbeest sandbox`: the real bot against the stand-in, driven from a terminal, and the
scripted demo that plays the bot's story through it."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

from bot.config import TOKEN_ENV, load_config
from testing.demo import TRY_IT, run_demo
from testing.sandbox import SANDBOX_TOKEN, Sandbox
from tests.harness import make_config

EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "config.example.toml"


def saved(path: str) -> bytes:
    """The bytes of a file the sandbox said it saved."""
    return Path(path).read_bytes()


async def typed(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def test_a_resident_can_sign_up_and_share_an_idea_in_the_terminal(
    tmp_path: Path, database_url: str
) -> None:
    shown: list[str] = []
    sandbox = Sandbox(make_config(tmp_path, database_url), tmp_path, out=shown.append)
    status = await sandbox.run(
        typed(
            "/start",
            ":press Bestaat niet",
            ":1",  # Akkoord
            ":4",  # Driehuis
            ":1",  # via @anna
            "/idee",
            "Natuurspeeltuin",
            "Een speeltuin met boomstammen, zand en water in plaats van klimrekken.",
            "Voor kinderen uit de buurt.",
            ":press Bewonersinitiatieven",  # the topic is unclear (playground): the latter
            ":press Driehuis",
            ":press Overslaan",
            ":press Klaar",
            ":press Ja, graag",
            ":press Opslaan",
            ":9",  # there is no button 9
            ":as bram",
            "/help",
            ":quit",
            "never read",
        )
    )
    transcript = "\n".join(shown)
    assert status == 0
    assert "you are anna" in transcript
    assert "🤖 #2 to anna:\n👋 Welkom bij Burgerbeest Velsen!" in transcript
    assert "[1] ✅ Akkoord, ik doe mee" in transcript
    assert "(anna presses [1] ✅ Akkoord, ik doe mee under #2)" in transcript
    assert "✎ (message #2 to anna: buttons removed)" in transcript
    assert "Alles staat klaar, Anna!" in transcript
    assert "Opgeslagen! Je idee Natuurspeeltuin heeft nummer 1." in transcript
    assert "(no message with buttons yet)" in transcript or "(there is no button 9" in transcript
    assert '(no button says "Bestaat niet")' in transcript
    assert re.search(r"🤖 #\d+ to bram:\nWat kun je hier doen\?", transcript)


async def test_buttons_of_an_earlier_message_can_be_pressed_and_edits_are_shown(
    tmp_path: Path, database_url: str
) -> None:
    shown: list[str] = []
    sandbox = Sandbox(make_config(tmp_path, database_url), tmp_path, out=shown.append)
    await sandbox.run(typed("/start", "/start", ":press 2 1", ":press 4 9", ":press 99 1", ":quit"))
    transcript = "\n".join(shown)
    # Two welcomes with buttons: #2 and #4. Pressing under the older one works like in Telegram.
    assert "🤖 #4 to anna:\n👋 Welkom" in transcript
    assert "(anna presses [1] ✅ Akkoord, ik doe mee under #2)" in transcript
    assert "In welke kern van Velsen woon je?" in transcript
    assert "(there is no button 9 (1–3))" in transcript
    assert "(message #99 has no buttons (now))" in transcript


async def test_a_photo_and_a_document_the_bot_sends_are_saved_as_files(
    tmp_path: Path, database_url: str
) -> None:
    shown: list[str] = []
    sandbox = Sandbox(make_config(tmp_path, database_url), tmp_path, out=shown.append)
    await sandbox.run(
        typed(
            "/start",
            ":press Akkoord",
            ":press Driehuis",
            ":press @anna",
            "/privacy",
            ":press Download mijn gegevens",
            ":invite moderator mo",
            "/stats",
            ":quit",
        )
    )
    transcript = "\n".join(shown)
    [document] = re.findall(r"🤖 #\d+ to anna: 📎 document saved as (\S+)", transcript)
    assert json.loads(saved(document))
    assert "Alles wat Burgerbeest van je bewaart, als JSON-bestand." in transcript
    [photo] = re.findall(r"🤖 #\d+ to mo: 🖼 photo saved as (\S+)", transcript)
    assert Path(photo).parent == tmp_path / "files"
    assert saved(photo).startswith(b"\x89PNG\r\n\x1a\n")


async def test_one_can_become_a_civil_servant_in_the_sandbox(
    tmp_path: Path, database_url: str
) -> None:
    shown: list[str] = []
    sandbox = Sandbox(make_config(tmp_path, database_url), tmp_path, out=shown.append)
    lines = ["/start", ":as piet", ":invite ambtenaar", ":invite koning", ":quit"]
    await sandbox.run(typed(*lines))
    transcript = "\n".join(shown)
    assert "(roles: ambtenaar, moderator)" in transcript
    [code] = re.findall(r"send  /aanmelden (\S+)", transcript)
    shown.clear()
    again = Sandbox(make_config(tmp_path, database_url), tmp_path, out=shown.append)
    await again.run(typed(":as piet", f"/aanmelden {code}", ":quit"))
    assert re.search(
        r"🤖 #\d+ to piet:\nHoe heet je, zoals inwoners je mogen zien\?", "\n".join(shown)
    )


async def test_the_demo_plays_an_introduction_an_answer_and_an_announcement(
    tmp_path: Path,
) -> None:
    # The demo runs on the example config, as `burgerbeest sandbox --demo` does.
    config = load_config(EXAMPLE_CONFIG, environ={TOKEN_ENV: SANDBOX_TOKEN})
    shown: list[str] = []
    assert await run_demo(config, tmp_path, out=shown.append) == 0
    transcript = "\n".join(shown)
    # Every scripted press found its button and Telegram took everything the bot sent.
    assert "no button says" not in transcript and "no message with buttons" not in transcript
    assert "Telegram refused" not in transcript
    assert "anna> Hondenspeeltuin in Velserbroek" in transcript
    assert "Er zijn al inwoners met een vergelijkbaar idee" in transcript
    assert "(bram presses [2] 👋 1: stel me voor" in transcript
    # Both said yes: each gets the other's contact (Bram by a text mention of his profile).
    assert re.search(r"to anna:\n🎉 Jullie willen allebei kennismaken[^\n]* Bram\b", transcript)
    assert re.search(r"to bram:\n🎉 Jullie willen allebei kennismaken[^\n]* @anna\b", transcript)
    # The question reaches Piet at the next delivery time and his answer reaches Anna.
    assert re.search(r"to piet:\n📨 V-\d{4}-0001 · Afval, grofvuil en containers", transcript)
    assert re.search(
        r"to anna:\n💬 Antwoord op je vraag V-\d{4}-0001\nvan Piet de Vries, Afval en Reiniging:"
        r"\n\nJe kunt grofvuil gratis laten ophalen",
        transcript,
    )
    # The announcement reaches both residents of Velserbroek.
    for who in ("anna", "bram"):
        assert re.search(rf"to {who}:\n📣 Mededeling · Burgerbeest Velsen\n\nZaterdag", transcript)
    assert "Mededeling #1 is verstuurd" in transcript
    [chart] = re.findall(r"photo saved as (\S+)", transcript)
    assert saved(chart).startswith(b"\x89PNG")
    assert shown[-1] == f"\n{TRY_IT}"
