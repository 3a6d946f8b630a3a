"""Shared by the moderators' flows, not a flow itself: for /mededeling (announce.py) and the
sending of announcements (scheduled.py) what residents receive, whom an audience names, and the
refusal of a forged or stale broadcast button; for /logboek and /geleerd a command that shows a
page."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram import Bot, Message, Update
from telegram.constants import ParseMode

from bot.i18n import Markup, Translator
from bot.services import broadcasts as bc
from bot.services.broadcasts import Audience
from handlers.common import moderator
from handlers.context import BotContext
from handlers.residents.following import main_topics

log = logging.getLogger(__name__)


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


async def refuse(update: Update, t: Translator) -> None:
    query = update.callback_query
    log.warning(
        "refused broadcast button %r from user %s",
        (query.data or "")[:64],
        update.effective_user.id if update.effective_user else None,
    )
    await query.answer(t("common.stale_button"), show_alert=True)


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
