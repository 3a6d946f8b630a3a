"""`burgerbeest sandbox`: the real bot against the stand-in, driven from a terminal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

from testing.sandbox import Sandbox
from tests.harness import make_config


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
            ":1",  # Akkoord
            ":4",  # Driehuis
            ":1",  # via @anna
            "/idee",
            "Natuurspeeltuin",
            "Een speeltuin met boomstammen, zand en water in plaats van klimrekken.",
            "Voor kinderen uit de buurt.",
            ":2",  # the topic is unclear (playground: public space or initiative?): the latter
            ":4",  # Driehuis
            ":1",  # Overslaan
            ":6",  # Klaar
            ":1",  # Ja, graag
            ":1",  # Opslaan
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
    assert "🤖 to anna:\n👋 Welkom bij Burgerbeest Velsen!" in transcript
    assert "[1] ✅ Akkoord, ik doe mee" in transcript
    assert "Alles staat klaar, Anna!" in transcript
    assert "[2] Bewonersinitiatieven en meedoen" in transcript
    assert "Opgeslagen! Je idee Natuurspeeltuin heeft nummer 1." in transcript
    assert (
        "(there is no button 9 (1–" in transcript or "(no message with buttons yet)" in transcript
    )
    assert "🤖 to bram:\nWat kun je hier doen?" in transcript


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
    assert "🤖 to piet:\nHoe heet je, zoals inwoners je mogen zien?" in "\n".join(shown)
