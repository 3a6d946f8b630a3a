"""/status <nummer>: a moderator moves any initiative on, with the same status buttons as the
initiator gets under /mijn (handlers/residents/mine.py, which takes the press)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from handlers.common import moderator, number_argument
from handlers.context import BotApplication, BotContext
from handlers.residents.mine import offer_statuses


async def status_command(update: Update, context: BotContext) -> None:
    """/status <nummer>, for moderators: move any initiative on."""
    user, t = await moderator(update, context)
    if user is None:
        return
    number = number_argument(context)
    initiative = await context.services.initiatives.get(number) if number is not None else None
    if initiative is None:
        await update.effective_message.reply_text(t("mijn.status_usage"))
        return
    await offer_statuses(update.effective_message, t, initiative)


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("status", status_command))
