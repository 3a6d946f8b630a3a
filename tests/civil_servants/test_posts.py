"""Wist je dat: a civil servant writes a post, a moderator approves or rejects it in /wachtrij,
and the author hears which; only civil servants write, only moderators decide, once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from bot.services.posts import TEXT_MAX
from handlers.civil_servants import posts as posts_flow
from handlers.moderators import moderation
from models import ModerationAction, ModerationLog, Post, PostState
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness
from tests.questions_support import MODERATOR_ID, join, qbot, services

__all__ = ["qbot"]

TEXT = "de gemeente elk jaar 40 kilometer stoep veegt, ook in jouw straat?"


async def posts(bot: BotHarness) -> list[Post]:
    async with bot.app.bot_data["sessions"]() as session:
        return list(await session.scalars(select(Post).order_by(Post.id)))


async def log_rows(bot: BotHarness) -> list[ModerationLog]:
    async with bot.app.bot_data["sessions"]() as session:
        return list(
            await session.scalars(
                select(ModerationLog)
                .where(ModerationLog.target_kind == "post")
                .order_by(ModerationLog.id)
            )
        )


async def write(bot: BotHarness, who, text: str = TEXT, topic: str = "Overlast", kern="IJmuiden"):
    await bot.send(who, "/wistjedat")
    await bot.send(who, text)
    await bot.press(who, topic)
    await bot.press(who, kern)


async def test_a_civil_servant_writes_a_post_sees_it_as_residents_will_and_submits_it(
    qbot: BotHarness,
) -> None:
    bot = qbot
    piet, mo = bot.person(2001, "Piet"), bot.person(MODERATOR_ID, "Mo")
    await bot.send(mo, "/start")
    await join(bot, piet, "Piet de Vries", "Handhaving", topic="Overlast en veiligheid")

    menu = [
        c for c in bot.calls("setMyCommands") if c.params.get("scope", {}).get("chat_id") == 2001
    ]
    assert "wistjedat" in [command["command"] for command in menu[-1].params["commands"]]
    [ask] = await bot.send(piet, "/wistjedat")
    assert "Wist je dat" in ask.text and "700" in ask.text
    [too_long] = await bot.send(piet, "x" * (TEXT_MAX + 1))
    assert "701 tekens" in too_long.text and "700" in too_long.text
    [topics] = await bot.send(piet, TEXT)
    # The civil servant's own topic first, then the taxonomy's order, and "no particular one".
    labels = [label for label, _ in topics.buttons]
    assert labels[0] == "Overlast en veiligheid" and labels[1] == "Melding openbare ruimte"
    assert labels[-1] == "Geen bepaald onderwerp"
    await bot.press(piet, "Overlast en veiligheid")
    assert next(label for label, _ in bot.replies(piet)[-1].buttons) == "Alle kernen"
    before = len(bot.calls())
    await bot.press(piet, "IJmuiden")
    intro, preview, confirm = bot.replies(piet, since=before)
    assert "Zo lezen inwoners het" in intro.text
    assert preview.text == (f"💡 <b>Wist je dat…</b>\n{TEXT}\n<i>— Piet de Vries, Handhaving</i>")
    assert "<b>Overlast en veiligheid</b>" in confirm.text and "<b>IJmuiden</b>" in confirm.text
    await bot.press(piet, "Insturen")
    assert "Ingestuurd" in bot.last_text(piet)
    assert "/wachtrij" in bot.last_text(mo)

    [post] = await posts(bot)
    assert (post.state, post.topic, post.kern, post.text) == (
        PostState.PENDING,
        "overlast",
        "IJmuiden",
        TEXT,
    )
    # The confirm button is gone with the conversation: a second press submits nothing.
    await bot.press_data(piet, posts_flow.SUBMIT.build())
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert len(await posts(bot)) == 1


async def test_without_a_topic_a_kern_is_required(qbot: BotHarness) -> None:
    bot = qbot
    piet = bot.person(2001, "Piet")
    await join(bot, piet, "Piet de Vries", "Handhaving")
    await bot.send(piet, "/wistjedat")
    await bot.send(piet, TEXT)
    await bot.press(piet, posts_flow.TOPIC_PICK.build("none"))
    ask_kern = bot.replies(piet)[-1]
    assert "Alle kernen" not in [label for label, _ in ask_kern.buttons]
    await bot.press_data(piet, posts_flow.KERN_PICK.build("all"))  # not offered: for nobody
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    await bot.press_data(piet, posts_flow.KERN_PICK.build(99))
    await bot.press(piet, "Driehuis")
    assert "wie in <b>Driehuis</b> woont" in bot.last_text(piet)
    await bot.press(piet, "Opnieuw schrijven")
    assert "Wist je dat" in bot.last_text(piet)
    [stopped] = await bot.send(piet, "/annuleer")
    assert stopped.text == "Gestopt; er is niets ingestuurd."
    assert not await posts(bot)
    # Weggooien under the preview: the press is answered, its buttons go, nothing is kept.
    await bot.send(piet, "/wistjedat")
    await bot.send(piet, TEXT)
    await bot.press(piet, posts_flow.TOPIC_PICK.build("none"))
    await bot.press(piet, "Driehuis")
    calls = await bot.press(piet, "Weggooien")
    assert [c.method for c in calls] == [
        "answerCallbackQuery",
        "editMessageReplyMarkup",
        "sendMessage",
    ]
    assert calls[-1].text == "Gestopt; er is niets ingestuurd."
    assert not await posts(bot)


async def test_only_a_civil_servant_writes_one(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    [refusal] = await bot.send(anna, "/wistjedat")
    assert "alleen een ambtenaar" in refusal.text
    await bot.press_data(anna, posts_flow.SUBMIT.build())
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert await services(bot).posts.submit(1, TEXT, "overlast", None) is None
    assert not await posts(bot)


async def test_a_moderator_approves_one_and_rejects_another_with_a_reason(
    qbot: BotHarness,
) -> None:
    bot = qbot
    piet, mo = bot.person(2001, "Piet"), bot.person(MODERATOR_ID, "Mo")
    await bot.send(mo, "/start")
    await join(bot, piet, "Piet de Vries", "Handhaving")
    await write(bot, piet)
    await bot.press(piet, "Insturen")
    await write(
        bot, piet, "er in Driehuis een nieuwe speeltuin komt.", "Geen bepaald onderwerp", "Driehuis"
    )
    await bot.press(piet, "Insturen")

    [item] = await bot.send(mo, "/wachtrij")
    assert "2 te beoordelen" in item.text and "Wist-je-dat #1" in item.text
    assert "onderwerp: Overlast en veiligheid · kern: IJmuiden" in item.text
    assert "— Piet de Vries, Handhaving" in item.text
    assert [data for _, data in item.buttons] == [
        moderation.POST_APPROVE.build(1),
        moderation.POST_REJECT.build(1),
        moderation.POST_SKIP.build(1),
    ]
    await bot.press(mo, moderation.POST_APPROVE.build(1))
    assert "goedgekeurd" in bot.replies(mo)[-2].text
    assert "Wist-je-dat #2" in bot.last_text(mo)  # the next one at once
    assert "goedgekeurd" in bot.last_text(piet) and TEXT in bot.last_text(piet)

    await bot.press(mo, moderation.POST_REJECT.build(2))
    await bot.send(mo, "Dat is nog niet besloten door de raad.")
    assert "#2 is afgewezen" in bot.replies(mo)[-2].text
    assert "Wachtrij is leeg" in bot.last_text(mo) or "leeg" in bot.last_text(mo)
    rejected = bot.last_text(piet)
    assert "afgewezen" in rejected and "Reden: Dat is nog niet besloten door de raad." in rejected

    first, second = await posts(bot)
    assert first.state is PostState.APPROVED and first.reviewed_at is not None
    assert second.state is PostState.REJECTED
    assert second.reject_reason == "Dat is nog niet besloten door de raad."
    rows = await log_rows(bot)
    assert [(r.action, r.target_id) for r in rows] == [
        (ModerationAction.APPROVE, 1),
        (ModerationAction.REJECT, 2),
    ]
    assert rows[1].detail == {"reason": "Dat is nog niet besloten door de raad."}


async def test_forged_and_stale_buttons_are_refused_logged_and_change_nothing(
    qbot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = qbot
    anna, piet, mo = bot.person(1001, "Anna"), bot.person(2001, "Piet"), bot.person(MODERATOR_ID)
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Handhaving")
    await write(bot, piet)
    await bot.press(piet, "Insturen")

    caplog.set_level(logging.INFO, logger="handlers.common")
    for who, button, number in (
        (anna, moderation.POST_APPROVE, 1),
        (piet, moderation.POST_REJECT, 1),
        (mo, moderation.POST_APPROVE, 99),
    ):
        await bot.press_data(who, button.build(number))
        assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert sum("refused callback" in r.message for r in caplog.records) == 3
    assert (await posts(bot))[0].state is PostState.PENDING
    assert not await log_rows(bot)

    await bot.press_data(mo, moderation.POST_APPROVE.build(1))
    await bot.press_data(mo, moderation.POST_APPROVE.build(1))  # stale: decided already
    await bot.press_data(mo, moderation.POST_REJECT.build(1))
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
    assert len(await log_rows(bot)) == 1


async def test_two_moderators_deciding_at_once_only_one_wins(qbot: BotHarness) -> None:
    bot = qbot
    piet = bot.person(2001, "Piet")
    await join(bot, piet, "Piet de Vries", "Handhaving")
    piet_user = await services(bot).users.get(piet.id)
    moderation = services(bot).moderation
    first, second = [await services(bot).users.register(n) for n in (MODERATOR_ID, 9001)]
    for round_ in range(5):
        post = await services(bot).posts.submit(piet_user.id, f"{TEXT} {round_}", "overlast", None)
        results = await asyncio.gather(
            moderation.approve_post(first.id, post.id),
            moderation.reject_post(second.id, post.id, "Nee."),
        )
        assert sum(r is not None for r in results) == 1
    rows = await log_rows(bot)
    assert len(rows) == 5 and len({r.target_id for r in rows}) == 5


async def test_the_queue_shows_initiatives_first_then_posts_then_from_the_start(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna, piet, mo = bot.person(1001, "Anna"), bot.person(2001, "Piet"), bot.person(MODERATOR_ID)
    await onboard(bot, anna)
    await answer_until_summary(bot, anna)
    await bot.press(anna, "Opslaan")
    await bot.send(mo, "/verberg 1")
    await join(bot, piet, "Piet de Vries", "Handhaving")
    await write(bot, piet)
    await bot.press(piet, "Insturen")

    [first] = await bot.send(mo, "/wachtrij")
    assert "Hondenspeeltuin" in first.text and "2 te beoordelen" in first.text
    await bot.press(mo, moderation.SKIP.build(1))
    assert "Wist-je-dat #1" in bot.last_text(mo)
    await bot.press(mo, moderation.POST_SKIP.build(1))
    assert "Hondenspeeltuin" in bot.last_text(mo)


async def test_a_leaving_civil_servant_takes_unpublished_posts_along_and_exports_them(
    qbot: BotHarness,
) -> None:
    bot = qbot
    piet = bot.person(2001, "Piet")
    await join(bot, piet, "Piet de Vries", "Handhaving", handle="handhaving")
    piet_user = await services(bot).users.get(piet.id)
    published = await services(bot).posts.submit(piet_user.id, TEXT, "overlast", None)
    waiting = await services(bot).posts.submit(piet_user.id, "nog een", None, "IJmuiden")
    mo = await services(bot).users.register(MODERATOR_ID)
    await services(bot).moderation.approve_post(mo.id, published.id)

    exported = await services(bot).privacy.export(piet.id)
    assert sorted(p["text"] for p in exported["posts"]) == [TEXT, "nog een"]

    async with bot.app.bot_data["sessions"].begin() as session:
        (await session.get(Post, published.id)).state = PostState.PUBLISHED
    profile = await services(bot).civil_servants.find("handhaving")
    left = await services(bot).questions.offboard(profile.id)
    await services(bot).users.erase(left.telegram_id)
    [kept] = await posts(bot)
    assert kept.id == published.id and kept.author_id is None and kept.text == TEXT
    assert waiting.id != kept.id
