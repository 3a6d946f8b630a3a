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
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from time import monotonic
from typing import Any

from sqlalchemy import text
from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.log import access_log
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.metrics import CONTENT_TYPE
from handlers.persistence import SqlPersistence

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY = 1 << 20  # an update is a few KiB; anything near this is not from Telegram
LOG_INTERVAL_S = 60.0  # refused calls of one kind: at most one log line this often


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


class Throttled:
    """Log lines of one kind at most once per `interval_s`; the next line says how many were
    left out. Anyone can call the webhook: their calls must not flood the log."""

    def __init__(self, logger: logging.Logger, interval_s: float = LOG_INTERVAL_S) -> None:
        self._log = logger
        self._interval_s = interval_s
        self._next: dict[str, float] = {}
        self._left_out: dict[str, int] = {}

    def warning(self, kind: str, message: str, *args: object) -> None:
        now = monotonic()
        if now < self._next.get(kind, now):
            self._left_out[kind] = self._left_out.get(kind, 0) + 1
            return
        self._next[kind] = now + self._interval_s
        left_out = self._left_out.pop(kind, 0)
        if left_out:
            message += f" ({left_out} more like it since the last such line)"
        self._log.warning(message, *args)


class WebhookHandler(_Base):
    def initialize(  # type: ignore[override]
        self, bot_app: object, web_settings: WebSettings, throttled: Throttled
    ) -> None:
        super().initialize(bot_app, web_settings)
        self.throttled = throttled
        self.refusal_logged = False  # a refusal this handler logged: the access log leaves it out

    async def post(self) -> None:
        expected = self.web_settings.secret_token or ""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            self._refuse(403, "secret", "webhook call without the right secret token from %s")
            return
        if len(self.request.body) > MAX_BODY:
            self._refuse(413, "size", "webhook body too large from %s")
            return
        update = self._update()
        if update is None:
            self._refuse(400, "body", "webhook body from %s is not an update")
            return
        await self.bot_app.update_queue.put(update)
        self.set_status(200)
        self.finish()

    def _update(self) -> Update | None:
        """The update in the body, or None for anything else: bytes that are not JSON, JSON
        nested too deep, an object that is not an update, a date out of range."""
        try:
            payload = json.loads(self.request.body)
            if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
                return None
            return Update.de_json(payload, self.bot_app.bot)
        except Exception:  # whatever the body makes PTB or json raise, it is not an update
            return None

    def _refuse(self, status: int, kind: str, message: str) -> None:
        self.throttled.warning(kind, message, self.request.remote_ip)
        self.refusal_logged = True
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(f"{status} {HTTPStatus(status).phrase}\n")


def _access_log(throttled: Throttled) -> Callable[[RequestHandler], None]:
    """Tornado's access log, but for refusals: the webhook logged those itself, and other
    4xx (scans of random paths) are throttled like them."""

    def log_request(handler: RequestHandler) -> None:
        status = handler.get_status()
        request = handler.request
        summary = f"{status} {request.method} {request.path} ({request.remote_ip})"
        if isinstance(handler, WebhookHandler) and handler.refusal_logged:
            return
        if status < 400:
            access_log.info("%s %.2fms", summary, 1000 * request.request_time())
        elif status < 500:
            throttled.warning(f"http {status}", "%s", summary)
        else:
            access_log.error("%s %.2fms", summary, 1000 * request.request_time())

    return log_request


def make_web_app(application: object, settings: WebSettings) -> WebApplication:
    arguments = {"bot_app": application, "web_settings": settings}
    throttled = Throttled(log)
    routes: list[Any] = [
        (r"/healthz", HealthHandler, arguments),
        (r"/metrics", MetricsHandler, arguments),
    ]
    if settings.webhook_path:
        routes.append(
            (settings.webhook_path, WebhookHandler, {**arguments, "throttled": throttled})
        )
    return WebApplication(routes, log_function=_access_log(throttled))


def start_web(application: object, settings: WebSettings) -> HTTPServer:
    """Listen on the current event loop; returns the server, to `stop()` on shutdown."""
    server = HTTPServer(make_web_app(application, settings), max_body_size=MAX_BODY)
    server.listen(settings.port, address=settings.listen)
    log.info("HTTP on %s:%s (webhook: %s)", settings.listen, settings.port, settings.webhook_path)
    return server


async def run_webhook(application: Any, url: str, secret_token: str) -> None:
    """Webhook mode, until SIGINT or SIGTERM: register the webhook with Telegram and handle
    what it posts (the endpoint itself is started with the application, see handlers/app.py).

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
