"""Reading a kern, a date, a place and a number of people from a question: what must be found,
and what must not (a wrong answer filled in is worse than a question)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.services.question_facts import FOLLOW_UP_FACTS, FactKind, read_facts

KERNEN = (
    "IJmuiden",
    "Velsen-Zuid",
    "Velsen-Noord",
    "Driehuis",
    "Santpoort-Noord",
    "Santpoort-Zuid",
    "Velserbroek",
)
TODAY = date(2026, 6, 1)  # a Monday


@pytest.mark.parametrize(
    ("text", "kern"),
    [
        ("Een feest in IJmuiden", "IJmuiden"),
        ("een feest in ijmuiden", "IJmuiden"),
        ("Feest in Santpoort Noord", "Santpoort-Noord"),
        ("feest in santpoort-noord", "Santpoort-Noord"),
        ("Feest in Santpoortnoord", "Santpoort-Noord"),
        ("VELSEN ZUID, bij het station", "Velsen-Zuid"),
        ("In Driehuis en nog eens Driehuis", "Driehuis"),
        # not a kern
        ("Een feest in IJmuiden-West", None),
        ("Een feest in Oud-IJmuiden", None),
        ("Een feest in de Driehuisstraat", None),
        ("Een feest in Santpoort", None),
        ("Een feest in Velsen", None),
        ("Van IJmuiden naar Velserbroek lopen", None),  # two kernen: which one?
        ("Velserbroekse Dreef", None),
    ],
)
def test_kern(text: str, kern: str | None) -> None:
    found = read_facts(text, KERNEN, TODAY).kern
    assert (found.value if found else None) == kern


def test_kern_tolerates_accents_and_reports_what_was_said() -> None:
    found = read_facts("Een feest in earnewald!", ("Earnewâld", "Wergea"), TODAY).kern
    assert found is not None
    assert (found.value, found.said, found.span) == ("Earnewâld", "earnewald", (13, 22))


@pytest.mark.parametrize(
    ("text", "day", "said"),
    [
        ("op zaterdag 13 maart 2027 een feest", date(2027, 3, 13), "zaterdag 13 maart 2027"),
        ("op 12 juni", date(2026, 6, 12), "12 juni"),
        ("op 12 jun. om twee uur", date(2026, 6, 12), "12 jun."),
        ("op 12-6", date(2026, 6, 12), "12-6"),
        ("op 12/06/2027", date(2027, 6, 12), "12/06/2027"),
        ("datum: 12-6-2027", date(2027, 6, 12), "12-6-2027"),
        ("datum 2027-06-12", date(2027, 6, 12), "2027-06-12"),
        ("zaterdag 12-9 een braderie", date(2026, 9, 12), "zaterdag 12-9"),
        ("op 12 januari", date(2027, 1, 12), "12 januari"),  # January has passed: next year
        ("morgen een barbecue", date(2026, 6, 2), "morgen"),
        ("Morgenavond een barbecue", date(2026, 6, 2), "Morgenavond"),
        ("overmorgen", date(2026, 6, 3), "overmorgen"),
        ("aanstaande zaterdag", date(2026, 6, 6), "aanstaande zaterdag"),
        ("komende maandag", date(2026, 6, 8), "komende maandag"),
        ("volgende week zaterdag", date(2026, 6, 13), "volgende week zaterdag"),
        ("zaterdag volgende week", date(2026, 6, 13), "zaterdag volgende week"),
        ("op Koningsdag een vrijmarkt", date(2027, 4, 27), "Koningsdag"),
        ("on June 12th", date(2026, 6, 12), "June 12th"),
        ("on Saturday, June 13, 2026", date(2026, 6, 13), "Saturday, June 13, 2026"),
        ("on 13 June", date(2026, 6, 13), "13 June"),
        ("tomorrow", date(2026, 6, 2), "tomorrow"),
        ("aanstaande zaterdag 6 juni", date(2026, 6, 6), "zaterdag 6 juni"),
    ],
)
def test_date(text: str, day: date, said: str) -> None:
    found = read_facts(text, KERNEN, TODAY).date
    assert found is not None and (found.value, found.said) == (day, said)
    assert text[found.span[0] : found.span[1]] == said


@pytest.mark.parametrize(
    "text",
    [
        "op 12 juni 2025 hadden we een feest",  # past
        "op 12 mei",  # passed last month: about the past, not next year
        "vrijdag 13 maart 2027",  # 13 March 2027 is a Saturday
        "op 31 juni",
        "in juni willen we een feest",
        "morgen vraag ik de vergunning aan voor het feest in juni",  # which date?
        "van 12 juni tot 14 juni",
        "met 10-12 mensen",
        "bel 06-12345678",
        "elke zaterdag is het druk",
        "op zaterdag is het druk",
        "volgende zaterdag",  # this one or the one after? Dutch speakers disagree
        "vanmorgen lag er afval",
        "deze morgen lag er afval",
        "'s morgens is het druk",
        "Goedemorgen, ik heb een vraag",
        "we may have 12 people",
        "in de zomer van 2027",
        "de 12e",
        "Plein 1945",
        "wij komen in juni 20 kramen neerzetten",
    ],
)
def test_no_date(text: str) -> None:
    assert read_facts(text, KERNEN, TODAY).date is None


@pytest.mark.parametrize(
    ("today", "day"),
    [(date(2026, 3, 1), date(2026, 4, 27)), (date(2025, 1, 10), date(2025, 4, 26))],
)
def test_koningsdag_moves_to_saturday_when_it_falls_on_a_sunday(today: date, day: date) -> None:
    found = read_facts("Koningsdag", KERNEN, today).date
    assert found is not None and found.value == day


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("een feest op het Plein 1945 in IJmuiden", "Plein 1945"),
        ("op de Kennemerlaan 12 ligt afval", "Kennemerlaan 12"),
        ("Op de Kennemerlaan ligt afval", "Kennemerlaan"),
        ("bij Dudokplein", "Dudokplein"),
        ("in het Park Velserbeek", "Park Velserbeek"),
        ("aan de Velserbroekse Dreef", "Velserbroekse Dreef"),
        ("aan de Burgemeester Rijkenslaan 3a", "Burgemeester Rijkenslaan 3a"),
        ("Langs de Zeeweg", "Zeeweg"),
        ("in de Driehuisstraat", "Driehuisstraat"),
        ("aan de Kennemerlaan, op de Kennemerlaan", "Kennemerlaan"),
    ],
)
def test_place(text: str, place: str) -> None:
    found = read_facts(text, KERNEN, TODAY).place
    assert found is not None and found.value == place
    assert text[found.span[0] : found.span[1]] == place


@pytest.mark.parametrize(
    "text",
    [
        "bij de bushalte",
        "in het park",
        "op het plein",
        "langs de snelweg",
        "Onderweg zag ik afval",
        "in IJmuiden",
        "wethouder Van der Laan zei het",
        "De Weg is kapot",
        "Deze Straat is vies",
        "van de Zeeweg naar de Kennemerlaan",  # a route: which one?
        "bij de Jumbo",
    ],
)
def test_no_place(text: str) -> None:
    assert read_facts(text, KERNEN, TODAY).place is None


@pytest.mark.parametrize(
    ("text", "people", "said"),
    [
        ("met zo'n 50 mensen", 50, "zo'n 50 mensen"),
        ("met zo’n 50 mensen", 50, "zo’n 50 mensen"),
        ("voor 200 bezoekers", 200, "200 bezoekers"),
        ("er komen ongeveer 30 personen", 30, "ongeveer 30 personen"),
        ("met honderd mensen", 100, "honderd mensen"),
        ("met vijfentwintig gasten", 25, "vijfentwintig gasten"),
        ("met tweeëntwintig deelnemers", 22, "tweeëntwintig deelnemers"),
        ("voor tweehonderdvijftig personen", 250, "tweehonderdvijftig personen"),
        ("we verwachten 1.500 bezoekers", 1500, "1.500 bezoekers"),
        ("met 40 à 60 man", 60, "40 à 60 man"),
        ("met 40-60 mensen", 60, "40-60 mensen"),
        ("maximaal 80 personen", 80, "maximaal 80 personen"),
        ("rond de 70 mensen", 70, "rond de 70 mensen"),
        ("with about 50 people", 50, "about 50 people"),
        ("for a hundred guests", 100, "a hundred guests"),
    ],
)
def test_people(text: str, people: int, said: str) -> None:
    found = read_facts(text, KERNEN, TODAY).people
    assert found is not None and (found.value, found.said) == (people, said)


@pytest.mark.parametrize(
    "text",
    [
        "50 mensen hebben de brief getekend",
        "ik heb 3 kinderen",
        "met een man uit de straat",
        "voor de mensen in de straat",
        "met 2 of 3 mensen",
        "vorig jaar kwamen er ongeveer 300 bezoekers, dit jaar verwachten we 500 bezoekers",
        "op de Kennemerlaan 12 mensen",
    ],
)
def test_no_people(text: str) -> None:
    assert read_facts(text, KERNEN, TODAY).people is None


def test_follow_up_keys_map_to_facts() -> None:
    facts = read_facts(
        "Op 12 juni een feest op de Kennemerlaan met 50 mensen, in Driehuis", KERNEN, TODAY
    )
    assert facts.for_follow_up("date") is facts.date is not None
    assert facts.for_follow_up("place") is facts.place is not None
    assert facts.for_follow_up("where") is facts.place
    assert facts.for_follow_up("people") is facts.people is not None
    assert facts.for_follow_up("budget") is None
    assert set(FOLLOW_UP_FACTS.values()) == set(FactKind)
