"""/afwezig <datum>: a civil servant is away up to and including that day (their backup takes
their questions meanwhile); /afwezig terug: back."""

from __future__ import annotations

import re
from datetime import date

from telegram import Update
from telegram.ext import CommandHandler

from handlers.civil_servants.shared import serving
from handlers.context import BotApplication, BotContext

_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$|^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(text: str) -> date | None:
    """dd-mm-jjjj or jjjj-mm-dd; None if neither or not a real date."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    d, m, y, y2, m2, d2 = match.groups()
    try:
        return date(int(y), int(m), int(d)) if y else date(int(y2), int(m2), int(d2))
    except ValueError:
        return None


async def away(update: Update, context: BotContext) -> None:
    """/afwezig <datum>: away up to and including that day; /afwezig terug: back."""
    servant, t = await serving(update, context)
    if servant is None:
        return
    argument = " ".join(context.args or []).strip().lower()
    if argument in ("terug", "back", "uit", "off"):
        await context.services.civil_servants.set_away(servant.id, None)
        await update.effective_message.reply_text(t("cs.back"))
        return
    until = parse_date(argument)
    today = context.services.questions.calendar.local_date(update.effective_message.date)
    if until is None or until < today:
        await update.effective_message.reply_text(t("cs.away_usage"))
        return
    await context.services.civil_servants.set_away(servant.id, until)
    backup = (
        await context.services.civil_servants.get(servant.backup_id) if servant.backup_id else None
    )
    if backup is None:
        text = t("cs.away_set_no_backup", date=t.date(until))
    else:
        text = t("cs.away_set", date=t.date(until), backup=backup.name)
    await update.effective_message.reply_text(text)


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("afwezig", away))
