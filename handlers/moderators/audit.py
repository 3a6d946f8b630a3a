"""/logboek for moderators: the audit log of moderator actions, newest first, page by page.

The log itself is written by bot/services/moderation.py in the same transaction as each action;
this only reads it. An action this module has no words for yet is shown by its name, so a new
kind of action can never hide from the log.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import CommandHandler

from bot.i18n import Markup, Translator
from bot.services.text_input import excerpt
from handlers.callbacks import Button
from handlers.common import keyboard, moderator, press_done
from handlers.context import BotApplication, BotContext
from handlers.moderators.shared import local_time, page_command
from models import ModerationAction, ModerationLog

PAGE = 15
DETAIL_MAX = 120

OLDER = Button("logboek", int)  # the oldest entry shown: the page before it


def _short(text: object) -> str:
    return excerpt(str(text), DETAIL_MAX)


def _value(t: Translator, action: ModerationAction, value: object) -> str:
    """An old or new value as the reader knows it: a status by its name in their language."""
    if action is ModerationAction.STATUS and t.has(f"status.{value}"):
        return t(f"status.{value}")
    return _short(value)


async def _line(context: BotContext, t: Translator, entry: ModerationLog) -> str:
    action = str(entry.action)
    who = await context.services.users.by_id(entry.moderator_id) if entry.moderator_id else None
    detail = entry.detail or {}
    extra = ""
    if detail.get("reason"):
        extra = t("audit.reason", reason=_short(detail["reason"]))
    elif "old" in detail and "new" in detail:
        old, new = (_value(t, entry.action, detail[k]) for k in ("old", "new"))
        extra = t("audit.change", old=old, new=new)
    elif detail.get("due_at"):
        extra = t(
            "audit.due", when=local_time(context, t, datetime.fromisoformat(detail["due_at"]))
        )
    return t(
        "audit.line",
        when=local_time(context, t, entry.at),
        moderator=(who and who.display_name) or t("audit.someone"),
        action=t(f"audit.{action}") if t.has(f"audit.{action}") else action,
        target=await _target(context, t, entry),
        extra=Markup(extra),  # already rendered from the catalog, values escaped
    )


async def _target(context: BotContext, t: Translator, entry: ModerationLog) -> str:
    """What the entry was about: a person by name and Telegram id (what /ban and /unban take),
    anything else by its kind and number."""
    if entry.target_kind == "user":
        person = await context.services.users.by_id(entry.target_id)
        if person is not None and person.telegram_id > 0:  # erased: a negative placeholder
            if person.display_name:
                return t(
                    "audit.target_person",
                    name=person.display_name,
                    telegram_id=person.telegram_id,
                )
            return t("audit.target_unnamed", telegram_id=person.telegram_id)
    target_key = f"audit.target_{entry.target_kind}"
    if t.has(target_key):
        return t(target_key, number=entry.target_id)
    return f"{entry.target_kind} #{entry.target_id}"


async def _page(
    context: BotContext, t: Translator, before: int | None = None
) -> tuple[str, object]:
    entries = await context.services.moderation.log(limit=PAGE + 1, before=before)
    if not entries:
        return t("audit.empty"), None
    shown = entries[:PAGE]
    lines = [t("audit.header")] + [await _line(context, t, entry) for entry in shown]
    older = len(entries) > PAGE
    markup = keyboard([[(t("audit.older"), OLDER.build(shown[-1].id))]]) if older else None
    return "\n".join(lines), markup


# /logboek: the newest page of the audit log.
audit_log = page_command(_page)


async def older(update: Update, context: BotContext) -> None:
    """The "older" button: the next page, in a new message so the first stays readable."""
    user, t = await moderator(update, context)
    if user is None:
        return
    query = update.callback_query
    await press_done(update)
    text, markup = await _page(context, t, OLDER.one(query.data))
    await query.message.reply_text(text, reply_markup=markup)


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("logboek", audit_log),
            OLDER.handler(older),
        ]
    )
