"""Configuration: a TOML file read once at start, the token from the environment.

Every setting is a row of the field table in bot/config_fields.py, which reads and checks it;
here the values become typed config, and settings that depend on each other are checked. Every
problem ends in one `ConfigError` that names the file and the key, so the CLI can print one
clear line and exit 2. The token is never part of an error message or a repr.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config_fields import (
    LANGUAGES,
    TELEGRAM_API,
    TOKEN_ENV,
    WEBHOOK_SECRET_ENV,
    WEEKDAYS,
    FieldError,
    read,
    resolve_path,
)
from bot.routing.keys import within

__all__ = [
    "LANGUAGES",
    "TELEGRAM_API",
    "TOKEN_ENV",
    "WEBHOOK_SECRET_ENV",
    "ConfigError",
    "load_config",
]

# Telegram allows 1-256 of these characters in a webhook's secret token.
_WEBHOOK_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


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
        return within(topic_key, self.topic) and (self.kern is None or self.kern == kern)


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
        return [f for f in self.follow_ups if within(topic_key, f.topic)]


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


@dataclass(frozen=True)
class PostsConfig:
    """The weekly news for followers: "Wist je dat…" posts and status changes of initiatives,
    built at this local weekday (0 = Monday) and time; at most `per_week` posts a resident."""

    weekday: int = 4
    at: time = time(10, 0)
    per_week: int = 3


@dataclass(frozen=True)
class AboutConfig:
    """Who runs this Burgerbeest, told to residents in /start, /privacy and /over."""

    controller: str = ""
    contact: str = ""
    platform_name: str = ""
    platform_url: str = ""


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
    about: AboutConfig = field(default_factory=AboutConfig)


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
    try:
        values = read(data, env, required=frozenset({"telegram.token"} if need_token else ()))
    except FieldError as exc:
        raise ConfigError(path, exc.where, exc.problem) from None

    kernen: tuple[str, ...] = values["municipality.kernen"]
    return Config(
        path=path,
        telegram=TelegramConfig(
            token=values["telegram.token"],
            api_base_url=values["telegram.api_base_url"],
            rate_limit=values["telegram.rate_limit"],
        ),
        database_url=values["database.url"] or _default_database_url(path),
        municipality=MunicipalityConfig(
            name=values["municipality.name"],
            kernen=kernen,
            timezone=values["municipality.timezone"],
        ),
        default_language=values["bot.default_language"],
        log_level=values["bot.log_level"],
        http=_http(values, path),
        retention_days=values["privacy.retention_days"],
        about=AboutConfig(
            controller=values["privacy.controller"],
            contact=values["privacy.contact"],
            platform_name=values["municipality.platform_name"],
            platform_url=values["municipality.platform_url"],
        ),
        broadcast=BroadcastConfig(
            rate=values["broadcast.rate"], lease_s=values["broadcast.lease_s"]
        ),
        moderation=ModerationConfig(
            mode=values["moderation.mode"],
            hide_after_reports=values["moderation.hide_after_reports"],
        ),
        posts=PostsConfig(
            weekday=WEEKDAYS.index(values["posts.weekday"]),
            at=values["posts.time"],
            per_week=values["posts.per_week"],
        ),
        questions=_questions(values, path, kernen),
    )


def _default_database_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve().parent / 'burgerbeest.sqlite3'}"


def _http(values: dict[str, Any], path: Path) -> HttpConfig:
    """Webhook mode joins three settings: a URL, a port to serve it on, and a secret."""
    port, url = values["http.port"], values["webhook.url"]
    secret = values["webhook.secret_token"]
    if url:
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
        listen=values["http.listen"],
        port=port,
        webhook_url=url,
        webhook_path=values["webhook.path"],
        webhook_secret=secret,
    )


def _questions(values: dict[str, Any], path: Path, kernen: tuple[str, ...]) -> QuestionsConfig:
    """Routing rules and follow-ups are lists of tables: each table's keys are checked here."""
    topics_file: Path | None = None
    if values["routing.topics_file"]:
        topics_file = resolve_path(path, values["routing.topics_file"])
        if not topics_file.is_file():
            raise ConfigError(path, "routing.topics_file", f"does not exist: {topics_file}")
    rules = []
    for number, raw in enumerate(values["routing.rules"], 1):
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
    for number, raw in enumerate(values["follow_ups"], 1):
        where = f"follow_ups #{number}"
        texts = {lang: raw.get(lang) for lang in LANGUAGES}
        if not isinstance(raw.get("topic"), str) or not isinstance(raw.get("key"), str):
            raise ConfigError(path, where, "needs topic and key")
        if not all(isinstance(t, str) and t.strip() for t in texts.values()):
            raise ConfigError(path, where, "needs the question in nl and en")
        follow_ups.append(
            FollowUp(raw["topic"], raw["key"], {k: str(v).strip() for k, v in texts.items()})
        )
    return QuestionsConfig(
        topics_file=topics_file,
        rules=tuple(rules),
        follow_ups=tuple(follow_ups),
        dispatch_times=values["dispatch.times"],
        reminder_days_before=values["dispatch.reminder_days_before"],
        reopen_days=values["questions.reopen_days"],
        invite_days=values["questions.invite_days"],
        moderators=values["moderators.telegram_ids"],
    )
