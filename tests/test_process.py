"""The bot as its own process, over HTTP, against a local stand-in of the Bot API.

`burgerbeest run` with `api_base_url` pointing at the stand-in, exactly as with a self-hosted
Bot API server: a resident signs up, saves an initiative through /idee, sees it in /mijn, and
still sees it after the process was stopped and started again. The token never shows in a log.
"""

from __future__ import annotations

from pathlib import Path

from testing.fake_telegram.server import FakeBotApi
from tests.live import TOKEN, Resident, bot_process, write_config


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
