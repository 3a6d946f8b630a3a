"""The HTTP side: the webhook with its secret token, /healthz and /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from handlers.web import SECRET_HEADER, WebSettings, start_web
from tests.flows import onboard
from tests.harness import BotHarness

SECRET = "webhook-secret-0123456789"


@pytest.fixture
async def web(bot: BotHarness) -> AsyncIterator[httpx.AsyncClient]:
    await bot.app.start()  # the job queue runs and queued updates are handled
    server = start_web(
        bot.app, WebSettings("127.0.0.1", 0, webhook_path="/telegram", secret_token=SECRET)
    )
    port = next(iter(server._sockets.values())).getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield client
    server.stop()


async def test_healthz_reports_database_and_scheduler(bot: BotHarness, web) -> None:
    response = await web.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "state_writes": "ok",
        "scheduler": "running",
    }
    await bot.app.bot_data["engine"].dispose()
    bot.app.job_queue.scheduler.pause()
    bot.app.job_queue.scheduler.shutdown(wait=False)
    response = await web.get("/healthz")
    assert response.status_code == 503
    assert response.json()["scheduler"] == "stopped"


async def test_the_webhook_wants_the_secret_token(bot: BotHarness, web) -> None:
    anna = bot.person(1001, "Anna")
    update = bot.updates.command(anna.payload, "help")
    for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}):
        response = await web.post("/telegram", json=update, headers=headers)
        assert response.status_code == 403
    assert bot.replies(anna) == []

    response = await web.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    await _settle(bot)
    assert "/idee" in bot.last_text(anna)

    response = await web.post("/telegram", content=b"not json", headers={SECRET_HEADER: SECRET})
    assert response.status_code == 400


async def test_metrics_count_updates_and_read_the_database(bot: BotHarness, web) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    bot.request.block(anna.id)
    await bot.send(anna, "/mijn")
    bot.errors.clear()  # the Forbidden above is the point of this test
    text = (await web.get("/metrics")).text
    assert 'burgerbeest_updates_total{kind="message"} 2.0' in text
    assert 'burgerbeest_updates_total{kind="callback"} 2.0' in text
    assert 'burgerbeest_send_errors_total{reason="blocked"} 1.0' in text
    assert 'burgerbeest_residents{state="blocked"} 1.0' in text
    assert "burgerbeest_questions_overdue 0.0" in text
    assert 'burgerbeest_broadcast_deliveries{state="pending"} 0.0' in text


async def _settle(bot: BotHarness) -> None:
    """Wait until the Application has handled what the webhook queued."""
    import asyncio

    for _ in range(200):
        if bot.app.update_queue.empty() and bot.replies(bot.person(1001)):
            return
        await asyncio.sleep(0.01)


async def test_metrics_show_overdue_questions_and_broadcast_progress(bot: BotHarness, web) -> None:
    from datetime import timedelta

    from models import User
    from models.base import utcnow
    from models.broadcast import Broadcast, BroadcastDelivery, BroadcastState, DeliveryState
    from models.question import Question, QuestionStatus

    sessions = bot.app.bot_data["sessions"]
    async with sessions.begin() as session:
        resident = User(telegram_id=1001, consent_at=utcnow(), kern="IJmuiden")
        session.add(resident)
        await session.flush()
        for deadline, status in (
            (utcnow() - timedelta(days=1), QuestionStatus.DELIVERED),  # overdue
            (utcnow() + timedelta(days=1), QuestionStatus.DELIVERED),
            (utcnow() - timedelta(days=1), QuestionStatus.CLOSED),  # closed: not overdue
        ):
            session.add(
                Question(resident_id=resident.id, text="?", status=status, deadline_at=deadline)
            )
        announcement = Broadcast(text="Hallo", state=BroadcastState.SENDING)
        session.add(announcement)
        await session.flush()
        session.add(
            BroadcastDelivery(
                broadcast_id=announcement.id, user_id=resident.id, state=DeliveryState.SENT
            )
        )
    text = (await web.get("/metrics")).text
    assert "burgerbeest_questions_overdue 1.0" in text
    assert 'burgerbeest_questions{status="bij_ambtenaar"} 2.0' in text
    assert 'burgerbeest_broadcast_deliveries{state="sent"} 1.0' in text
