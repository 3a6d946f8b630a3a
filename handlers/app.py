"""Assembling the PTB Application: defaults, database, persistence, handlers, menus, jobs."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot.config import Config
from bot.metrics import Metrics
from bot.services import Services
from bot.services.flood import FloodGuard
from bot.services.vectors import embed_stored
from handlers import register
from handlers.context import BotApplication, BotContext
from handlers.fitting import FittingBot
from handlers.jobs import schedule_jobs
from handlers.menus import set_menus
from handlers.persistence import SharedStateApplication, SqlPersistence
from handlers.request import RetryingRequest
from handlers.web import WebSettings, start_web
from models.database import create_engine, create_sessionmaker

log = logging.getLogger(__name__)


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
        await set_menus(application)
    except TelegramError as exc:
        # The menus are a convenience: a Bot API (stand-in) without setMyCommands, or a passing
        # failure, must not keep the bot from starting; every command works without them.
        log.warning("command menus not set: %s", exc)


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
    engine = engine or create_engine(config.database_url)
    sessions = create_sessionmaker(engine)
    metrics = Metrics()
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        tzinfo=config.municipality.tz,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    # Built here, not by the builder, so that every call passes through FittingBot: no text
    # leaves the bot longer than Telegram accepts (handlers/fitting.py).
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
        schedule_jobs(application.job_queue)
    return application
