"""The bot as its own process under faults of the Bot API: 5xx, 429, a blocked resident, a
timeout, and a thousand residents at once. Each resident gets each answer exactly once."""

from __future__ import annotations

import time
from pathlib import Path

from testing.fake_telegram.server import FakeBotApi
from testing.fake_telegram.updates import user
from tests.live import TOKEN, WAIT, Resident, bot_process, write_config


def delivered(api: FakeBotApi, chat_id: int, fragment: str) -> int:
    return sum(1 for c in api.calls("sendMessage", chat_id=chat_id) if c.ok and fragment in c.text)


def test_5xx_is_retried_429_is_waited_out_and_the_answer_arrives_once(
    tmp_path: Path, empty_database_url: str
) -> None:
    with FakeBotApi(TOKEN) as api:
        config = write_config(tmp_path, api, empty_database_url)
        anna = Resident(api, user_id=1001, first_name="Anna", username="anna")
        with bot_process(config, tmp_path / "bot.log"):
            api.inject("sendMessage", chat_id=1001, error_code=502, times=2)
            assert "Privacy" in anna.says("/start")
            failed = [c for c in api.calls("sendMessage", chat_id=1001) if not c.ok]
            assert [c.error_code for c in failed] == [502, 502]
            assert delivered(api, 1001, "Privacy") == 1

            api.inject("sendMessage", chat_id=1001, error_code=429, retry_after=1, times=1)
            assert "In welke kern" in anna.presses("Akkoord")
            [limited] = [c for c in api.calls("sendMessage", chat_id=1001) if c.error_code == 429]
            [kern_question] = [
                c
                for c in api.calls("sendMessage", chat_id=1001)
                if c.ok and "In welke kern" in c.text
            ]
            assert kern_question.monotonic - limited.monotonic >= 1.0
            assert delivered(api, 1001, "In welke kern") == 1
    assert "Traceback" not in (tmp_path / "bot.log").read_text(encoding="utf-8")


def test_a_blocked_resident_does_not_disturb_the_others(
    tmp_path: Path, empty_database_url: str
) -> None:
    with FakeBotApi(TOKEN) as api:
        config = write_config(tmp_path, api, empty_database_url)
        anna = Resident(api, user_id=1001, first_name="Anna")
        bram = Resident(api, user_id=1002, first_name="Bram")
        with bot_process(config, tmp_path / "bot.log"):
            api.block(1002)
            mark = api.mark()
            api.enqueue(api.updates.command(bram.user, "start"))
            refused = api.wait_for_sync("sendMessage", chat_id=1002, since=mark, timeout=WAIT)
            assert refused.error_code == 403
            assert "Privacy" in anna.says("/start")
            api.unblock(1002)
            assert "Privacy" in bram.says("/start")
    # Exactly one attempt while blocked: no retry storm, no apology to a blocked chat.
    assert sum(1 for c in api.calls("sendMessage", chat_id=1002) if c.error_code == 403) == 1


def test_a_timeout_is_not_retried_so_nothing_arrives_twice(
    tmp_path: Path, empty_database_url: str
) -> None:
    with FakeBotApi(TOKEN) as api:
        config = write_config(tmp_path, api, empty_database_url)
        anna = Resident(api, user_id=1001, first_name="Anna")
        with bot_process(config, tmp_path / "bot.log"):
            # Longer than the bot's 5 s read timeout: the bot gives up, Telegram delivers.
            api.delay("sendMessage", 6.0, chat_id=1001, times=1)
            api.enqueue(api.updates.command(anna.user, "start"))
            api.wait_for_sync("sendMessage", chat_id=1001, ok=True, timeout=WAIT)
            time.sleep(1.0)  # time enough for a (wrong) retry or apology to show
            assert delivered(api, 1001, "Privacy") == 1
            assert delivered(api, 1001, "Sorry") == 0
            # The conversation simply goes on.
            assert "In welke kern" in anna.presses("Akkoord")


def test_a_thousand_residents_at_once(tmp_path: Path, empty_database_url: str) -> None:
    residents = [user(10_000 + n, first_name=f"Inwoner{n}") for n in range(1000)]
    with FakeBotApi(TOKEN) as api:
        config = write_config(tmp_path, api, empty_database_url)
        with bot_process(config, tmp_path / "bot.log"):
            api.enqueue(*(api.updates.command(r, "start") for r in residents))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                answered = {c.chat_id for c in api.calls("sendMessage") if c.ok}
                if len(answered) == len(residents):
                    break
                time.sleep(0.5)
    welcomes = [c for c in api.calls("sendMessage") if c.ok and "Privacy" in c.text]
    assert sorted(c.chat_id for c in welcomes) == [r["id"] for r in residents]
    log = (tmp_path / "bot.log").read_text(encoding="utf-8")
    assert " ERROR " not in log and "Traceback" not in log
