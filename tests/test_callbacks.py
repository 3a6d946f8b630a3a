"""The callback-data codec: what it builds it parses back, and what it did not build it refuses."""

import pytest

from handlers.callbacks import LIMIT, Button, any_press
from handlers.residents import (
    following,
    initiative,
    introductions,
    mine,
    onboarding,
    privacy,
    question,
    report,
    search,
    who,
)


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


# --- the residents' buttons -------------------------------------------------------------------

RESIDENT_FLOWS = [following, initiative, introductions, mine, onboarding, privacy, question]
RESIDENT_FLOWS += [report, search, who]


def _buttons(module: object) -> list[Button]:
    return [value for value in vars(module).values() if isinstance(value, Button)]


# Every residents' button once (search.py uses report.py's REPORT, for one).
ALL_BUTTONS = list({id(b): b for module in RESIDENT_FLOWS for b in _buttons(module)}.values())


# Data the residents' buttons carried before the codec, as old messages in chats still carry it:
# each is answered by exactly one Button of the flow that built it, with these values.
OLD_DATA = {
    "idee:kern:3": (initiative.KERN_PICK, (3,)),
    "idee:topic:more": (initiative.TOPIC_PICK, ("more",)),
    "idee:need:helpers": (initiative.NEED, ("helpers",)),
    "idee:edit": (initiative.CHANGE, ()),
    "idee:edit:where": (initiative.CHANGE_FIELD, ("where",)),
    "idee:meet:12": (initiative.MEET, (12,)),
    "vraag:main:none": (question.MAIN_PICK, ("none",)),
    "checkin:7:ask": (question.CHECK_IN_ASK, (7, "ask")),
    "checkin:7:stuck": (mine.CHECK_IN, (7, "stuck")),
    "vq:reply:5": (question.REPLY, (5,)),
    "fb:score:5:4": (question.SCORE, (5, "4")),
    "fb:reopen:5": (question.REOPEN, (5,)),
    "mijn:set:1:in_gesprek": (mine.SET_STATUS, (1, "in_gesprek")),
    "onb:consent:en": (onboarding.CONSENT, ("en",)),
    "onb:contact:profile_link": (onboarding.CONTACT, ("profile_link",)),
    "taal:nl": (onboarding.LANGUAGE, ("nl",)),
    "volg:t:2": (following.TOGGLE, ("t", 2)),
    "volg:klaar": (following.DONE, ()),
    "intro:decline:4": (introductions.DECIDE, ("decline", 4)),
    "late:meet:2:1": (introductions.LATE_MEET, (2, 1)),
    "zoek:scope:kern": (search.SCOPE, ("kern",)),
    "wie:k:1:2": (who.PAGE, ("k", 1, 2)),
    "meld:ask:9": (report.REPORT, ("ask", 9)),
    "privacy:erase:no": (privacy.ERASE_CONFIRM, ("no",)),
}


@pytest.mark.parametrize("data", sorted(OLD_DATA))
def test_old_residents_buttons_still_mean_the_same(data: str) -> None:
    button, values = OLD_DATA[data]
    answering = [b for b in ALL_BUTTONS if b.parse(data) is not None]
    assert answering == [button]
    assert button.parse(data) == values
    assert button.build(*values) == data


def _widest_number() -> int:
    probe = Button("x:y", int)
    return max(int("9" * k) for k in range(1, 30) if probe.parse("x:y:" + "9" * k))


def _longest(field: object) -> object:
    alternatives = field if isinstance(field, tuple) else (field,)
    number = _widest_number()
    values = [number if a is int else "w" * 40 if a is str else a for a in alternatives]
    return max(values, key=lambda v: len(str(v)))


@pytest.mark.parametrize("module", RESIDENT_FLOWS, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_residents_button_fits_telegram_with_its_longest_values(module: object) -> None:
    buttons = _buttons(module)
    assert buttons
    for button in buttons:
        data = button.build(*(_longest(field) for field in button.fields))
        assert len(data.encode()) <= LIMIT
