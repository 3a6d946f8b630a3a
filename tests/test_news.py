"""The weekly news: at the configured moment one message per resident who follows something that
has news (approved posts, what happened to initiatives there), in their language; nobody else
gets anything, and no restart, second run or second instance sends anything twice."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import time
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, update

from bot.config import TOKEN_ENV, ConfigError, load_config
from bot.i18n import translator
from bot.services.posts import News, NewsChange, NewsPost
from handlers.civil_servants.posts import news_text
from handlers.jobs import build_news
from handlers.residents import following as volg
from models import Initiative, InitiativeStatus, NewsEdition, Post, PostState
from tests.flows import answer_until_summary, onboard
from tests.harness import BotHarness, Person
from tests.moderators.test_moderation import pre_bot
from tests.questions_support import MODERATOR_ID, join, local, qbot, services, tick

__all__ = ["pre_bot", "qbot"]

KERN = {"IJmuiden": 0, "Driehuis": 3, "Velserbroek": 6}
TOPIC = {"overlast": 1, "initiatieven": 2}
OVERLAST = "er elke vrijdagavond een boa door het centrum loopt?"
IJMUIDEN = "de vuurtoren van IJmuiden in juni open is voor bezoekers?"


async def follow(bot: BotHarness, who: Person, *buttons: str) -> None:
    await bot.send(who, "/volgen")
    for data in buttons:
        await bot.press_data(who, data)


async def build(bot: BotHarness, at: str) -> object:
    """The weekly-news job at local time `at`, then the dispatch tick a minute later."""
    with time_machine.travel(local(at), tick=False):
        edition = await services(bot).posts.build_news()
    day, clock = at.split()
    hour, minute = clock.split(":")
    await tick(bot, f"{day} {hour}:{int(minute) + 1:02d}")
    return edition


async def approved_post(bot: BotHarness, author: Person, text: str, topic=None, kern=None) -> int:
    author_user = await services(bot).users.get(author.id)
    moderator = await services(bot).users.register(MODERATOR_ID)
    post = await services(bot).posts.submit(author_user.id, text, topic, kern)
    assert post is not None
    assert await services(bot).moderation.approve_post(moderator.id, post.id) is not None
    return post.id


def news(bot: BotHarness, who: Person, since: int = 0) -> list[str]:
    return [
        c.text
        for c in bot.replies(who, since=since)
        if c.text.startswith(("📰", "Je Wist-je-dat", "Your"))
    ]


async def test_each_follower_gets_one_message_with_their_items_in_their_language(
    qbot: BotHarness,
) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")  # IJmuiden: her own kern counts as followed
    bram = bot.person(1002, "Bram")  # Velserbroek, follows the topic overlast
    carla = bot.person(1003, "Carla", language_code="en")  # Driehuis, follows IJmuiden
    dirk = bot.person(1004, "Dirk")  # follows IJmuiden, but muted
    eva = bot.person(1005, "Eva")  # IJmuiden, banned
    fien = bot.person(1006, "Fien")  # IJmuiden, blocked the bot
    gijs = bot.person(1007, "Gijs")  # Velserbroek, follows nothing with news
    piet, mo = bot.person(2001, "Piet"), bot.person(MODERATOR_ID, "Mo")
    await bot.send(mo, "/start")
    for who, kern in (
        (anna, "IJmuiden"),
        (bram, "Velserbroek"),
        (carla, "Driehuis"),
        (dirk, "Velserbroek"),
        (eva, "IJmuiden"),
        (fien, "IJmuiden"),
        (gijs, "Velserbroek"),
    ):
        await onboard(bot, who, kern)
    await follow(bot, bram, volg.TOGGLE.build("t", TOPIC["overlast"]))
    await follow(bot, carla, volg.TOGGLE.build("k", KERN["IJmuiden"]))
    await follow(bot, dirk, volg.TOGGLE.build("k", KERN["IJmuiden"]))
    await bot.send(dirk, "/stil")
    await bot.send(mo, "/ban 1005")
    await bot.send(mo, "Spam.")  # why
    await bot.press(mo, "Blokkeren")
    await services(bot).users.update(fien.id, active=False)
    await join(bot, piet, "Piet de Vries", "Handhaving")

    # Week 23 of 2026: Monday 1 June; the news goes on Friday 5 June at 10:00.
    with time_machine.travel(local("2026-06-02 11:00"), tick=False):
        await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
        await bot.press(anna, "Opslaan")
    with time_machine.travel(local("2026-06-03 11:00"), tick=False):
        await bot.send(mo, "/status 1")
        await bot.press(mo, "in gesprek")
        await approved_post(bot, piet, OVERLAST, topic="overlast")
        await approved_post(bot, piet, IJMUIDEN, kern="IJmuiden")
    everyone = (anna, bram, carla, dirk, eva, fien, gijs)
    before = {who.id: len(bot.replies(who)) for who in (*everyone, piet)}

    assert await build(bot, "2026-06-05 09:55") is None  # not yet
    assert not any(news(bot, who, 0) for who in everyone)
    edition = await build(bot, "2026-06-05 10:00")
    assert edition is not None and edition.week == "2026-W23"

    def new(who: Person) -> list[str]:
        return [c.text for c in bot.replies(who)[before[who.id] :]]

    # Anna: the post for her kern; her own initiative she heard of at once, not again.
    [anna_news] = new(anna)
    assert anna_news.startswith("📰 <b>Nieuws van de week</b> · week 23")
    assert IJMUIDEN in anna_news and "— Piet de Vries, Handhaving" in anna_news
    assert OVERLAST not in anna_news and "Hondenspeeltuin" not in anna_news
    [bram_news] = new(bram)
    assert OVERLAST in bram_news and IJMUIDEN not in bram_news
    assert "Hondenspeeltuin" not in bram_news
    [carla_news] = new(carla)
    assert carla_news.startswith("📰 <b>News of the week</b> · week 23")
    assert "💡 <b>Did you know…</b>" in carla_news and IJMUIDEN in carla_news
    assert "• <b>Hondenspeeltuin in het park</b> in IJmuiden is now: in talks (#1)" in carla_news
    assert "/volgen" in carla_news and "/stil" in carla_news
    for nobody in (dirk, eva, fien, gijs):
        assert not new(nobody), nobody
    # The author hears the post went out, and to how many.
    told = [t for t in new(piet) if "met het weeknieuws verstuurd" in t]
    assert sorted(t.rsplit(": ", 1)[1] for t in told) == ["1.", "2."]

    async with bot.app.bot_data["sessions"]() as session:
        posts = list(await session.scalars(select(Post).order_by(Post.id)))
    assert [(p.state, p.edition, p.recipients) for p in posts] == [
        (PostState.PUBLISHED, "2026-W23", 1),
        (PostState.PUBLISHED, "2026-W23", 2),
    ]

    # The job runs again (every few minutes, after a restart): nothing more that week.
    await bot.restart()
    assert await build(bot, "2026-06-05 10:10") is None
    assert await build(bot, "2026-06-07 20:00") is None
    for who in (*everyone, piet):
        assert len(bot.replies(who)) == 0, who  # a fresh recorder after the restart

    # Next week: the initiative moves on; followers of its kern and of its topic hear of it.
    hans = bot.person(1008, "Hans")
    await onboard(bot, hans, "Velserbroek")
    await follow(bot, hans, volg.TOGGLE.build("t", TOPIC["initiatieven"]))
    async with bot.app.bot_data["sessions"].begin() as session:
        # A subtopic: followers of its main topic hear of it.
        await session.execute(update(Initiative).values(topic="initiatieven/groen"))
    with time_machine.travel(local("2026-06-09 15:00"), tick=False):
        await bot.send(mo, "/status 1")
        await bot.press(mo, "experiment")
    await build(bot, "2026-06-12 10:00")
    [carla_news] = news(bot, carla)
    assert "is now: experiment" in carla_news and "Did you know" not in carla_news
    [hans_news] = news(bot, hans)
    assert "• <b>Hondenspeeltuin in het park</b> in IJmuiden is nu: experiment (#1)" in hans_news
    assert not news(bot, bram) and not news(bot, anna) and not news(bot, gijs)


async def test_two_instances_build_and_send_the_week_once(qbot: BotHarness) -> None:
    first = qbot
    anna, piet = first.person(1001, "Anna"), first.person(2001, "Piet")
    await onboard(first, anna)
    await join(first, piet, "Piet de Vries", "Handhaving")
    with time_machine.travel(local("2026-06-03 11:00"), tick=False):
        await approved_post(first, piet, IJMUIDEN, kern="IJmuiden")

    second = BotHarness(first.config)
    await second.start()
    try:
        with time_machine.travel(local("2026-06-05 10:03"), tick=False):
            editions = await asyncio.gather(
                build_news(first.context()), build_news(second.context())
            )
        assert editions == [None, None]  # the job returns nothing; the database tells
        for bot in (first, second, first):
            await tick(bot, "2026-06-05 10:04")
            with time_machine.travel(local("2026-06-05 10:05"), tick=False):
                await services(bot).posts.build_news()
            await tick(bot, "2026-06-05 10:06")
        sent = [c.text for bot in (first, second) for c in bot.replies(anna)]
    finally:
        await second.stop()
    assert len([t for t in sent if t.startswith("📰")]) == 1
    async with first.app.bot_data["sessions"]() as session:
        assert len(list(await session.scalars(select(NewsEdition)))) == 1


async def test_a_post_that_would_give_someone_too_many_waits_a_week(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Handhaving")
    per_week = services(bot).posts.config.per_week
    with time_machine.travel(local("2026-06-03 11:00"), tick=False):
        for n in range(per_week + 1):
            await approved_post(bot, piet, f"bericht nummer {n} over de haven.", kern="IJmuiden")
    await build(bot, "2026-06-05 10:00")
    [first] = news(bot, anna)
    assert first.count("Wist je dat") == per_week and f"nummer {per_week} " not in first
    await build(bot, "2026-06-12 10:00")
    second = news(bot, anna)[-1]
    assert second.count("Wist je dat") == 1 and f"nummer {per_week} " in second


async def test_a_post_nobody_follows_yet_waits_for_its_first_follower(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join(bot, piet, "Piet de Vries", "Handhaving")
    with time_machine.travel(local("2026-06-03 11:00"), tick=False):
        post_id = await approved_post(bot, piet, OVERLAST, topic="overlast")
    await build(bot, "2026-06-05 10:00")
    assert not news(bot, anna)
    async with bot.app.bot_data["sessions"]() as session:
        post = await session.get(Post, post_id)
    assert post.state is PostState.APPROVED  # not published to nobody

    await follow(bot, anna, volg.TOGGLE.build("t", TOPIC["overlast"]))
    await build(bot, "2026-06-12 10:00")
    [first] = news(bot, anna)
    assert OVERLAST in first


async def test_an_initiative_approved_this_week_is_news_though_shared_before(
    pre_bot: BotHarness,
) -> None:
    """Pre-moderation: shared in week 22, approved in week 23, so news in week 23."""
    bot = pre_bot
    anna, carla, mo = (
        bot.person(1001, "Anna"),
        bot.person(1003, "Carla"),
        bot.person(MODERATOR_ID, "Mo"),
    )
    for who in (anna, carla):
        await onboard(bot, who, "IJmuiden")
    with time_machine.travel(local("2026-05-27 11:00"), tick=False):  # week 22
        await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
        await bot.press(anna, "Opslaan")
    await build(bot, "2026-05-29 10:00")
    assert not news(bot, carla)  # not yet visible
    with time_machine.travel(local("2026-06-02 11:00"), tick=False):  # week 23
        await bot.send(mo, "/wachtrij")
        await bot.press(mo, "Goedkeuren")
    await build(bot, "2026-06-05 10:00")
    [carla_news] = news(bot, carla)
    assert "Hondenspeeltuin in het park" in carla_news


async def test_what_changes_between_building_and_sending_counts(qbot: BotHarness) -> None:
    bot = qbot
    anna, carla = bot.person(1001, "Anna"), bot.person(1003, "Carla")
    dirk, mo = bot.person(1004, "Dirk"), bot.person(MODERATOR_ID, "Mo")
    piet = bot.person(2001, "Piet")
    for who in (anna, carla, dirk):
        await onboard(bot, who, "IJmuiden")
    await follow(bot, dirk, volg.TOGGLE.build("t", TOPIC["overlast"]))
    await join(bot, piet, "Piet de Vries", "Handhaving")
    with time_machine.travel(local("2026-06-02 11:00"), tick=False):
        await answer_until_summary(bot, anna, "Hondenspeeltuin in het park")
        await bot.press(anna, "Opslaan")
        await approved_post(bot, piet, OVERLAST, topic="overlast")
    with time_machine.travel(local("2026-06-05 10:00"), tick=False):
        edition = await services(bot).posts.build_news()
    # Carla: the new idea in her kern; Dirk: that and the post on the topic he follows.
    assert edition.recipients == 2
    await bot.send(mo, "/verberg 1")  # Carla's only item is hidden before it is sent
    await bot.send(dirk, "/stil")  # and Dirk muted meanwhile
    await tick(bot, "2026-06-05 10:01")
    assert not news(bot, carla) and not news(bot, dirk)


async def test_nothing_relevant_means_no_message(qbot: BotHarness) -> None:
    bot = qbot
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna, "Driehuis")
    await join(bot, piet, "Piet de Vries", "Handhaving")
    with time_machine.travel(local("2026-06-03 11:00"), tick=False):
        await approved_post(bot, piet, IJMUIDEN, kern="IJmuiden")
    edition = await build(bot, "2026-06-05 10:00")
    assert edition.recipients == 0 and edition.posts == 0  # the post waits for a reader
    assert not news(bot, anna)


def test_the_schedule_is_configured_and_checked(tmp_path: Path) -> None:
    base = '[municipality]\nname = "V"\nkernen = ["A"]\n'
    path = tmp_path / "config.toml"
    path.write_text(base + '[posts]\nweekday = "Monday"\ntime = "07:30"\n', encoding="utf-8")
    config = load_config(path, environ={TOKEN_ENV: "123:abc"})
    assert (config.posts.weekday, config.posts.at, config.posts.per_week) == (0, time(7, 30), 3)
    for bad, key in (
        ('weekday = "vrijdag"', "[posts] weekday"),
        ('time = "25:00"', "[posts] time"),
        ("per_week = 9", "[posts] per_week"),
    ):
        path.write_text(base + f"[posts]\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(key)):
            load_config(path, environ={TOKEN_ENV: "123:abc"})


def test_a_full_week_fits_one_message_and_counts_the_rest() -> None:
    post = NewsPost("&" * 700, "Piet de Vries", "Handhaving")
    change = NewsChange(7, "<b>" * 50, "Santpoort-Noord", InitiativeStatus.EXPERIMENT, False)
    full = News(23, [post] * 4, [change] * 8, more=12)
    for language in ("nl", "en"):
        text = news_text(translator(language), full, "Velsen")
        assert len(text) < 4096
        assert "/zoek" in text.rsplit("\n\n", 2)[-2]
    short = replace(full, posts=[replace(post, text="kort")], changes=[change], more=0)
    text = news_text(translator("nl"), short, "Velsen")
    assert "/zoek" not in text and "&lt;b&gt;" in text
    unsigned = news_text(translator("nl"), replace(short, posts=[NewsPost("x", None, None)]), "V")
    assert "— gemeente V" in unsigned


async def test_the_news_goes_after_what_else_is_due_and_a_run_keeps_to_its_budget(
    qbot: BotHarness,
) -> None:
    """Thousands of news messages take minutes at Telegram's pace: a reminder or notice due
    meanwhile goes first, and a run with a spent budget leaves the rest to the next run."""
    from bot.services.delivery import SENT, Result
    from bot.services.dispatch import Delivery
    from models import ScheduledWork, WorkKind

    bot = qbot
    readers = [bot.person(1001 + n, f"Lezer {n}") for n in range(4)]
    piet = bot.person(2001, "Piet")
    for who in readers:
        await onboard(bot, who, "IJmuiden")
    await join(bot, piet, "Piet de Vries", "Handhaving")
    with time_machine.travel(local("2026-06-03 11:00"), tick=False):
        await approved_post(bot, piet, IJMUIDEN, kern="IJmuiden")
    with time_machine.travel(local("2026-06-05 10:00"), tick=False):
        assert await services(bot).posts.build_news() is not None
    reader = await services(bot).users.get(readers[0].id)
    async with bot.app.bot_data["sessions"].begin() as session:
        session.add(
            ScheduledWork(
                kind=WorkKind.NOTICE,
                due_at=local("2026-06-05 10:01"),  # due after the news rows
                recipient_id=reader.id,
                payload={"key": "mod.banned", "values": {}},
            )
        )

    order: list[WorkKind] = []

    async def records(delivery: Delivery) -> Result:
        order.append(delivery.kind)
        return SENT

    dispatch = services(bot).dispatch
    with time_machine.travel(local("2026-06-05 10:02"), tick=False):
        spent = await dispatch.run_due(records, budget=0)  # one send, then the budget is gone
        assert spent.sent == 1
        rest = await dispatch.run_due(records)
    # Every notice due (the one above, Piet's "approved") before any reader's news.
    first_news = order.index(WorkKind.NEWS)
    assert order[:first_news] == [WorkKind.NOTICE] * 2
    assert order[first_news:] == [WorkKind.NEWS] * len(readers)
    assert rest.kinds == {"notice": 1, "news": len(readers)}
