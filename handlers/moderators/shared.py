"""Shared by the moderators' flows, not a flow itself: for /mededeling (announce.py) and the
sending of announcements (scheduled.py) what residents receive, whom an audience names, and the
refusal of a forged or stale broadcast button; for /mededeling and /peiling a typed moment that
must lie ahead; for /logboek and /geleerd a command that shows a page."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, Message, Update
from telegram.constants import ParseMode

from bot.i18n import Markup, Translator
from bot.services import broadcasts as bc
from bot.services.broadcasts import Audience
from handlers.common import moderator, stale_button
from handlers.context import BotContext
from handlers.residents.following import main_topics
from models.base import utcnow


def announcement(t: Translator, municipality: str, body: str) -> str:
    """The message as a resident reads it; `body` is the moderator's text as HTML."""
    return t("bc.announcement", municipality=municipality, body=Markup(body))


async def deliver(
    bot: Bot, chat_id: int, text: str, photo_file_id: str | None, markup: Any = None
) -> Message:
    if photo_file_id:
        return await bot.send_photo(
            chat_id, photo_file_id, caption=text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def refuse(update: Update, context: BotContext) -> None:
    """A broadcast button refused (not the moderator's draft, or no longer one): the stale
    answer, logged as a warning, as sending to everyone is at stake."""
    await stale_button(update, context, what="broadcast button", level=logging.WARNING)


def audience_choices(context: BotContext, kind: str, t: Translator) -> list[tuple[str, str]]:
    """(value, label) of what can be picked for a kernen or topics audience."""
    if kind == bc.KERNEN:
        return [(k, k) for k in context.config.municipality.kernen]
    return [(m.key, m.name(t.language)) for m in main_topics(context)]


def describe(context: BotContext, t: Translator, audience: Audience) -> str:
    if audience.kind == bc.TOPICS:
        names = dict(audience_choices(context, bc.TOPICS, t))
        return t("bc.to_topics", names=", ".join(names.get(v, v) for v in audience.values))
    if audience.kind == bc.KERNEN:
        return t("bc.to_kernen", names=", ".join(audience.values))
    return t(f"bc.to_{audience.kind}")


def local_time(context: BotContext, t: Translator, moment: datetime) -> str:
    return t.moment(moment, context.config.municipality.tz)


def local_now(context: BotContext) -> datetime:
    """Now on the municipality's clock: what a typed date or time means."""
    return utcnow().astimezone(context.config.municipality.tz)


@dataclass(frozen=True)
class Moment:
    """A moment a moderator types (an announcement's time, a poll's closing date): one that must
    lie ahead, within `days_max` days. Each flow parses it and says what is wrong in its own
    words (catalog keys; `not_understood` takes the example, `too_far` the days)."""

    parse: Callable[[str, datetime], datetime | None]
    days_max: int
    example_days: int  # the example shown is this many days from today
    example_format: str
    not_understood: str
    past: str
    too_far: str

    def example(self, context: BotContext) -> str:
        """A moment the flow would take, to show how to write one."""
        later = local_now(context) + timedelta(days=self.example_days)
        return later.strftime(self.example_format)

    async def typed(self, update: Update, context: BotContext, t: Translator) -> datetime | None:
        """The moment typed, on the municipality's clock; None after saying why it cannot be
        used: not a moment, past, or too far ahead."""
        now = local_now(context)
        moment = self.parse(update.effective_message.text or "", now)
        if moment is None:
            problem = t(self.not_understood, example=self.example(context))
        elif moment <= now:
            problem = t(self.past)
        elif moment > now + timedelta(days=self.days_max):
            problem = t(self.too_far, days=self.days_max)
        else:
            return moment
        await update.effective_message.reply_text(problem)
        return None


def page_command(
    page: Callable[[BotContext, Translator], Awaitable[tuple[str, Any]]],
) -> Callable[[Update, BotContext], Awaitable[None]]:
    """A moderator's command that shows the first `page` (its text and buttons)."""

    async def command(update: Update, context: BotContext) -> None:
        user, t = await moderator(update, context)
        if user is None:
            return
        text, markup = await page(context, t)
        await update.effective_message.reply_text(text, reply_markup=markup)

    return command
