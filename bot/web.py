"""The bot's HTTP side: Telegram's webhook (behind a reverse proxy), /healthz and /metrics.

Served by tornado (already there for PTB's webhooks) on the bot's own event loop. The webhook
checks Telegram's secret-token header in constant time and queues the update for the
Application, which handles it like a polled one.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.metrics import CONTENT_TYPE
from bot.persistence import SqlPersistence

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY = 1 << 20  # an update is a few KiB; anything near this is not from Telegram


@dataclass(frozen=True)
class WebSettings:
    listen: str
    port: int
    webhook_path: str | None = None  # None: no webhook route (polling mode)
    secret_token: str | None = None


class _Base(RequestHandler):
    def initialize(self, bot_app: object, web_settings: WebSettings) -> None:  # type: ignore[override]
        self.bot_app = bot_app
        self.web_settings = web_settings


class HealthHandler(_Base):
    async def get(self) -> None:
        """200 when the database answers, conversation state is written and the scheduler
        runs; 503 with the reason if not."""
        report: dict[str, str] = {}
        healthy = True
        try:
            async with self.bot_app.bot_data["engine"].connect() as connection:
                await connection.execute(text("SELECT 1"))
            report["database"] = "ok"
        except Exception as exc:  # any failure to answer is "unhealthy", whatever its kind
            report["database"] = f"error: {type(exc).__name__}"
            healthy = False
        # Failing from a failed write of conversation state until the next write succeeds.
        persistence = self.bot_app.persistence
        failing = isinstance(persistence, SqlPersistence) and persistence.writes_failing
        report["state_writes"] = "failing" if failing else "ok"
        healthy = healthy and not failing
        job_queue = self.bot_app.job_queue
        running = job_queue is not None and job_queue.scheduler.running
        report["scheduler"] = "running" if running else "stopped"
        healthy = healthy and running
        self.set_status(200 if healthy else 503)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": "ok" if healthy else "unhealthy", **report}))


class MetricsHandler(_Base):
    async def get(self) -> None:
        body = await self.bot_app.bot_data["metrics"].render(self.bot_app.bot_data["sessions"])
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(body)


class WebhookHandler(_Base):
    async def post(self) -> None:
        expected = self.web_settings.secret_token or ""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning(
                "webhook call without the right secret token from %s", self.request.remote_ip
            )
            self.send_error(403)
            return
        if len(self.request.body) > MAX_BODY:
            self.send_error(413)
            return
        try:
            payload = json.loads(self.request.body)
            update = Update.de_json(payload, self.bot_app.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("webhook body is not an update")
            self.send_error(400)
            return
        await self.bot_app.update_queue.put(update)
        self.set_status(200)
        self.finish()


def make_web_app(application: object, settings: WebSettings) -> WebApplication:
    arguments = {"bot_app": application, "web_settings": settings}
    routes = [
        (r"/healthz", HealthHandler, arguments),
        (r"/metrics", MetricsHandler, arguments),
    ]
    if settings.webhook_path:
        routes.append((settings.webhook_path, WebhookHandler, arguments))
    return WebApplication(routes)


def start_web(application: object, settings: WebSettings) -> HTTPServer:
    """Listen on the current event loop; returns the server, to `stop()` on shutdown."""
    server = HTTPServer(make_web_app(application, settings), max_body_size=MAX_BODY)
    server.listen(settings.port, address=settings.listen)
    log.info("HTTP on %s:%s (webhook: %s)", settings.listen, settings.port, settings.webhook_path)
    return server


async def run_webhook(application: Any, url: str, secret_token: str) -> None:
    """Webhook mode, until SIGINT or SIGTERM: register the webhook with Telegram and handle
    what it posts (the endpoint itself is started with the application, see bot/app.py).

    The webhook is left registered on stop: another instance behind the same proxy may still
    be serving it, and Telegram keeps updates while none is.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.bot.set_webhook(
            url, secret_token=secret_token, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        log.info("webhook mode: Telegram posts to %s", url)
        await stop.wait()
        await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
