"""Every setting of config.toml in one table: section, key, kind, default, check and meaning.

The table reads and checks the file (`read`) and writes the configuration reference
(`reference`, kept in docs/configuration.md; a test checks the two agree). A setting that is
not in the table does not exist. Checks that join several settings (webhook mode needs a port,
a rule's kern must be a kern) and the building of the typed config live in bot/config.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TOKEN_ENV = "BURGERBEEST_TOKEN"  # noqa: S105 - the name of the variable, not a secret
WEBHOOK_SECRET_ENV = "BURGERBEEST_WEBHOOK_SECRET"  # noqa: S105 - a variable name
TELEGRAM_API = "https://api.telegram.org"
LANGUAGES = ("nl", "en")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Bot API tokens are "<bot id>:<secret>"; a stand-in may use a short secret, so the check is loose.
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class Invalid(ValueError):
    """A value's problem, phrased to follow "[section] key": "must be …"."""


@dataclass(frozen=True)
class Kind:
    """How a value is read: `parse` turns the TOML value into the setting or raises Invalid."""

    name: str  # for the reference: "text", "whole number ≥ 1", …
    parse: Callable[[Any], Any]


def text(check: Callable[[str], str | None] | None = None, name: str = "text") -> Kind:
    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("must be a string")
        value = value.strip()
        problem = check(value) if check else None
        if problem:
            raise Invalid(problem)
        return value

    return Kind(name, parse)


def whole(low: int, high: int | None = None, problem: str | None = None) -> Kind:
    def parse(value: Any) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        if not ok:
            raise Invalid(problem or f"must be a whole number of at least {low}")
        if high is not None and value > high:
            raise Invalid(problem or f"must be at most {high}")
        return value

    bounds = f"{low}–{high}" if high is not None else f"≥ {low}"
    return Kind(f"whole number, {bounds}", parse)


def number(above: float, at_most: float, problem: str) -> Kind:
    def parse(value: Any) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not above < value <= at_most:
            raise Invalid(problem)
        return float(value)

    return Kind(f"number, above {above:g}, at most {at_most:g}", parse)


def flag() -> Kind:
    def parse(value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid("must be true or false")
        return value

    return Kind("true or false", parse)


def choice(options: tuple[str, ...], problem: str, *, fold: Callable[[str], str] = str) -> Kind:
    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("must be a string")
        value = fold(value.strip())
        if value not in options:
            raise Invalid(problem)
        return value

    return Kind("one of " + ", ".join(f'"{o}"' for o in options), parse)


def clock(example: str) -> Kind:
    def parse(value: Any) -> time:
        if not isinstance(value, str):
            raise Invalid("must be a string")
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            raise Invalid(f'has {value.strip()!r}, not a time like "{example}"') from None

    return Kind('local time, "HH:MM"', parse)


def clocks() -> Kind:
    def parse(value: Any) -> tuple[time, ...]:
        if not isinstance(value, list) or not value:
            raise Invalid('must be a list of times like ["09:00"]')
        times = []
        for raw in value:
            try:
                times.append(time.fromisoformat(raw))
            except (TypeError, ValueError):
                raise Invalid(f"has {raw!r}, not a time") from None
        return tuple(sorted(set(times)))

    return Kind('list of local times, ["HH:MM", …]', parse)


def names() -> Kind:
    def parse(value: Any) -> tuple[str, ...]:
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(k, str) and k.strip() for k in value)
        ):
            raise Invalid("must be a non-empty list of names")
        if len({k.strip().casefold() for k in value}) != len(value):
            raise Invalid("contains a name twice")
        return tuple(k.strip() for k in value)

    return Kind("non-empty list of names", parse)


def telegram_ids() -> Kind:
    def parse(value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not all(
            isinstance(m, int) and not isinstance(m, bool) for m in value
        ):
            raise Invalid("must be a list of Telegram ids")
        return tuple(value)

    return Kind("list of Telegram ids", parse)


def tables() -> Kind:
    """An array of tables; each table's own keys are checked where it is built (bot/config.py)."""

    def parse(value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise Invalid("must be a list of tables")
        return value

    return Kind("list of tables", parse)


def _token_shape(value: str) -> str | None:
    if value and not _TOKEN_SHAPE.match(value):
        return "does not look like a bot token from BotFather"
    return None


def _http_url(value: str) -> str | None:
    return (
        None if value.startswith(("http://", "https://")) else "must start with http:// or https://"
    )


def _database_url(value: str) -> str | None:
    if not value or value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return None
    return "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"


def _time_zone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"is not a known time zone: {value!r}"
    return None


def _webhook_url(value: str) -> str | None:
    if value and not value.startswith(("https://", "http://")):
        return "must start with https://"
    return None


def _absolute_path(value: str) -> str | None:
    return None if value.startswith("/") else "must start with /"


@dataclass(frozen=True)
class Field:
    section: str  # the TOML table; for an array of tables, its name with key ""
    key: str
    kind: Kind
    default: Any  # None: required
    doc: str
    env: str | None = None  # an environment variable that overrides the file
    secret: bool = False  # never shown: not in errors, not in the reference's default column

    @property
    def where(self) -> str:
        return f"{self.section}.{self.key}" if self.key else self.section


REQUIRED = None

FIELDS: tuple[Field, ...] = (
    Field(
        "telegram",
        "token",
        text(_token_shape, "bot token"),
        "",
        "From @BotFather; best given in the environment. Only `burgerbeest run` needs it.",
        env=TOKEN_ENV,
        secret=True,
    ),
    Field(
        "telegram",
        "api_base_url",
        text(_http_url, "URL"),
        TELEGRAM_API,
        "The Bot API server; a self-hosted telegram-bot-api (e.g. http://127.0.0.1:8081) works.",
    ),
    Field(
        "telegram",
        "rate_limit",
        flag(),
        True,
        "Pace calls to Telegram's flood limits (off only in tests).",
    ),
    Field(
        "database",
        "url",
        text(_database_url, "database URL"),
        "",
        "Empty: an SQLite file burgerbeest.sqlite3 next to the config file. "
        "PostgreSQL: postgresql+asyncpg://user:password@host/dbname.",
    ),
    Field(
        "municipality", "name", text(), REQUIRED, "The municipality's name, as residents read it."
    ),
    Field("municipality", "kernen", names(), REQUIRED, "The kernen (neighbourhoods), in order."),
    Field(
        "municipality",
        "timezone",
        text(_time_zone, "time zone"),
        "Europe/Amsterdam",
        "Times are stored in UTC and shown and scheduled in this zone.",
    ),
    Field("http", "listen", text(), "127.0.0.1", "Address of /healthz, /metrics and the webhook."),
    Field(
        "http",
        "port",
        whole(0, 65535, "must be a port number (0 for no HTTP server)"),
        0,
        "0: no HTTP server (polling without health and metrics endpoints).",
    ),
    Field(
        "webhook",
        "url",
        text(_webhook_url, "URL"),
        "",
        "Empty: long polling. Webhook mode: the public HTTPS address Telegram posts to.",
    ),
    Field(
        "webhook",
        "path",
        text(_absolute_path, "path"),
        "/telegram",
        "The path the reverse proxy forwards to [http] port.",
    ),
    Field(
        "webhook",
        "secret_token",
        text(),
        "",
        "Required in webhook mode: 1–256 of A-Z a-z 0-9 _ -; best given in the environment.",
        env=WEBHOOK_SECRET_ENV,
        secret=True,
    ),
    Field(
        "broadcast",
        "rate",
        number(0, 30, "must be a number of messages per second above 0, at most 30"),
        25.0,
        "Announcements per second; Telegram allows a bot about 30 in all.",
    ),
    Field(
        "broadcast",
        "lease_s",
        whole(10),
        60,
        "Seconds after which the next start resumes a crashed sender's announcement.",
    ),
    Field(
        "moderation",
        "mode",
        choice(("pre", "post"), 'must be "pre" or "post"'),
        "post",
        '"post": new initiatives are shown at once and reviewed after; "pre": reviewed first.',
    ),
    Field(
        "moderation",
        "hide_after_reports",
        whole(1),
        3,
        "Reports by different residents that hide an initiative until a moderator looks.",
    ),
    Field(
        "posts",
        "weekday",
        choice(WEEKDAYS, f"must be one of {', '.join(WEEKDAYS)}", fold=str.lower),
        "friday",
        "The local weekday of the weekly news.",
    ),
    Field("posts", "time", clock("10:00"), "10:00", "The local time of the weekly news."),
    Field(
        "posts",
        "per_week",
        # Four posts of 700 characters fill most of a Telegram message (4,096 characters).
        whole(1, 4),
        3,
        "At most this many posts in one resident's weekly news.",
    ),
    Field(
        "privacy",
        "retention_days",
        whole(1, problem="must be a whole number of days, >= 1"),
        365,
        "Closed questions keep no trace of the resident after this many days.",
    ),
    Field(
        "privacy",
        "controller",
        text(),
        "",
        "Who is responsible for the data under the AVG/GDPR (the controller), as residents read "
        'it in /start, /privacy and /over, e.g. "Stichting Burgerbeest Velsen".',
    ),
    Field(
        "privacy",
        "contact",
        text(),
        "",
        "Where residents ask about their data: an e-mail or web address.",
    ),
    Field(
        "municipality",
        "platform_name",
        text(),
        "",
        "The municipality's own participation platform (e.g. Velsen op Koers), named in /start "
        "and /over so residents know the Burgerbeest is not it.",
    ),
    Field(
        "municipality",
        "platform_url",
        text(lambda v: _http_url(v) if v else None, "URL"),
        "",
        "The platform's web address.",
    ),
    Field(
        "bot",
        "default_language",
        choice(LANGUAGES, f"must be one of {', '.join(LANGUAGES)}"),
        "nl",
        "For residents whose Telegram language is neither Dutch nor English.",
    ),
    Field(
        "bot",
        "log_level",
        choice(
            ("DEBUG", "INFO", "WARNING", "ERROR"),
            "must be DEBUG, INFO, WARNING or ERROR",
            fold=str.upper,
        ),
        "INFO",
        "How much the log says.",
    ),
    Field(
        "routing",
        "topics_file",
        text(name="path"),
        "",
        "Empty: the shipped Velsen taxonomy (bot/data/topics.toml); relative to the config file.",
    ),
    Field(
        "routing",
        "rules",
        tables(),
        [],
        "[[routing.rules]]: topic (a key or its beginning), optional kern, servants "
        "(invite handles or Telegram ids); the first rule with an available servant wins.",
    ),
    Field(
        "follow_ups",
        "",
        tables(),
        [],
        "[[follow_ups]]: topic, key, nl, en: a question asked after a question on that topic.",
    ),
    Field(
        "dispatch",
        "times",
        clocks(),
        ["09:00", "14:00"],
        "Civil servants' digests go out at these local times on working days.",
    ),
    Field(
        "dispatch",
        "reminder_days_before",
        whole(0),
        1,
        "Working days before a deadline that the civil servant is reminded.",
    ),
    Field(
        "questions",
        "reopen_days",
        whole(1),
        14,
        "Days a resident may reopen a closed question.",
    ),
    Field(
        "questions",
        "invite_days",
        whole(1),
        14,
        "Days an invite code stays valid.",
    ),
    Field(
        "moderators",
        "telegram_ids",
        telegram_ids(),
        [],
        "Moderators by Telegram id; more can join with a moderator invite.",
    ),
)


class FieldError(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(problem)
        self.where = where
        self.problem = problem


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise FieldError(name, "must be a table")
    return value


def read(
    data: dict[str, Any], env: Mapping[str, str], *, required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Every field's value ("section.key" → value), checked in the table's order; a missing
    required one (`required` adds fields a command needs, such as the token for `run`), or any
    bad one, raises FieldError naming it. A secret's value never appears in a problem."""
    values: dict[str, Any] = {}
    for field in FIELDS:
        if field.key:
            table = _section(data, field.section)
            raw = table.get(field.key, field.default)
        else:
            raw = data.get(field.section, field.default)
        if field.env and env.get(field.env):
            raw = env[field.env]
        if raw is None or (field.where in required and not raw):
            also = f" (or set {field.env})" if field.env else ""
            raise FieldError(field.where, f"is missing{also}")
        try:
            values[field.where] = field.kind.parse(raw)
        except Invalid as problem:
            raise FieldError(field.where, str(problem)) from None
    return values


def _shown(field: Field) -> str:
    if field.default is None:
        return "(required)"
    if field.secret or field.default in ("", []):
        return "—"
    if isinstance(field.default, bool):
        return "true" if field.default else "false"
    if isinstance(field.default, list):
        return "[" + ", ".join(f'"{v}"' for v in field.default) + "]"
    if isinstance(field.default, str):
        return f'"{field.default}"'
    return f"{field.default:g}" if isinstance(field.default, float) else str(field.default)


def reference() -> str:
    """The configuration reference in Markdown, made from the table."""
    lines = [
        "# Configuration reference",
        "",
        "Made from the field table in `bot/config_fields.py` (`burgerbeest config-reference`);",
        "`config.example.toml` is a commented example. Every problem ends the start with one line",
        "that names the file, the table and the key.",
        "",
    ]
    sections: dict[str, list[Field]] = {}
    for field in FIELDS:
        sections.setdefault(field.section, []).append(field)
    for section, fields in sections.items():
        heading = f"[[{section}]]" if not fields[0].key else f"[{section}]"
        lines += [f"## `{heading}`", "", "| key | kind | default | meaning |", "|---|---|---|---|"]
        for field in fields:
            key = f"`{field.key}`" if field.key else "—"
            meaning = field.doc + (f" Environment: `{field.env}`." if field.env else "")
            lines.append(f"| {key} | {field.kind.name} | {_shown(field)} | {meaning} |")
        lines.append("")
    return "\n".join(lines)


def resolve_path(config_path: Path, value: str) -> Path:
    """A path setting relative to the config file's folder."""
    path = Path(value)
    return path if path.is_absolute() else config_path.resolve().parent / path
