"""/privacy: what the bot keeps and why, and a copy of all of it as a file."""

from __future__ import annotations

import json

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.app import BotApplication, BotContext
from handlers.common import keyboard, speaker


async def privacy(update: Update, context: BotContext) -> None:
    """Say what is stored, why, for how long, and offer the download."""
    user, t = await speaker(update, context)
    markup = keyboard([[(t("privacy.button_export"), "privacy:export")]]) if user else None
    await update.effective_message.reply_text(
        t("privacy.text", municipality=context.config.municipality.name), reply_markup=markup
    )


async def export(update: Update, context: BotContext) -> None:
    """Everything the bot keeps about the person who pressed, as a JSON file in the chat."""
    query = update.callback_query
    user, t = await speaker(update, context)
    data = await context.services.privacy.export(update.effective_user.id) if user else None
    if data is None:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await query.answer()
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await query.message.reply_document(
        InputFile(content, filename="burgerbeest-gegevens.json"),
        caption=t("privacy.export_caption"),
    )


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("privacy", privacy),
            CallbackQueryHandler(export, pattern=r"^privacy:export$"),
        ]
    )
