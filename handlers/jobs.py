"""Every repeating job of the bot, in one table.

The database is the source of truth for what is due (scheduled_work, broadcasts, the weekly news
edition), so a job only looks at it: a run missed while the bot was down is done once when it is
back (misfire grace = the interval, coalesced), and never two at once (one instance per job).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram.ext import JobQueue

from bot.services.questions import anonymise_closed_before
from handlers.context import BotContext
from handlers.dispatch import TICK_S as DISPATCH_TICK_S
from handlers.dispatch import dispatch_tick
from handlers.moderators.polls import CLOSE_TICK_S as POLL_CLOSE_TICK_S
from handlers.moderators.polls import close_tick as close_polls
from handlers.moderators.scheduled import TICK_S as BROADCAST_TICK_S
from handlers.moderators.scheduled import broadcast_tick
from handlers.residents.introductions import (
    JOIN_NOTICE_INTERVAL_S,
    NOTICE_INTERVAL_S,
    send_join_notices,
    send_match_notices,
)
from models.base import utcnow

log = logging.getLogger(__name__)


async def refresh_index(context: BotContext) -> None:
    await context.services.matching.load_index()
    # Routing examples too: another instance's, the CLI's, and erasures reach this process.
    await context.services.questions.examples.load()


async def apply_retention(context: BotContext) -> None:
    cutoff = utcnow() - timedelta(days=context.config.retention_days)
    anonymised = await anonymise_closed_before(context.bot_data["sessions"], cutoff)
    if anonymised:
        log.info("retention: %s closed questions anonymised", anonymised)


async def build_news(context: BotContext) -> None:
    await context.services.posts.build_news()


@dataclass(frozen=True)
class RepeatingJob:
    name: str
    callback: Callable[[BotContext], Awaitable[None]]
    every_s: float
    first_s: float  # after start


JOBS = (
    # Questions, reminders, escalations, notices and the weekly news that are due.
    RepeatingJob("dispatch", dispatch_tick, DISPATCH_TICK_S, 5),
    # Starts (or resumes) the senders of announcements that are due; returns at once.
    RepeatingJob("broadcasts", broadcast_tick, BROADCAST_TICK_S, BROADCAST_TICK_S),
    # Polls whose date has passed close, once; their authors get the result.
    RepeatingJob("poll-close", close_polls, POLL_CLOSE_TICK_S, POLL_CLOSE_TICK_S),
    # Late matches for initiators, batched: at most one message a day each.
    RepeatingJob("match-notices", send_match_notices, NOTICE_INTERVAL_S, 60),
    # Joins whose joiner never answered the note question: their initiator is told, once.
    RepeatingJob("join-notices", send_join_notices, JOIN_NOTICE_INTERVAL_S, 90),
    # Initiatives and routing examples stored by another process reach this one this late.
    RepeatingJob("match-index-refresh", refresh_index, 60, 60),
    # Retention daily; the first run a few minutes after start, out of the start's way.
    RepeatingJob("retention", apply_retention, 24 * 60 * 60, 5 * 60),
    # The weekly news is built once its moment has passed; looked for this often, so a restart
    # or a late start still builds it, once (bot/services/posts.py). "dispatch" sends it.
    RepeatingJob("weekly-news", build_news, 5 * 60, 5 * 60),
)


def schedule_jobs(job_queue: JobQueue) -> None:
    for job in JOBS:
        job_queue.run_repeating(
            job.callback,
            interval=job.every_s,
            first=job.first_s,
            name=job.name,
            job_kwargs={
                "misfire_grace_time": int(job.every_s),
                "coalesce": True,
                "max_instances": 1,
            },
        )
