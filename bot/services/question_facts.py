"""What a resident already said in a question: a kern, a date, a place, a number of people.

/vraag fills the matching follow-up answers with these and asks the resident to confirm them in
the summary instead of asking again. A wrong answer filled in annoys more than a question, so
every reader is conservative: two different candidates for one fact, a date in the past, a date
whose weekday does not fit, a street that is not written as a name — each gives nothing.
Dutch first, the common English forms too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from babel.dates import get_day_names, get_month_names

T = TypeVar("T")


class FactKind(StrEnum):
    DATE = "date"
    PLACE = "place"
    PEOPLE = "people"


# Which fact answers a follow-up question, by the question's key in the config: the one place
# that connects the two.
FOLLOW_UP_FACTS: dict[str, FactKind] = {
    "date": FactKind.DATE,
    "place": FactKind.PLACE,
    "where": FactKind.PLACE,
    "people": FactKind.PEOPLE,
}


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A value read from the text, with the words it came from (`said`, at `span`)."""

    value: T
    said: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Facts:
    kern: Fact[str] | None = None
    date: Fact[date] | None = None
    place: Fact[str] | None = None
    people: Fact[int] | None = None

    def for_follow_up(self, key: str) -> Fact[date] | Fact[str] | Fact[int] | None:
        """The fact that answers the follow-up question with config key `key`, if any."""
        kind = FOLLOW_UP_FACTS.get(key)
        if kind is FactKind.DATE:
            return self.date
        if kind is FactKind.PLACE:
            return self.place
        if kind is FactKind.PEOPLE:
            return self.people
        return None


def read_facts(text: str, kernen: Sequence[str], today: date) -> Facts:
    """The facts in `text`; `today` is the local date that relative dates count from."""
    folded, origin = _fold(text)
    return Facts(
        kern=_kern(text, folded, origin, kernen),
        date=_date(text, folded, origin, today),
        place=_place(text),
        people=_people(text, folded, origin),
    )


# --- folding: match without case or accents, report spans in the original text -----------


def _fold(text: str) -> tuple[str, list[int]]:
    """`text` casefolded without accents (’ as '), and for every folded character the index
    of the character it came from (plus one entry for the end)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text.replace("’", "'")):
        for part in unicodedata.normalize("NFD", ch).casefold():
            if not unicodedata.combining(part):
                chars.append(part)
                origin.append(i)
    origin.append(len(text))
    return "".join(chars), origin


def _fact(text: str, origin: list[int], start: int, end: int, value: T) -> Fact[T]:
    span = (origin[start], origin[end - 1] + 1)
    return Fact(value, text[span[0] : span[1]], span)


def _only(found: Iterable[Fact[T]]) -> Fact[T] | None:
    """The one fact when every candidate has the same value; two different values: none."""
    facts = list(found)
    return facts[0] if facts and len({f.value for f in facts}) == 1 else None


# --- kern ------------------------------------------------------------------------------------


def _kern(text: str, folded: str, origin: list[int], kernen: Sequence[str]) -> Fact[str] | None:
    found = []
    for kern in kernen:
        parts = re.split(r"[-\s]+", _fold(kern)[0].strip())
        # "Santpoort-Noord", "santpoort noord", "Santpoortnoord"; not inside a longer name
        # ("IJmuiden-West", "Oud-IJmuiden", "Driehuisstraat").
        pattern = r"(?<![\w-])" + r"[-\s]?".join(map(re.escape, parts)) + r"(?!\w|-\w)"
        found += [_fact(text, origin, *m.span(), kern) for m in re.finditer(pattern, folded)]
    return _only(found)


# --- date ------------------------------------------------------------------------------------


def _names(kind: str, width: str, languages: tuple[str, ...] = ("nl", "en")) -> dict[str, int]:
    """Babel's month or day names, folded, → their number (months 1-12, Monday 0)."""
    table = get_month_names if kind == "month" else get_day_names
    return {
        _fold(name)[0].rstrip("."): number
        for language in languages
        for number, name in table(width, locale=language).items()
    }


_MONTHS = {**_names("month", "abbreviated"), **_names("month", "wide"), "sept": 9}
_WEEKDAYS = _names("day", "wide")
# Month first ("June 12") only for English names: Dutch "in juni 20 kramen" is not a date.
_MONTHS_FIRST = {
    name: n
    for name, n in _names("month", "wide", ("en",)).items()
    if name not in _names("month", "abbreviated", ("nl",)) | _names("month", "wide", ("nl",))
}
_MONTH = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_MONTH_FIRST = "|".join(map(re.escape, _MONTHS_FIRST))
_WEEKDAY = "|".join(map(re.escape, _WEEKDAYS))
_BEFORE = r"(?<![\w./-])"
_AFTER = r"(?![\w/-]|[.,]\d)"
_DATE_PATTERNS = (
    # "zaterdag 13 maart 2027", "12 juni", "1e mei", "12 mrt."
    re.compile(
        rf"{_BEFORE}(?:(?P<wd>{_WEEKDAY}),?\s+)?(?P<d>[0-3]?\d)(?:e|ste|de|st|nd|rd|th)?\s+"
        rf"(?P<m>{_MONTH})\.?(?:\s+(?P<y>\d{{4}}))?{_AFTER}"
    ),
    # "Saturday, March 13, 2027", "June 12"
    re.compile(
        rf"{_BEFORE}(?:(?P<wd>{_WEEKDAY}),?\s+)?(?P<m>{_MONTH_FIRST})\s+(?P<d>[0-3]?\d)"
        rf"(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?{_AFTER}"
    ),
    # "12-6-2027", "12/06/27"; without a year only after "op"/"on" or a weekday ("10-12
    # mensen" is no date)
    re.compile(
        rf"(?:(?P<wd>{_WEEKDAY})\s+|(?P<op>(?<=\bop )|(?<=\bon )))?{_BEFORE}(?P<d>[0-3]?\d)[-/]"
        rf"(?P<m>[01]?\d)(?:[-/](?P<y>\d{{4}}|\d{{2}}))?{_AFTER}"
    ),
    # "2027-03-13"
    re.compile(rf"{_BEFORE}(?P<y>\d{{4}})-(?P<m>[01]\d)-(?P<d>[0-3]\d){_AFTER}"),
)
# "morgen", not "deze morgen", "'s morgens" or "vanmorgen"; "morgenavond" is tomorrow too.
_TOMORROW = re.compile(
    r"(?<!\bdeze )(?<!\belke )(?<!\bde )(?<!\bdie )(?<!\bhele )"
    r"\b(?P<rel>overmorgen|morgen(?:ochtend|middag|avond)?|tomorrow)\b"
)
_WEEK = re.compile(
    rf"\b(?:volgende week (?P<next>{_WEEKDAY})|(?P<next2>{_WEEKDAY}) volgende week"
    rf"|(?:aanstaande|komende) (?P<coming>{_WEEKDAY}))\b"
)
_HOLIDAY = re.compile(r"\b(?P<h>koningsdag|king'?s day|bevrijdingsdag|liberation day)\b")
# A month named without a day ("in juni") makes a single date doubtful.
# English "may" is a verb more often than a month.
_BARE_MONTH = re.compile(
    rf"\b(?:{'|'.join(map(re.escape, _names('month', 'wide').keys() - {'may'}))})\b"
)
# A date without a year that passed at most this long ago is about the past, not next year.
_RECENT_PAST = timedelta(days=31)


def _date(text: str, folded: str, origin: list[int], today: date) -> Fact[date] | None:
    found: list[Fact[date | None]] = []
    covered: list[tuple[int, int]] = []

    def add(start: int, end: int, day: date | None) -> None:
        found.append(_fact(text, origin, start, end, day))
        covered.append((start, end))

    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(folded):
            groups = m.groupdict()
            if "op" in groups and all(groups[g] is None for g in ("y", "op", "wd")):
                continue
            month = int(groups["m"]) if groups["m"].isdigit() else _MONTHS[groups["m"]]
            add(*m.span(), _day(today, int(groups["d"]), month, groups["y"], groups.get("wd")))
    for m in _TOMORROW.finditer(folded):
        add(*m.span(), today + timedelta(days=2 if m["rel"] == "overmorgen" else 1))
    for m in _WEEK.finditer(folded):
        if m["coming"]:
            ahead = (_WEEKDAYS[m["coming"]] - today.weekday() - 1) % 7 + 1
            add(*m.span(), today + timedelta(days=ahead))
        else:
            monday = today + timedelta(days=7 - today.weekday())
            add(*m.span(), monday + timedelta(days=_WEEKDAYS[m["next"] or m["next2"]]))
    for m in _HOLIDAY.finditer(folded):
        add(*m.span(), _holiday(m["h"], today))
    for m in _BARE_MONTH.finditer(folded):
        if not any(start <= m.start() < end for start, end in covered):
            return None
    fact = _only(found)
    if fact is None or fact.value is None or fact.value < today:
        return None
    return Fact(fact.value, fact.said, fact.span)


def _day(today: date, day: int, month: int, year: str | None, weekday: str | None) -> date | None:
    """The date meant, or None when there is none (31 June), or the weekday does not fit."""
    try:
        if year is not None:
            meant = date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        else:
            meant = date(today.year, month, day)
            if meant < today - _RECENT_PAST:
                meant = date(today.year + 1, month, day)
    except ValueError:
        return None
    if weekday is not None and _WEEKDAYS[weekday] != meant.weekday():
        return None
    return meant


def _holiday(name: str, today: date) -> date:
    for year in (today.year, today.year + 1):
        if name.startswith("k"):
            meant = date(year, 4, 27)
            if meant.weekday() == 6:  # on a Sunday, Koningsdag is the Saturday before
                meant -= timedelta(days=1)
        else:
            meant = date(year, 5, 5)
        if meant >= today:
            break
    return meant


# --- place -----------------------------------------------------------------------------------

_SUFFIXES = (
    "straat|weg|plein|laan|park|kade|dreef|singel|gracht|dijk|pad|plantsoen|steeg|boulevard"
    "|promenade"
)
_CAPITAL = r"[A-ZÀ-ÖØ-Þ]"
_PLACE = re.compile(
    rf"(?<![\w-])(?P<name>"
    # a square, park or boulevard with a name or a number after it: "Plein 1945"
    rf"(?:Plein|Park|Boulevard)\s+(?:\d{{1,4}}|{_CAPITAL}[\w-]+)"
    # or names before the street ("Burgemeester Rijkenslaan"), then a name ending in a street
    # word, or an adjective and a street word ("Velserbroekse Dreef"; not the surname "Van der
    # Laan"). Lower case ("de snelweg", "het park") is a common noun.
    rf"|(?:{_CAPITAL}[\w'-]*\s+(?:(?:van|de|der|den|ter|ten)\s+)*)*"
    rf"(?:{_CAPITAL}[\w-]*?(?:{_SUFFIXES})|{_CAPITAL}[\w-]*e\s+(?:{_SUFFIXES.title()})))"
    # and a house number
    rf"(?!\w)(?:\s+\d{{1,4}}(?:\s?[a-zA-Z])?(?!\w))?"
)
# Capitalised words at the start of a match that are not part of the name.
_NOT_NAME = {
    "op", "in", "bij", "aan", "de", "het", "een", "langs", "naast", "achter", "tegenover",
    "voor", "over", "deze", "die", "onze", "ik", "wij", "we", "er", "on", "at", "the", "near",
    "along",
}  # fmt: skip
# Words with a street ending that name no place ("Onderweg zag ik …").
_NOT_PLACE = {"onderweg", "halfweg", "midweg", "zijweg", "snelweg", "weg"}


def _place(text: str) -> Fact[str] | None:
    found = []
    for m in _PLACE.finditer(text):
        start, end = m.span()
        words = list(re.finditer(r"\S+", text[start:end]))
        while len(words) > 1 and words[0].group().casefold() in _NOT_NAME:
            words.pop(0)
        start += words[0].start()
        name = text[start:end]
        # "De Weg" or "Deze Straat" leave a bare street word, which is no name.
        if name.casefold() in _NOT_PLACE or re.fullmatch(_SUFFIXES, name.casefold()):
            continue
        found.append(Fact(name, name, (start, end)))
    return _only(found)


# --- number of people ------------------------------------------------------------------------

_TOKEN = re.compile(r"\d{1,3}(?:\.\d{3})+|\d+|[-±~]|\w+(?:'\w+)?\.?")
_PEOPLE_WORDS = {
    "mensen", "personen", "bezoekers", "deelnemers", "gasten", "man",
    "people", "persons", "visitors", "guests", "participants", "attendees",
}  # fmt: skip
# A number of people needs a word that says so: "met", "voor", "verwachten" just before, or
# "ongeveer"; a bare "50 mensen hebben getekend" is not how many come.
_CUES = {"met", "voor", "verwachten", "verwacht", "with", "for", "expect", "expecting"}
_ABOUT = {
    "ongeveer", "zo'n", "circa", "ca", "ruim", "bijna", "maximaal", "max",
    "hooguit", "minstens", "zeker", "plusminus", "±", "~", "about", "around", "roughly",
    "approximately", "some",
}  # fmt: skip
_ABOUT_PAIRS = {("rond", "de"), ("zo", "een"), ("up", "to"), ("at", "most"), ("tot", "wel")}
_RANGE = {"-", "tot", "a", "to"}


def _people(text: str, folded: str, origin: list[int]) -> Fact[int] | None:
    tokens = list(_TOKEN.finditer(folded))
    words = [m.group().rstrip(".") for m in tokens]
    found = []
    for i, word in enumerate(words):
        if word not in _PEOPLE_WORDS or i == 0:
            continue
        first, count = _number_before(words, i)
        if count is None:
            continue
        if first >= 2 and words[first - 1] in _RANGE:
            low_first, low = _number_before(words, first - 1)
            if low is not None and low < count:
                first = low_first
        begin, cued = first, False
        if begin >= 1 and words[begin - 1] in _ABOUT:
            begin, cued = begin - 1, True
        elif begin >= 2 and (words[begin - 2], words[begin - 1]) in _ABOUT_PAIRS:
            begin, cued = begin - 2, True
        cued = cued or (begin >= 1 and words[begin - 1] in _CUES)
        found.append((_fact(text, origin, tokens[begin].start(), tokens[i].end(), count), cued))
    # Every count mentioned makes the number doubtful, even one without a cue.
    fact = _only(fact for fact, _ in found)
    return next((f for f, cued in found if cued), None) if fact else None


def _number_before(words: list[str], end: int) -> tuple[int, int | None]:
    """The number in the word(s) just before `end`: its first index and value."""
    word = words[end - 1]
    if word[0].isdigit():
        return end - 1, int(word.replace(".", ""))
    if end >= 2 and words[end - 2] in ("a", "een") and word in _BIG:  # "a hundred"
        return end - 2, _BIG[word]
    value = _numeral(word)
    return end - 1, value if value is None or value >= 2 else None  # "een man" is an article


_BIG = {"hundred": 100, "honderd": 100, "thousand": 1000, "duizend": 1000}
_UNITS = {
    "een": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8,
    "negen": 9, "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14,
    "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18, "negentien": 19,
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_TENS = {
    "twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70,
    "tachtig": 80, "negentig": 90,
}  # fmt: skip


def _numeral(word: str) -> int | None:
    """A Dutch number written as one word ("vijfentwintig", "tweehonderd", "honderdvijftig",
    "duizend"), or a simple English one; None for any other word."""
    for big, factor in (("duizend", 1000), ("honderd", 100)):
        head, found, tail = word.partition(big)
        if found:
            left = _numeral(head) if head else 1
            right = _numeral(tail) if tail else 0
            return None if left is None or right is None else left * factor + right
    if word in _UNITS:
        return _UNITS[word]
    if word in _TENS:
        return _TENS[word]
    for tens, value in _TENS.items():
        unit = word.removesuffix("en" + tens)  # "vijf|en|twintig"
        if unit != word and _UNITS.get(unit, 10) < 10:
            return value + _UNITS[unit]
    return None
