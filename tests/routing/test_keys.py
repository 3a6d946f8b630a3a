"""Topic keys: within and main topic."""

import pytest

from bot.routing.keys import main_topic, within


@pytest.mark.parametrize(
    ("key", "prefix", "expected"),
    [
        ("afval/grofvuil", "afval", True),
        ("afval", "afval", True),
        ("afval/grofvuil", "afval/grofvuil", True),
        ("afvalbak", "afval", False),
        ("afval", "afval/grofvuil", False),
        (None, "afval", False),
    ],
)
def test_within(key: str | None, prefix: str, expected: bool) -> None:
    assert within(key, prefix) is expected


def test_main_topic() -> None:
    assert main_topic("initiatieven/groen") == "initiatieven"
    assert main_topic("initiatieven") == "initiatieven"
    assert main_topic(None) is None
