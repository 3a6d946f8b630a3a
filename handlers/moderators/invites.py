"""/uitnodiging [handle]: a moderator makes an invite code for a civil servant, shown once;
the civil servant joins with /aanmelden <code> (handlers/civil_servants/profile.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from handlers.common import moderator
from handlers.context import BotApplication, BotContext
from models import Role


async def invite(update: Update, context: BotContext) -> None:
    """/uitnodiging [handle]: an invite code for a civil servant, shown once."""
    user, t = await moderator(update, context)
    if user is None:
        return
    handle = " ".join(context.args or []).strip()[:64] or None
    code, row = await context.services.invites.create(
        Role.CIVIL_SERVANT, handle=handle, created_by_id=user.id
    )
    tz = context.config.municipality.tz
    await update.effective_message.reply_text(
        t("cs.invite_created", code=code, date=t.date(row.expires_at, tz))
    )


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("uitnodiging", invite))
