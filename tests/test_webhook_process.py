"""Webhook mode as its own process: registered with Telegram, secret checked, updates handled,
/healthz and /metrics served, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

from handlers.web import SECRET_HEADER
from testing.fake_telegram.server import FakeBotApi
from testing.fake_telegram.updates import user
from tests.live import TOKEN, WAIT, bot_process, write_config

SECRET = "webhook_secret-123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, payload: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_webhook_mode_end_to_end(tmp_path: Path, empty_database_url: str, monkeypatch) -> None:
    port = free_port()
    public = "https://bot.example.nl/telegram"  # the reverse proxy's address, given to Telegram
    hook = f"http://127.0.0.1:{port}/telegram"  # where the proxy forwards to
    monkeypatch.setenv("BURGERBEEST_WEBHOOK_SECRET", SECRET)
    with FakeBotApi(TOKEN) as api:
        config = write_config(tmp_path, api, empty_database_url)
        with config.open("a", encoding="utf-8") as extra:
            extra.write(f'[http]\nport = {port}\n[webhook]\nurl = "{public}"\n')
        with bot_process(config, tmp_path / "bot.log") as process:
            registered = api.wait_for_sync("setWebhook", timeout=WAIT)
            assert registered.params["url"] == public
            assert registered.params["secret_token"] == SECRET

            anna = user(1001, first_name="Anna")
            update = api.updates.command(anna, "start")
            api.add_chat(anna)
            assert post(hook, update, "wrong") == 403
            assert post(hook, update, SECRET) == 200
            welcome = api.wait_for_sync("sendMessage", chat_id=1001, ok=True, timeout=WAIT)
            assert "Privacy" in welcome.text
            assert api.calls("getUpdates") == []  # no polling in webhook mode

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                assert json.load(r)["status"] == "ok"
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                assert 'burgerbeest_updates_total{kind="message"} 1.0' in r.read().decode()
        assert process.returncode == 0
    log = (tmp_path / "bot.log").read_text(encoding="utf-8")
    assert SECRET not in log and TOKEN not in log
