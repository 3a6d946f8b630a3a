"""Assembling the PTB Application: defaults, database, persistence, handlers, command menus."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    Defaults,
    ExtBot,
)
from telegram.request import BaseRequest

from bot.config import Config
from bot.fitting import FittingBot
from bot.i18n import LANGUAGES, translator
from bot.metrics import Metrics
from bot.persistence import SharedStateApplication, SqlPersistence
from bot.request import RetryingRequest
from bot.services import Services
from bot.services.flood import FloodGuard
from bot.services.questions import anonymise_closed_before
from bot.services.vectors import embed_stored
from bot.web import WebSettings, start_web
from models import Role, User
from models.base import utcnow
from models.database import create_engine, create_sessionmaker

log = logging.getLogger(__name__)

# Initiatives stored by another process (an import, a second instance) reach the index this late.
INDEX_REFRESH_S = 60
# Retention runs daily; its first run a few minutes after start, out of the start's way.
RETENTION_INTERVAL_S = 24 * 60 * 60
RETENTION_FIRST_S = 5 * 60
# The weekly news is built once its configured moment has passed; looked for this often, so a
# restart or a late start still builds it, once (bot/services/posts.py). The dispatch job sends it.
NEWS_CHECK_S = 5 * 60
# Commands in the menu, in the order shown; each has a description key "command.<name>".
RESIDENT_COMMANDS = (
    "idee",
    "vraag",
    "wie",
    "zoek",
    "mijn",
    "volgen",
    "stil",
    "taal",
    "help",
    "privacy",
    "annuleer",
    "start",
)


class BotContext(CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], dict[str, Any]]):
    """The handler context, with typed access to what the application was built with."""

    @property
    def services(self) -> Services:
        return self.bot_data["services"]

    @property
    def config(self) -> Config:
        return self.bot_data["config"]


BotApplication = Application[
    ExtBot[None], BotContext, dict[str, Any], dict[str, Any], dict[str, Any], Any
]


# What civil servants and moderators see on top of the residents' menu, in their own chat only.
CIVIL_SERVANT_COMMANDS = ("vragen", "profiel", "afwezig", "wistjedat")
MODERATOR_COMMANDS = (
    "mededeling",
    "gepland",
    "triage",
    "uitnodiging",
    "stats",
    "wachtrij",
    "logboek",
    "status",
    "intrekken",
    "geleerd",
)


def command_menu(language: str, *extra: str) -> list[BotCommand]:
    t = translator(language)
    return [BotCommand(name, t(f"command.{name}")) for name in (*extra, *RESIDENT_COMMANDS)]


async def set_staff_menu(bot: ExtBot[None], services: Services, user: User) -> None:
    """The menu of one civil servant or moderator, scoped to their chat; residents keep the
    default, and a former one's scoped menu goes. A chat Telegram does not know yet (a
    configured moderator who never pressed Start) is skipped: the menu follows at their first
    /aanmelden or the next start."""
    extra: tuple[str, ...] = ()
    if user.role is Role.CIVIL_SERVANT:
        extra = CIVIL_SERVANT_COMMANDS
    if services.civil_servants.is_moderator(user):
        extra = (*MODERATOR_COMMANDS, *extra)
    scope = BotCommandScopeChat(user.telegram_id)
    try:
        if extra:
            await bot.set_my_commands(command_menu(user.language or "nl", *extra), scope=scope)
        else:  # no role (any more): the residents' menu, which needs no scope of its own
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:
        log.info("no staff menu for %s: %s", user.telegram_id, exc)


async def _on_start(application: BotApplication) -> None:
    """Before the first update: the match index from the database, initiatives' topics, the
    command menus."""
    matching = application.bot_data["services"].matching
    await matching.renormalize_if_rules_changed()
    await embed_stored(application.bot_data["sessions"])
    await matching.load_index()
    # Initiatives from before topics (or from another taxonomy) get one: once, not every start.
    await application.bot_data["services"].initiatives.classify_unclassified()
    # Routing's embedded prototypes (cached between starts) and what it learned from people.
    await application.bot_data["services"].questions.examples.prepare()
    _start_http(application)
    try:
        await _set_menus(application)
    except TelegramError as exc:
        # The menus are a convenience: a Bot API (stand-in) without setMyCommands, or a passing
        # failure, must not keep the bot from starting; every command works without them.
        log.warning("command menus not set: %s", exc)


async def _set_menus(application: BotApplication) -> None:
    # The menu without a language is the default language's, for clients in any other language.
    default = application.bot_data["config"].default_language
    await application.bot.set_my_commands(command_menu(default))
    for language in LANGUAGES:
        await application.bot.set_my_commands(command_menu(language), language_code=language)
    services: Services = application.bot_data["services"]
    for user in await services.users.staff():
        await set_staff_menu(application.bot, services, user)


def _start_http(application: BotApplication) -> None:
    """/healthz and /metrics, and the webhook endpoint in webhook mode, when a port is set."""
    http = application.bot_data["config"].http
    if not http.port:
        return
    settings = WebSettings(
        listen=http.listen,
        port=http.port,
        webhook_path=http.webhook_path if http.webhook_url else None,
        secret_token=http.webhook_secret or None,
    )
    application.bot_data["http"] = start_web(application, settings)


async def _refresh_index(context: BotContext) -> None:
    await context.services.matching.load_index()
    # Routing examples too: another instance's, the CLI's, and erasures reach this process.
    await context.services.questions.examples.load()


async def _apply_retention(context: BotContext) -> None:
    cutoff = utcnow() - timedelta(days=context.config.retention_days)
    anonymised = await anonymise_closed_before(context.bot_data["sessions"], cutoff)
    if anonymised:
        log.info("retention: %s closed questions anonymised", anonymised)


async def _build_news(context: BotContext) -> None:
    await context.services.posts.build_news()


async def _on_shutdown(application: BotApplication) -> None:
    """After the last update: stop serving HTTP, close the database connections."""
    server = application.bot_data.pop("http", None)
    if server is not None:
        server.stop()
    engine: AsyncEngine = application.bot_data["engine"]
    await engine.dispose()


def build_application(
    config: Config,
    *,
    request: BaseRequest | None = None,
    engine: AsyncEngine | None = None,
) -> BotApplication:
    """The bot, ready for `initialize()`/`start()` or `run_polling()`.

    `request` replaces the HTTP layer (tests record calls with it); `engine` lets a caller share
    one database engine, which the application then disposes of on shutdown.
    """
    from handlers import register

    engine = engine or create_engine(config.database_url)
    sessions = create_sessionmaker(engine)
    metrics = Metrics()
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        tzinfo=config.municipality.tz,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    # Built here, not by the builder, so that every call passes through FittingBot: no text
    # leaves the bot longer than Telegram accepts (bot/fitting.py).
    bot = FittingBot(
        token=config.telegram.token,
        base_url=config.telegram.base_url,
        base_file_url=config.telegram.base_file_url,
        defaults=defaults,
        request=request or RetryingRequest(),
        get_updates_request=request,
        rate_limiter=AIORateLimiter(max_retries=3) if config.telegram.rate_limit else None,
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext))
        .persistence(SqlPersistence(sessions, failures=metrics.state_write_failures))
        .post_init(_on_start)
        .post_shutdown(_on_shutdown)
        # Conversations need their updates one after another, per the design notes.
        .concurrent_updates(False)
    )
    if config.http.webhook_url:
        # Only webhook mode can have several instances (Telegram serves one poller): there each
        # update reloads its resident's conversation state from the database first.
        builder = builder.application_class(SharedStateApplication)
    application: BotApplication = builder.build()  # type: ignore[assignment]
    application.bot_data.update(
        config=config,
        engine=engine,
        sessions=sessions,
        services=Services.create(sessions, config),
        flood=FloodGuard(),
        metrics=metrics,
    )
    register(application)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _refresh_index,
            interval=INDEX_REFRESH_S,
            first=INDEX_REFRESH_S,
            name="match-index-refresh",
            job_kwargs={"misfire_grace_time": INDEX_REFRESH_S, "coalesce": True},
        )
        application.job_queue.run_repeating(
            _apply_retention,
            interval=RETENTION_INTERVAL_S,
            first=RETENTION_FIRST_S,
            name="retention",
            # Missed while the bot was down: run once when it is back, not once per missed day.
            job_kwargs={"misfire_grace_time": RETENTION_INTERVAL_S, "coalesce": True},
        )
        application.job_queue.run_repeating(
            _build_news,
            interval=NEWS_CHECK_S,
            first=NEWS_CHECK_S,
            name="weekly-news",
            job_kwargs={"misfire_grace_time": NEWS_CHECK_S, "coalesce": True, "max_instances": 1},
        )
    return application
