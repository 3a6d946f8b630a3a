"""Text the user reads, from gettext catalogs: `bot/locales/<lang>/<flow>.po`.

Message ids are stable keys (`idee.ask_title`), not sentences: the words live only in the catalogs,
Dutch and English both complete. One catalog per flow keeps them small; per language they are
merged and compiled in memory on first use, so no generated .mo files are kept in the repository.

Every text is HTML (the bot's parse mode). Values filled in are escaped, so a resident's title
"<b>" shows as typed and cannot break or forge markup; pass `Markup` for values that are HTML.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup, escape

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

__all__ = ["LANGUAGES", "Markup", "Translator", "escape", "language_from_telegram", "translator"]


def catalog_paths(language: str) -> list[Path]:
    return sorted((LOCALES / language).glob("*.po"))


def read_catalog(language: str) -> Catalog:
    """All of a language's catalogs as one; a key defined twice is an error, not a silent win."""
    merged = Catalog(locale=language)
    for path in catalog_paths(language):
        with path.open("rb") as po:
            part = read_po(po, locale=language)
        for message in part:
            if not message.id:
                continue
            if message.id in merged:
                raise ValueError(f"{path}: message {message.id!r} is defined in another catalog")
            merged[message.id] = message
    return merged


@cache
def _translations(language: str) -> gettext.GNUTranslations:
    buffer = BytesIO()
    write_mo(buffer, read_catalog(language))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    language: str

    def _render(self, template: str, values: dict[str, object]) -> str:
        # The template comes from our own catalog, so it is trusted markup; the values are not.
        return str(Markup(template).format(**values)) if values else template  # noqa: S704

    def __call__(self, key: str, /, **values: object) -> str:
        """The text for `key` with `values` filled in (escaped)."""
        return self._render(_translations(self.language).gettext(key), values)

    def has(self, key: str) -> bool:
        """Whether the catalogs define `key` (gettext answers a missing key with the key)."""
        return _translations(self.language).gettext(key) != key

    def date(self, day: date | datetime, tz: tzinfo | None = None, *, weekday: bool = False) -> str:
        """A date as people write it in this language: "18 december 2026", with `weekday`
        "vrijdag 18 december 2026"; a datetime is first put in `tz` (the municipality's)."""
        if isinstance(day, datetime) and tz is not None:
            day = day.astimezone(tz)
        pattern = "EEEE d MMMM y" if weekday else "d MMMM y"
        return format_date(day, pattern, locale=self.language)

    def day(
        self, day: date | datetime, tz: tzinfo | None = None, *, today: date | None = None
    ) -> str:
        """A day as people say it in a list: "vrijdag 18 december", with the year only when it
        is not this year's (`today`: by default the current date in `tz`)."""
        if isinstance(day, datetime):
            day = (day.astimezone(tz) if tz is not None else day).date()
        current = today or datetime.now(tz).date()
        pattern = "EEEE d MMMM" if day.year == current.year else "EEEE d MMMM y"
        return format_date(day, pattern, locale=self.language)

    def moment(self, when: datetime, tz: tzinfo) -> str:
        """A date and a time: "18 december 2026, 09:00"."""
        local = when.astimezone(tz)
        return f"{self.date(local)}, {format_time(local, 'HH:mm', locale=self.language)}"

    def plural(self, key: str, count: int, /, **values: object) -> str:
        """The singular or plural form of `key` for `count`; `count` is also a value."""
        template = _translations(self.language).ngettext(key, f"{key}_plural", count)
        return self._render(template, {"count": count, **values})


def translator(language: str | None) -> Translator:
    return Translator(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def language_from_telegram(language_code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Telegram's IETF tag ('nl', 'en-GB', 'nl-BE') mapped onto a language the bot speaks."""
    base = (language_code or "").split("-")[0].lower()
    return base if base in LANGUAGES else default
