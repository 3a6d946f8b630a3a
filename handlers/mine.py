"""/mijn: a resident's own initiatives with their status."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.app import BotApplication, BotContext
from bot.i18n import Translator
from handlers.common import requires_resident
from models import User

SHOWN = 15  # keeps the message well under Telegram's 4,096 characters with long titles


@requires_resident
async def mine(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """List the newest initiatives of the resident, with status and date."""
    mine = await context.services.initiatives.of_author(user.id, limit=SHOWN)
    if mine.total == 0:
        await update.effective_message.reply_text(t("mijn.empty"))
        return
    tz = context.config.municipality.tz
    lines = [t.plural("mijn.header", mine.total)]
    lines += [
        t(
            "mijn.item",
            number=item.id,
            title=item.title,
            kern=item.kern,
            status=t(f"status.{item.status.value}"),
            date=item.created_at.astimezone(tz).strftime("%d-%m-%Y"),
        )
        for item in mine.latest
    ]
    if mine.total > len(mine.latest):
        lines.append(t.plural("mijn.more", mine.total - len(mine.latest)))
    await update.effective_message.reply_text("\n\n".join(lines))


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("mijn", mine))
