"""Dutch normalisation: the cases the design names (compounds, inflection, typos, stop words)."""

from __future__ import annotations

import pytest

from bot.matching import normalize, similarity
from bot.matching.index import MATCH_THRESHOLD


def tokens(text: str) -> set[str]:
    return set(normalize(text).split())


def test_compound_matches_its_parts() -> None:
    assert tokens("Hondenspeeltuin") == tokens("speeltuin voor honden")
    assert similarity("Hondenspeeltuin in IJmuiden", "Speeltuin voor honden") >= MATCH_THRESHOLD


@pytest.mark.parametrize("form", ["bankje", "bankjes", "banken", "Bank", "BANKJE"])
def test_inflections_share_one_token(form: str) -> None:
    assert normalize(form) == normalize("bank")


def test_typo_still_matches() -> None:
    assert tokens("speeltiun") == tokens("speeltuin")
    assert similarity("Meer bankjes in het park", "Meer bankjes in het prak") >= MATCH_THRESHOLD


def test_stop_words_alone_do_not_match() -> None:
    assert normalize("het is van de en een in op") == ""
    assert similarity("Het is van de buurt", "Het is van de gemeente") < MATCH_THRESHOLD
    assert similarity("de en het", "de en het") == 0.0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hondenspeeltuin in IJmuiden", "Kooklessen voor kinderen"),
        ("Meer bankjes in het park", "Meer bomen in de straat"),
        ("Zwerfafval opruimen op het strand", "Muziekfestival in Velserbroek"),
    ],
)
def test_unrelated_texts_do_not_match(a: str, b: str) -> None:
    assert similarity(a, b) < MATCH_THRESHOLD


def test_case_accents_and_invisible_characters_fold_away() -> None:
    assert normalize("Café") == normalize("cafe")
    assert normalize("speel\u200btuin") == normalize("speeltuin")
    assert normalize("\u200fbank\u200e") == normalize("bank")


def test_general_word_covers_specific_one() -> None:
    assert similarity("een man", "een persoon") >= MATCH_THRESHOLD
    assert similarity("een man", "een kat") < MATCH_THRESHOLD
    assert similarity("Meer groen in de straat", "Meer bomen in de straat") >= MATCH_THRESHOLD


def test_negation_on_one_side_is_not_a_match() -> None:
    assert similarity("Auto's in de straat", "Geen auto's in de straat") < MATCH_THRESHOLD
    assert similarity("Geen auto's in de straat", "Geen auto in de straat") >= MATCH_THRESHOLD


@pytest.mark.parametrize(
    "text",
    ["", "   ", "🎉🐶🌳", "שלום עולם", "مرحبا بالعالم", "\u200b\u200c\u200d\ufeff", "x" * 10_000],
)
def test_odd_input_is_handled(text: str) -> None:
    out = normalize(text)
    assert isinstance(out, str)
    assert out == normalize(text)  # deterministic
    assert "  " not in out and out == out.strip()


def test_long_text_normalises_whole() -> None:
    text = "Meer bankjes en bomen in het park bij de speeltuin. " * 200  # ~10,000 characters
    assert len(text) >= 10_000
    assert tokens(text) == tokens("bankjes bomen park speeltuin")


def test_right_to_left_words_are_kept() -> None:
    assert normalize("שלום") != ""
    assert normalize("שלום") == normalize("\u200fשלום")


def test_similarity_is_symmetric_and_bounded() -> None:
    a, b = "Hondenspeeltuin in IJmuiden", "Een speeltuin voor honden in Velsen-Noord"
    assert similarity(a, b) == pytest.approx(similarity(b, a))
    assert 0.0 <= similarity(a, b) <= 1.0
    assert similarity(a, a) == pytest.approx(1.0)
