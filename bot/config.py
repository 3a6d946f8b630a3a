"""Configuration: a TOML file read once at start, the token from the environment.

Every problem ends in one `ConfigError` that names the file and the key, so the CLI can print one
clear line and exit 2. The token is never part of an error message or a repr.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TOKEN_ENV = "BURGERBEEST_TOKEN"  # noqa: S105 - the name of the variable, not a secret
WEBHOOK_SECRET_ENV = "BURGERBEEST_WEBHOOK_SECRET"  # noqa: S105 - a variable name
TELEGRAM_API = "https://api.telegram.org"
LANGUAGES = ("nl", "en")
# Telegram allows 1-256 of these characters in a webhook's secret token.
_WEBHOOK_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Bot API tokens are "<bot id>:<secret>"; a stand-in may use a short secret, so the check is loose.
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """A configuration problem, phrased for the person who edits the file."""

    def __init__(self, path: Path, where: str | None, problem: str) -> None:
        """`where` is "section" or "section.key"; it is shown as TOML spells it: [section] key."""
        if where:
            section, _, key = where.partition(".")
            location = f"{path}: [{section}] {key}".rstrip()
        else:
            location = str(path)
        super().__init__(f"{location} {problem}")


@dataclass(frozen=True)
class TelegramConfig:
    token: str = field(repr=False)
    api_base_url: str = TELEGRAM_API
    # Off only in tests: the AIORateLimiter would pace the harness like a real chat.
    rate_limit: bool = True

    @property
    def base_url(self) -> str:
        """The URL prefix PTB puts the token after; both spellings of a self-hosted URL work."""
        root = self.api_base_url.rstrip("/")
        return root if root.endswith("/bot") else f"{root}/bot"

    @property
    def base_file_url(self) -> str:
        root = self.api_base_url.rstrip("/").removesuffix("/bot")
        return f"{root}/file/bot"


@dataclass(frozen=True)
class HttpConfig:
    """The bot's HTTP side: /healthz and /metrics when `port` is set, and in webhook mode
    (`webhook_url` set) the endpoint Telegram posts updates to, behind a reverse proxy."""

    listen: str = "127.0.0.1"
    port: int = 0  # 0: no HTTP server (polling without health/metrics endpoints)
    webhook_url: str = ""  # empty: long polling
    webhook_path: str = "/telegram"
    webhook_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class MunicipalityConfig:
    name: str
    kernen: tuple[str, ...]
    timezone: str = "Europe/Amsterdam"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class RoutingRule:
    """Questions whose topic key starts with `topic` (and in `kern`, if set) go to `servants`:
    civil servants by their invite handle (a string) or Telegram id (a number), first available."""

    topic: str
    servants: tuple[str | int, ...]
    kern: str | None = None

    def matches(self, topic_key: str | None, kern: str | None) -> bool:
        if topic_key is None:
            return False
        prefix_ok = f"{topic_key}/".startswith(f"{self.topic}/")
        return prefix_ok and (self.kern is None or self.kern == kern)


@dataclass(frozen=True)
class FollowUp:
    """A question the bot asks a resident after a question on `topic` (a key or key prefix)."""

    topic: str
    key: str
    text: dict[str, str]  # language → wording


@dataclass(frozen=True)
class QuestionsConfig:
    """Questions to the municipality: routing, dispatch times, reminders, invites, moderators."""

    topics_file: Path | None = None  # None: the shipped bot/data/topics.toml
    rules: tuple[RoutingRule, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    dispatch_times: tuple[time, ...] = (time(9, 0), time(14, 0))
    reminder_days_before: int = 1
    reopen_days: int = 14
    invite_days: int = 14
    moderators: tuple[int, ...] = ()

    def follow_ups_for(self, topic_key: str | None) -> list[FollowUp]:
        if topic_key is None:
            return []
        return [f for f in self.follow_ups if f"{topic_key}/".startswith(f"{f.topic}/")]


@dataclass(frozen=True)
class BroadcastConfig:
    """Announcements: how fast they go out. Telegram allows a bot about 30 messages a second
    overall; the rest of the bot keeps talking while a broadcast runs, so stay below that."""

    rate: float = 25.0
    # A sender holds a broadcast while it renews this lease (with every claim); after a crash
    # the next start takes over once it has run out. Shorter: a faster resume; it must stay
    # well above the longest pause between two claims (a 429's retry_after).
    lease_s: int = 60


@dataclass(frozen=True)
class ModerationConfig:
    """ "pre": a new initiative waits for a moderator before others see it; "post": it is
    shown at once and reviewed afterwards. Reports hide an initiative pending review."""

    mode: str = "post"
    hide_after_reports: int = 3


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class PostsConfig:
    """The weekly news for followers: "Wist je dat…" posts and status changes of initiatives,
    built at this local weekday (0 = Monday) and time; at most `per_week` posts a resident."""

    weekday: int = 4
    at: time = time(10, 0)
    per_week: int = 3


@dataclass(frozen=True)
class Config:
    path: Path
    telegram: TelegramConfig
    database_url: str
    municipality: MunicipalityConfig
    default_language: str = "nl"
    log_level: str = "INFO"
    http: HttpConfig = field(default_factory=HttpConfig)
    # Closed questions keep no trace of the resident after this many days (AVG retention).
    retention_days: int = 365
    broadcast: BroadcastConfig = field(default_factory=BroadcastConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    posts: PostsConfig = field(default_factory=PostsConfig)
    questions: QuestionsConfig = field(default_factory=QuestionsConfig)


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(path, name, "must be a table")
    return value


def _string(table: dict[str, Any], key: str, path: Path, section: str, default: str | None) -> str:
    value = table.get(key, default)
    if value is None:
        raise ConfigError(path, f"{section}.{key}", "is missing")
    if not isinstance(value, str):
        raise ConfigError(path, f"{section}.{key}", "must be a string")
    return value.strip()


def _int(table: dict[str, Any], key: str, path: Path, section: str, default: int, low: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(path, f"{section}.{key}", f"must be a whole number of at least {low}")
    return value


def _tables(data: dict[str, Any], name: str, path: Path, where: str) -> list[dict[str, Any]]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(path, where, f"must be a list of tables ([[{where}]])")
    return value


def _questions(data: dict[str, Any], path: Path, kernen: tuple[str, ...]) -> QuestionsConfig:
    routing = _table(data, "routing", path)
    topics_file: Path | None = None
    if routing.get("topics_file"):
        topics_file = Path(_string(routing, "topics_file", path, "routing", None))
        if not topics_file.is_absolute():
            topics_file = path.resolve().parent / topics_file
        if not topics_file.is_file():
            raise ConfigError(path, "routing.topics_file", f"does not exist: {topics_file}")
    rules = []
    for number, raw in enumerate(_tables(routing, "rules", path, "routing.rules"), 1):
        where = f"routing.rules #{number}"
        topic = raw.get("topic")
        if not isinstance(topic, str) or not topic.strip():
            raise ConfigError(path, where, "needs topic = a topic key or its beginning")
        kern = raw.get("kern")
        if kern is not None and kern not in kernen:
            raise ConfigError(path, where, f"names kern {kern!r}, which is not in [municipality]")
        servants = raw.get("servants")
        if (
            not isinstance(servants, list)
            or not servants
            or not all(isinstance(s, str | int) and not isinstance(s, bool) for s in servants)
        ):
            raise ConfigError(
                path, where, "needs servants = a list of invite handles or Telegram ids"
            )
        rules.append(RoutingRule(topic.strip(), tuple(servants), kern))
    follow_ups = []
    for number, raw in enumerate(_tables(data, "follow_ups", path, "follow_ups"), 1):
        where = f"follow_ups #{number}"
        texts = {lang: raw.get(lang) for lang in LANGUAGES}
        if not isinstance(raw.get("topic"), str) or not isinstance(raw.get("key"), str):
            raise ConfigError(path, where, "needs topic and key")
        if not all(isinstance(t, str) and t.strip() for t in texts.values()):
            raise ConfigError(path, where, "needs the question in nl and en")
        follow_ups.append(
            FollowUp(raw["topic"], raw["key"], {k: str(v).strip() for k, v in texts.items()})
        )
    dispatch = _table(data, "dispatch", path)
    raw_times = dispatch.get("times", ["09:00", "14:00"])
    times = []
    if not isinstance(raw_times, list) or not raw_times:
        raise ConfigError(path, "dispatch.times", 'must be a list of times like ["09:00"]')
    for raw_time in raw_times:
        try:
            times.append(time.fromisoformat(raw_time))
        except (TypeError, ValueError):
            raise ConfigError(path, "dispatch.times", f"has {raw_time!r}, not a time") from None
    moderators = _table(data, "moderators", path).get("telegram_ids", [])
    if not isinstance(moderators, list) or not all(
        isinstance(m, int) and not isinstance(m, bool) for m in moderators
    ):
        raise ConfigError(path, "moderators.telegram_ids", "must be a list of Telegram ids")
    questions = _table(data, "questions", path)
    return QuestionsConfig(
        topics_file=topics_file,
        rules=tuple(rules),
        follow_ups=tuple(follow_ups),
        dispatch_times=tuple(sorted(set(times))),
        reminder_days_before=_int(dispatch, "reminder_days_before", path, "dispatch", 1, 0),
        reopen_days=_int(questions, "reopen_days", path, "questions", 14, 1),
        invite_days=_int(questions, "invite_days", path, "questions", 14, 1),
        moderators=tuple(moderators),
    )


def _default_database_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve().parent / 'burgerbeest.sqlite3'}"


def _http(data: dict[str, Any], path: Path, env: Mapping[str, str]) -> HttpConfig:
    http = _table(data, "http", path)
    webhook = _table(data, "webhook", path)
    listen = _string(http, "listen", path, "http", "127.0.0.1")
    port = http.get("port", 0)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError(path, "http.port", "must be a port number (0 for no HTTP server)")
    url = _string(webhook, "url", path, "webhook", "")
    webhook_path = _string(webhook, "path", path, "webhook", "/telegram")
    if not webhook_path.startswith("/"):
        raise ConfigError(path, "webhook.path", "must start with /")
    secret = env.get(WEBHOOK_SECRET_ENV) or _string(webhook, "secret_token", path, "webhook", "")
    if url:
        if not url.startswith(("https://", "http://")):
            raise ConfigError(path, "webhook.url", "must start with https://")
        if port == 0:
            raise ConfigError(path, "http.port", "must be set: the webhook is served on it")
        if not _WEBHOOK_SECRET_SHAPE.match(secret):
            raise ConfigError(
                path,
                "webhook.secret_token",
                f"is required in webhook mode (or set {WEBHOOK_SECRET_ENV}): 1-256 of "
                "A-Z a-z 0-9 _ -",
            )
    return HttpConfig(
        listen=listen, port=port, webhook_url=url, webhook_path=webhook_path, webhook_secret=secret
    )


def _moderation(data: dict[str, Any], path: Path) -> ModerationConfig:
    table = _table(data, "moderation", path)
    mode = _string(table, "mode", path, "moderation", ModerationConfig.mode)
    if mode not in ("pre", "post"):
        raise ConfigError(path, "moderation.mode", 'must be "pre" or "post"')
    hide = _int(table, "hide_after_reports", path, "moderation", 3, 1)
    return ModerationConfig(mode=mode, hide_after_reports=hide)


def _posts(data: dict[str, Any], path: Path) -> PostsConfig:
    table = _table(data, "posts", path)
    weekday = _string(table, "weekday", path, "posts", "friday").lower()
    if weekday not in WEEKDAYS:
        raise ConfigError(path, "posts.weekday", f"must be one of {', '.join(WEEKDAYS)}")
    raw_time = _string(table, "time", path, "posts", "10:00")
    try:
        at = time.fromisoformat(raw_time)
    except ValueError:
        problem = f'has {raw_time!r}, not a time like "10:00"'
        raise ConfigError(path, "posts.time", problem) from None
    per_week = _int(table, "per_week", path, "posts", PostsConfig.per_week, 1)
    if per_week > 4:
        # Four posts of 700 characters fill most of a Telegram message (4,096 characters).
        raise ConfigError(path, "posts.per_week", "must be at most 4")
    return PostsConfig(weekday=WEEKDAYS.index(weekday), at=at, per_week=per_week)


def _retention_days(data: dict[str, Any], path: Path) -> int:
    days = _table(data, "privacy", path).get("retention_days", 365)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ConfigError(path, "privacy.retention_days", "must be a whole number of days, >= 1")
    return days


def load_config(
    path: Path, *, environ: dict[str, str] | None = None, need_token: bool = True
) -> Config:
    """Read and validate the config file; `environ` defaults to the process environment.
    Commands that never talk to Telegram (migrate, import, export, …) pass `need_token=False`:
    a token that is there must still look right, but none is needed."""
    env = os.environ if environ is None else environ
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "does not exist") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"is not valid TOML: {exc}") from None

    telegram = _table(data, "telegram", path)
    token = env.get(TOKEN_ENV) or _string(telegram, "token", path, "telegram", "")
    if not token and need_token:
        raise ConfigError(path, "telegram.token", f"is missing (or set {TOKEN_ENV})")
    if token and not _TOKEN_SHAPE.match(token):
        raise ConfigError(path, "telegram.token", "does not look like a bot token from BotFather")
    api_base_url = _string(telegram, "api_base_url", path, "telegram", TELEGRAM_API)
    if not api_base_url.startswith(("http://", "https://")):
        raise ConfigError(path, "telegram.api_base_url", "must start with http:// or https://")
    rate_limit = telegram.get("rate_limit", True)
    if not isinstance(rate_limit, bool):
        raise ConfigError(path, "telegram.rate_limit", "must be true or false")

    database = _table(data, "database", path)
    database_url = _string(database, "url", path, "database", "") or _default_database_url(path)
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            path, "database.url", "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )

    municipality = _table(data, "municipality", path)
    name = _string(municipality, "name", path, "municipality", None)
    kernen = municipality.get("kernen")
    if (
        not isinstance(kernen, list)
        or not kernen
        or not all(isinstance(k, str) and k.strip() for k in kernen)
    ):
        raise ConfigError(path, "municipality.kernen", "must be a non-empty list of names")
    if len({k.strip().casefold() for k in kernen}) != len(kernen):
        raise ConfigError(path, "municipality.kernen", "contains a name twice")
    timezone = _string(municipality, "timezone", path, "municipality", "Europe/Amsterdam")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            path, "municipality.timezone", f"is not a known time zone: {timezone!r}"
        ) from None

    bot = _table(data, "bot", path)
    language = _string(bot, "default_language", path, "bot", "nl")
    if language not in LANGUAGES:
        raise ConfigError(path, "bot.default_language", f"must be one of {', '.join(LANGUAGES)}")
    log_level = _string(bot, "log_level", path, "bot", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(path, "bot.log_level", "must be DEBUG, INFO, WARNING or ERROR")

    broadcast = _table(data, "broadcast", path)
    rate = broadcast.get("rate", BroadcastConfig.rate)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 30:
        raise ConfigError(
            path, "broadcast.rate", "must be a number of messages per second above 0, at most 30"
        )
    lease_s = _int(broadcast, "lease_s", path, "broadcast", BroadcastConfig.lease_s, 10)

    return Config(
        path=path,
        telegram=TelegramConfig(token=token, api_base_url=api_base_url, rate_limit=rate_limit),
        database_url=database_url,
        municipality=MunicipalityConfig(
            name=name, kernen=tuple(k.strip() for k in kernen), timezone=timezone
        ),
        default_language=language,
        log_level=log_level,
        http=_http(data, path, env),
        retention_days=_retention_days(data, path),
        broadcast=BroadcastConfig(rate=float(rate), lease_s=lease_s),
        moderation=_moderation(data, path),
        posts=_posts(data, path),
        questions=_questions(data, path, tuple(k.strip() for k in kernen)),
    )
