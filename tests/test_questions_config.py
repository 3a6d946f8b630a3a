"""The question sections of the config: routing rules, follow-ups, dispatch times, moderators."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
BASE = '[telegram]\ntoken = "123:abc"\n[municipality]\nname = "Velsen"\nkernen = ["IJmuiden"]\n'


def write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    return path


def test_the_example_config_routes_velsen() -> None:
    config = load_config(ROOT / "config.example.toml", environ={"BURGERBEEST_TOKEN": "1:x"})
    questions = config.questions
    assert questions.dispatch_times == (time(9), time(14))
    rule = next(r for r in questions.rules if r.matches("openbare-ruimte/wegen", "IJmuiden"))
    assert rule.servants == ("wijkbeheer-ijmuiden", "wijkbeheer")
    assert [f.key for f in questions.follow_ups_for("evenementen/evenementenvergunning")] == [
        "date",
        "place",
        "people",
    ]


def test_defaults_without_the_sections(tmp_path: Path) -> None:
    questions = load_config(write(tmp_path, "")).questions
    assert questions.rules == () and questions.moderators == ()
    assert questions.reopen_days == 14 and questions.invite_days == 14


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[routing.rules]]\ntopic = "afval"\n', "[routing] rules #1 needs servants"),
        (
            '[[routing.rules]]\ntopic = "x"\nkern = "Haarlem"\nservants = ["a"]\n',
            "names kern 'Haarlem'",
        ),
        ('[dispatch]\ntimes = ["9 uur"]\n', "[dispatch] times has '9 uur', not a time"),
        ('[moderators]\ntelegram_ids = ["mo"]\n', "[moderators] telegram_ids must be a list"),
        ('[[follow_ups]]\ntopic = "x"\nkey = "y"\nnl = "Wat?"\n', "in nl and en"),
        ("[questions]\nreopen_days = 0\n", "[questions] reopen_days must be a whole number"),
    ],
)
def test_a_wrong_value_names_the_file_and_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, extra))
    assert str(error.value).startswith(str(tmp_path / "config.toml"))
    assert message in str(error.value)
