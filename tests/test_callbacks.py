"""The callback-data codec: what it builds it parses back, and what it did not build it refuses."""

import pytest

from handlers.callbacks import LIMIT, Button, any_press


def test_round_trip_of_every_field_kind() -> None:
    button = Button("x:y", int, ("yes", "no"), (int, "none"), str)
    data = button.build(12, "no", "none", "helpers")
    assert data == "x:y:12:no:none:helpers"
    assert button.parse(data) == (12, "no", "none", "helpers")
    assert button.parse(button.build(0, "yes", 7, "a.b-c")) == (0, "yes", 7, "a.b-c")


def test_a_button_without_fields() -> None:
    save = Button("idee:save")
    assert save.build() == "idee:save"
    assert save.parse("idee:save") == ()
    assert save.parse("idee:save:1") is None
    with pytest.raises(ValueError):
        save.build(1)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "x:y",
        "x:y:",
        "x:y:-1",
        "x:y:1.5",
        "x:y:abc",
        "x:y:1:2",
        "x:y:١٢",  # Arabic-Indic digits: isdigit() says yes, the pattern must say no
        "x:y:1234567890123456789",  # more than fits a 64-bit id
        "x:yy:1",
        "X:y:1",
        "x:y:1\n",
    ],
)
def test_forged_presses_are_refused(data: str | None) -> None:
    assert Button("x:y", int).parse(data) is None


def test_build_refuses_what_it_could_not_parse_back() -> None:
    with pytest.raises(ValueError):
        Button("x:y", int).build(-1)
    with pytest.raises(ValueError):
        Button("x:y", int).build(True)
    with pytest.raises(ValueError):
        Button("x:y", ("yes", "no")).build("maybe")
    with pytest.raises(ValueError):
        Button("x:y", str).build("a:b")


def test_build_refuses_more_than_telegram_takes() -> None:
    wide = Button("x:y", str, str)
    fits = wide.build("a" * 30, "b" * (LIMIT - len("x:y::") - 30))
    assert len(fits.encode()) == LIMIT
    with pytest.raises(ValueError, match="64"):
        wide.build("a" * 30, "b" * (LIMIT - len("x:y::") - 29))


def test_one_and_any_press() -> None:
    kern = Button("idee:kern", int)
    assert kern.one("idee:kern:3") == 3
    assert kern.one("idee:kern:x") is None
    assert any_press("idee").match("idee:whatever")
    assert not any_press("idee").match("ideeen:1")


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError):
        Button("Idee:Save")
    with pytest.raises(TypeError):
        Button("x:y", float)
    with pytest.raises(TypeError):
        Button("x:y", ("with space",))
