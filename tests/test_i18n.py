"""The catalogs: Dutch and English complete, every key the code uses exists, placeholders agree."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, language_from_telegram, read_catalog, translator

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]


def catalog(language: str) -> dict[str, tuple[str, ...]]:
    result = {}
    for message in read_catalog(language):
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        result[key] = strings
    return result


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def keys_in_code() -> set[str]:
    """Literal keys passed to a translator (`t("...")`, `t.plural("...")`)."""
    keys: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if name in ("t", "plural") and isinstance(first, ast.Constant):
                keys.add(first.value)
            if name in ("t", "plural") and isinstance(first, ast.JoinedStr):
                # f"need.{...}" and the like: the literal prefix must have keys in the catalog.
                prefix = "".join(
                    v.value for v in first.values if isinstance(v, ast.Constant)
                ).split("{")[0]
                keys.add(prefix + "*")
    return keys


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    for key, strings in catalog(language).items():
        assert all(s.strip() for s in strings), f"{language}: {key} is empty"


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    nl, en = catalog("nl"), catalog("en")
    assert set(nl) == set(en)
    for key in nl:
        assert [fields(s) for s in nl[key]] == [fields(s) for s in en[key]], key


def test_every_key_used_in_code_exists() -> None:
    known = set(catalog("nl"))
    for key in keys_in_code():
        if key.endswith("*"):
            assert any(k.startswith(key[:-1]) for k in known), key
        else:
            assert key in known, f"{key} is used in code but missing from the catalogs"


SENDS = {"reply_text", "send_message", "answer", "edit_message_text", "reply_photo"}


def test_no_sentences_in_handlers() -> None:
    """Text residents read lives in the catalogs: no string literal with words is sent."""
    words = re.compile(r"[^\W\d_]{2,}")
    for path in ROOT.glob("handlers/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in SENDS:
                texts = [*node.args, *(k.value for k in node.keywords if k.arg == "text")]
                for arg in texts:
                    literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    assert not (literal and words.search(arg.value)), f"{path}:{node.lineno}"


def test_values_are_escaped_and_templates_are_not() -> None:
    t = translator("nl")
    assert (
        t("start.kern_changed", kern="<i>x</i>")
        == "Genoteerd: je woont in <b>&lt;i&gt;x&lt;/i&gt;</b>."
    )


def test_plural_forms() -> None:
    en = translator("en")
    assert en.plural("mijn.more", 1) == "… and 1 older idea."
    assert en.plural("mijn.more", 3) == "… and 3 older ideas."


@pytest.mark.parametrize(
    ("code", "expected"),
    [("nl", "nl"), ("nl-BE", "nl"), ("en-GB", "en"), ("EN", "en"), ("de", "nl"), (None, "nl")],
)
def test_language_from_telegram(code: str | None, expected: str) -> None:
    assert language_from_telegram(code) == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_html_telegram_accepts(language: str) -> None:
    """The bot sends everything in HTML parse mode: a stray `<nummer>` in a catalog would make
    Telegram refuse the message. Rendered with the stand-in's parser, which refuses the same."""
    from testing.fake_telegram.formatting import EntityParseError, render_html

    t = translator(language)
    for key, strings in catalog(language).items():
        for template in strings:
            values = {name: "x" for name in fields(template)}
            rendered = t(key, **values) if len(strings) == 1 else t.plural(key, 2, **values)
            try:
                render_html(rendered)
            except EntityParseError as error:
                raise AssertionError(f"{language} {key}: {error}") from None


def _readable(template: str) -> str:
    """A template as read: placeholders and /commands are names, not words."""
    return re.sub(r"/\w+", "", re.sub(r"\{\w+\}", "", template))


# Words of the back office: staff read "vervanger", not "back-up"; "nog niemand gevonden", not
# "past bij geen routeringsregel"; a median is said as "de helft binnen".
JARGON = {
    "nl": ("routering", "back-up", "backup", "triage", "escalat", "dispatch", "mediaan", "mediane"),
    "en": ("routing", "backup", "back-up", "triage", "escalat", "dispatch", "median"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_back_office_jargon(language: str) -> None:
    for key, strings in catalog(language).items():
        for text in strings:
            words = _readable(text).lower()
            found = [w for w in JARGON[language] if w in words]
            assert not found, f"{language} {key}: {found}"


def test_dutch_says_je_not_u() -> None:
    for key, strings in catalog("nl").items():
        for text in strings:
            assert not re.search(r"\b(u|uw)\b", _readable(text), re.IGNORECASE), key


# The catalogs reviewed for one word per role (issue #14 item 8); about.po names the
# municipality's own "platform voor inspraak en initiatieven", which is another thing.
REVIEWED = (
    "core",
    "initiatives",
    "matching",
    "meeting",
    "moderation",
    "posts",
    "report",
    "questions",
)


def test_one_word_for_an_idea() -> None:
    """Residents share an "idee" (/idee); "initiatief" in the same role confuses."""
    from babel.messages.pofile import read_po

    from bot.i18n import LOCALES

    for language, word in (("nl", "initiatief"), ("en", "initiative")):
        for flow in REVIEWED:
            with (LOCALES / language / f"{flow}.po").open("rb") as po:
                for message in read_po(po, locale=language):
                    strings = message.string if isinstance(message.id, tuple) else [message.string]
                    for text in strings:
                        assert word not in _readable(text).lower(), f"{language} {message.id}"


def test_the_rating_is_asked_in_stars() -> None:
    nl, en = translator("nl"), translator("en")
    assert "sterren" in nl("vraag.closed_to_resident", number="V-1", days=14)
    assert "stars" in en("vraag.closed_to_resident", number="V-1", days=14)
    for key, strings in catalog("nl").items():
        assert not any("cijfer van" in s for s in strings), key


def test_a_contact_line_names_the_person_once() -> None:
    """Without a @username the contact is a link whose text is the name: "{name} via {contact}"
    would read "Bram via Bram"."""
    for language in LANGUAGES:
        for strings in (catalog(language)["match.contact"],):
            assert not any("{name}" in s and "{contact}" in s for s in strings), language


@pytest.mark.parametrize(
    ("language", "median", "expected"),
    [
        ("nl", 1.04, "de helft van de vragen binnen 1 werkdag"),
        ("nl", 1.46, "de helft van de vragen binnen 1,5 werkdagen"),
        ("en", 0.25, "half of the questions within 0.2 working days"),
        ("en", 2.0, "half of the questions within 2 working days"),
        ("nl", None, "nog geen antwoorden"),
    ],
)
def test_the_answer_time_is_said_as_half_within(
    language: str, median: float | None, expected: str
) -> None:
    from handlers.moderators.stats import _answer_time

    assert _answer_time(translator(language), median) == expected
