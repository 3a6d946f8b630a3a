"""A local stand-in of the Telegram Bot API, over real HTTP, for end-to-end and fault tests.

The bot process talks to it exactly as to api.telegram.org (`[telegram] api_base_url`); the test
enqueues updates, waits for the calls the bot makes, and injects Telegram's failures. The server
runs in a background thread, so sync code and asyncio tests can use it without blocking a loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import unquote, urlsplit

from testing.fake_telegram.calls import SEND_METHODS, Call
from testing.fake_telegram.methods import BotApiError, BotApiMethods
from testing.fake_telegram.params import BadRequestBody, DecodedRequest, decode_request
from testing.fake_telegram.updates import BOT_USER, UpdateFactory

log = logging.getLogger(__name__)

JSON = dict[str, Any]
Predicate = Callable[[Call], bool]

# The bot id is the part of a token before the colon; this one matches updates.BOT_USER.
DEFAULT_TOKEN = f"{BOT_USER['id']}:TEST-fake-telegram-token"

_METHOD_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")
_FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
# Methods a blocked user's chat still answers (everything else with that chat_id gets 403).
_NOT_BLOCKED = frozenset({"getChat", "getFile", "answerCallbackQuery"})

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Rule:
    """Which calls a fault, delay or disconnect applies to, and how many more times."""

    method: str | None
    chat_id: int | None
    times: int | None  # None: until cleared

    def applies(self, method: str, chat_id: object) -> bool:
        if self.method is None:
            # "Any method" means the bot's actions; failing its long poll needs saying so.
            if method == "getUpdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id


_R = TypeVar("_R", bound=_Rule)


class _ClientGone(Exception):
    """The bot closed the connection while its request was still being handled."""


@dataclass
class _Fault(_Rule):
    error: BotApiError


@dataclass
class _Delay(_Rule):
    seconds: float


@dataclass
class _Drop(_Rule):
    processed: bool


class FakeBotApi:
    """The Bot API on 127.0.0.1, recording every call and answering like Telegram.

    `strict` (default) makes it refuse what Telegram refuses: sending to a chat it has never seen
    an update from, editing or deleting unknown messages, "message is not modified", answering an
    unknown callback query. Restart-safe: `stop()` then `start()` keeps the port and all state,
    which simulates an outage of Telegram.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot: JSON | None = None,
        strict: bool = True,
    ) -> None:
        self.token = token
        self.host = host
        self._port = port
        bot_id, _, _ = token.partition(":")
        self.bot_user: JSON = dict(bot or BOT_USER)
        if bot is None and bot_id.isdigit():
            self.bot_user["id"] = int(bot_id)
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._claimed: set[int] = set()
        self._updates: list[JSON] = []
        self._confirmed = 0  # the highest offset the bot has confirmed with getUpdates
        self._poll_generation = 0
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._drops: list[_Drop] = []
        self._blocked: set[int] = set()
        # Per handler thread: a check whether the bot closed the connection of this request.
        self._connection = threading.local()
        self._methods = BotApiMethods(self.bot_user, self._cond, strict=strict)
        self._methods.register("getUpdates", self._get_updates)
        self._methods.register("deleteWebhook", self._delete_webhook)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        # Message ids come from the server, so user and bot messages share one sequence per chat.
        self.updates = UpdateFactory(bot=self.bot_user, next_message_id=self._methods.next_id)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("FakeBotApi not started: the port is picked on start()")
        return self._port

    @property
    def base_url(self) -> str:
        """E.g. http://127.0.0.1:PORT; PTB's base_url is this plus "/bot"."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HttpServer((self.host, self._port), self)
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-bot-api:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (the bot then gets connection errors); pending long polls return."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        where = self.base_url if self._port else "not started"
        return f"<FakeBotApi {where} calls={len(self._calls)} pending={len(self._updates)}>"

    # --- updates ---------------------------------------------------------------------------

    def enqueue(self, *updates: JSON) -> None:
        """Queue updates for the bot's next getUpdates (a waiting long poll returns at once)."""
        with self._cond:
            pending = {u["update_id"] for u in self._updates}
            for update in updates:
                update_id = update.get("update_id")
                if not isinstance(update_id, int):
                    raise ValueError(f"an update needs an integer update_id: {update!r}")
                if update_id < self._confirmed or update_id in pending:
                    # PTB confirms with offset = last id + 1: a stale or repeated id would be
                    # lost or handled twice, which Telegram never does.
                    raise ValueError(
                        f"update_id {update_id} is already pending or below the offset "
                        f"{self._confirmed} the bot confirmed; build updates with api.updates "
                        "(or one UpdateFactory per server)"
                    )
                pending.add(update_id)
                self._methods.learn(update)
                # A copy: the test may reuse its dict, the bot must see what was enqueued.
                self._updates.append(json.loads(json.dumps(update)))
            self._updates.sort(key=lambda u: u["update_id"])
            self._cond.notify_all()

    def pending(self) -> list[JSON]:
        """Updates not yet confirmed by the bot (delivered or not)."""
        with self._cond:
            return list(self._updates)

    def add_chat(self, user_or_chat: JSON) -> None:
        """Let the bot send to a chat without an update from it first (strict mode)."""
        with self._cond:
            self._methods.add_chat(user_or_chat)

    def _get_updates(self, params: JSON, _files: object) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._methods.webhook_url:
                raise BotApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._confirm(offset)
            # Like Telegram, a newer long poll ends the older one with 409 Conflict.
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            while True:
                # A poll whose bot hung up (shutdown, kill -9) ends quietly, not with a 409.
                if self._client_gone():
                    raise _ClientGone
                if generation != self._poll_generation:
                    raise BotApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                remaining = deadline - time.monotonic()
                if self._updates or remaining <= 0 or self._stopping.is_set():
                    return [json.loads(json.dumps(u)) for u in self._updates[:limit]]
                self._cond.wait(min(remaining, 0.1))

    def _client_gone(self) -> bool:
        check: Callable[[], bool] | None = getattr(self._connection, "gone", None)
        return check is not None and check()

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed = max(self._confirmed, offset)
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _delete_webhook(self, params: JSON, _files: object) -> bool:
        with self._cond:
            self._methods.webhook_url = ""
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    # --- what the bot did ------------------------------------------------------------------

    def calls(self, method: str | None = None, chat_id: int | str | None = None) -> list[Call]:
        """Every recorded call (failed ones too), oldest first."""
        with self._cond:
            return [
                c
                for c in self._calls
                if (method is None or c.method.lower() == method.lower())
                and (chat_id is None or c.chat_id == chat_id)
            ]

    def sent_texts(self, chat_id: int | str, *, plain: bool = False) -> list[str]:
        """Texts and captions the bot sent to the chat successfully.

        As the bot sent them (HTML included), or with `plain=True` as the user reads them.
        """
        sent = [c for c in self.calls(chat_id=chat_id) if c.method in SEND_METHODS and c.ok]
        return [c.plain_text if plain else c.text for c in sent]

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """The bot's message as the user now sees it (after edits), or None if deleted/unknown."""
        with self._cond:
            return self._methods.message(chat_id, message_id)

    def chat_messages(self, chat_id: int) -> list[JSON]:
        """The bot's messages in the chat as they now stand, oldest first."""
        with self._cond:
            return self._methods.chat_messages(chat_id)

    def uploaded(self, file_id: str) -> bytes | None:
        """What the bot uploaded as this file (a photo, a document), or None for a file_id the
        stand-in never received the bytes of."""
        with self._cond:
            return self._methods.uploaded(file_id)

    def mark(self) -> int:
        """A position in the call log: pass it as `since=` to only wait for later calls."""
        with self._cond:
            return len(self._calls)

    async def wait_for(
        self,
        method: str | None,
        predicate: Predicate | None = None,
        # A deadline parameter, not asyncio.timeout: the error lists what did arrive instead.
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        chat_id: int | str | None = None,
        ok: bool | None = None,
        since: int | None = None,
    ) -> Call:
        """The oldest matching call that no earlier wait_for returned, waiting up to `timeout`.

        Each call is handed out once, so successive waits read the bot's calls in order like a
        chat. `method=None` matches any method except getUpdates; `ok` filters on success.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                found = self._claim(method, predicate, chat_id, ok, since)
                if found is not None:
                    return found
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        self._waited_in_vain(method, predicate, chat_id, ok, since, timeout)
                    )
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        method: str | None,
        predicate: Predicate | None = None,
        timeout: float = 10.0,
        *,
        chat_id: int | str | None = None,
        ok: bool | None = None,
        since: int | None = None,
    ) -> Call:
        """`wait_for` for synchronous code (never call it on an event loop's thread)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._claim(method, predicate, chat_id, ok, since)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        self._waited_in_vain(method, predicate, chat_id, ok, since, timeout)
                    )
                self._cond.wait(remaining)

    def _claim(
        self,
        method: str | None,
        predicate: Predicate | None,
        chat_id: int | str | None,
        ok: bool | None,
        since: int | None,
    ) -> Call | None:
        for call in self._calls[since or 0 :]:
            if call.seq in self._claimed or not self._matches(call, method, chat_id, ok):
                continue
            if predicate is None or predicate(call):
                self._claimed.add(call.seq)
                return call
        return None

    @staticmethod
    def _matches(call: Call, method: str | None, chat_id: object, ok: bool | None) -> bool:
        if method is None:
            if call.method == "getUpdates":
                return False
        elif call.method.lower() != method.lower():
            return False
        return (chat_id is None or call.chat_id == chat_id) and (ok is None or call.ok == ok)

    def _waited_in_vain(
        self,
        method: str | None,
        predicate: Predicate | None,
        chat_id: object,
        ok: bool | None,
        since: int | None,
        timeout: float,
    ) -> str:
        wanted = f"{method or 'any'} call"
        if chat_id is not None:
            wanted += f" to chat {chat_id}"
        if ok is not None:
            wanted += " that succeeded" if ok else " that failed"
        if predicate is not None:
            wanted += f" matching {getattr(predicate, '__name__', 'the predicate')}"
        candidates = [c for c in self._calls[since or 0 :] if self._matches(c, method, chat_id, ok)]
        claimed = sum(1 for c in candidates if c.seq in self._claimed)
        polls = sum(1 for c in self._calls if c.method == "getUpdates")
        recent = [c.describe() for c in self._calls if c.method != "getUpdates"][-15:]
        lines = [f"no {wanted} arrived within {timeout:g}s."]
        if claimed:
            lines.append(f"{claimed} such call(s) were already returned by earlier waits.")
        if predicate is not None and len(candidates) > claimed:
            lines.append(f"{len(candidates) - claimed} such call(s) failed the predicate.")
        lines.append(f"Recent calls, newest last ({polls} getUpdates not shown):")
        lines.extend(f"  {line}" for line in recent or ["(none)"])
        if self._updates:
            lines.append(f"{len(self._updates)} update(s) still unconfirmed by the bot.")
        return "\n".join(lines)

    # --- faults ----------------------------------------------------------------------------

    def inject(
        self,
        method: str | None,
        *,
        chat_id: int | None = None,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        """The next `times` matching calls fail with this Bot API error (None: until cleared).

        `method=None` matches any method but getUpdates. The description defaults to Telegram's
        wording for the code, e.g. "Too Many Requests: retry after 3" for 429 with retry_after.
        """
        _check_times(times)
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after or 1}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, "Error")
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        error = BotApiError(error_code, description, parameters)
        with self._cond:
            self._faults.append(_Fault(method, chat_id, times, error))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every call into their chat fails with 403 from now on."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(chat_id)

    def delay(
        self,
        method: str | None,
        seconds: float,
        times: int | None = 1,
        *,
        chat_id: int | None = None,
    ) -> None:
        """Hold matching calls for `seconds` before handling them.

        The call is still carried out after the wait, as on Telegram: a bot whose read timeout
        is shorter sees TimedOut although the message was sent, and a retry sends it twice.
        """
        _check_times(times)
        with self._cond:
            self._delays.append(_Delay(method, chat_id, times, seconds))

    def disconnect(
        self,
        method: str | None,
        *,
        chat_id: int | None = None,
        times: int | None = 1,
        processed: bool = False,
    ) -> None:
        """Close the connection instead of answering (PTB raises NetworkError).

        `processed=True` carries the call out first: the message exists but the answer is lost.
        """
        _check_times(times)
        with self._cond:
            self._drops.append(_Drop(method, chat_id, times, processed))

    def clear_faults(self) -> None:
        """Forget injected errors, delays, disconnects and blocks."""
        with self._cond:
            self._faults.clear()
            self._delays.clear()
            self._drops.clear()
            self._blocked.clear()

    def on(self, method: str, handler: Callable[[JSON], Any]) -> None:
        """Answer `method` with `handler(params)` (raise BotApiError for an error)."""
        self._methods.register(method, lambda params, _files: handler(params))

    def _take(self, rules: list[_R], method: str, chat_id: object) -> _R | None:
        with self._cond:
            for rule in rules:
                if rule.applies(method, chat_id):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            rules.remove(rule)
                    return rule
        return None

    # --- serving ---------------------------------------------------------------------------

    def _serve(
        self, path: str, query: str, content_type: str | None, body: bytes
    ) -> tuple[int, bytes, str] | None:
        """Status, body and content type of the answer; None to drop the connection."""
        route = _METHOD_PATH.match(path)
        if route is not None:
            call = self._call(route["token"], route["method"], content_type, body, query)
            if call.dropped or call.abandoned:
                return None
            return call.status, _dump(call.response), "application/json"
        route = _FILE_PATH.match(path)
        if route is not None and route["token"] == self.token:
            with self._cond:
                content = self._methods.file_content(route["path"])
            if content is not None:
                return 200, content, "application/octet-stream"
        status = 401 if route is not None else 404
        error = BotApiError(status, _DEFAULT_DESCRIPTIONS[status])
        return status, _dump(error.response()), "application/json"

    def _call(
        self, token: str, method: str, content_type: str | None, body: bytes, query: str
    ) -> Call:
        arrived, started = time.time(), time.monotonic()
        name = self._methods.canonical(method) or method
        try:
            decoded = decode_request(content_type, body, query)
        except BadRequestBody as exc:
            decoded = DecodedRequest({}, {})
            failure: BotApiError | None = BotApiError(400, f"Bad Request: {exc}")
        else:
            failure = None
        call = Call(-1, name, decoded.params, decoded.files, arrived, started)
        try:
            if token != self.token:
                raise BotApiError(401, "Unauthorized")
            if failure is not None:
                raise failure
            call.response = {"ok": True, "result": self._carry_out(call)}
        except BotApiError as error:
            call.status = error.code
            call.response = error.response()
        except _ClientGone:
            call.abandoned = True
        except Exception as exc:  # a bug in the fake must show in the test, not hang it
            log.exception("fake Bot API failed on %s", name)
            call.status = 500
            call.response = BotApiError(500, f"Internal Server Error: {exc!r}").response()
        call.duration = time.monotonic() - started
        with self._cond:
            call.seq = len(self._calls)
            self._calls.append(call)
            self._cond.notify_all()
        return call

    def _carry_out(self, call: Call) -> Any:
        handler = self._methods.handler(call.method)
        if handler is None:
            raise BotApiError(404, "Not Found: method not found")
        chat_id = call.chat_id
        delay = self._take(self._delays, call.method, chat_id)
        if delay is not None:
            self._stopping.wait(delay.seconds)
        drop = self._take(self._drops, call.method, chat_id)
        if drop is not None and not drop.processed:
            call.dropped = True
            return None
        fault = self._take(self._faults, call.method, chat_id)
        if fault is not None:
            raise fault.error
        with self._cond:
            blocked = chat_id in self._blocked and call.method not in _NOT_BLOCKED
        if blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        result = handler(call.params, call.files)
        call.dropped = drop is not None
        return result


def _check_times(times: int | None) -> None:
    if times is not None and times < 1:
        raise ValueError(f"times must be at least 1, or None for always; got {times}")


def _dump(payload: JSON) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: FakeBotApi) -> None:
        self.api = api
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # A bot killed mid-request (kill -9) is part of the tests, not a server error.
        log.debug("connection from %s ended abruptly", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    # HTTP/1.0: one request per connection, so stop() really cuts the bot off.
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        self.server.api._connection.gone = self._client_gone
        # httpx percent-encodes the token's colon in file download URLs.
        reply = self.server.api._serve(
            unquote(url.path), url.query, self.headers.get("Content-Type"), self._body()
        )
        if reply is None:
            self.close_connection = True
            return
        status, payload, content_type = reply
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            log.debug("the bot hung up before the answer to %s", url.path)

    def _client_gone(self) -> bool:
        # One request per connection: anything readable now is the bot closing its end.
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
