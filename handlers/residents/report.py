"""Residents report an initiative to the moderators: `/meld <nummer> [reden]`, or the report
button under a `/zoek` page (pick the initiative, confirm). Enough reports by different
residents hide it for review (bot/services/moderation.py); the moderators are told then."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.i18n import Translator, translator
from bot.services.moderation import REASON_MAX, ReportResult
from bot.services.text_input import clean
from handlers.callbacks import Button
from handlers.common import (
    clear_buttons,
    keyboard,
    number_argument,
    press_done,
    requires_resident,
    send_to,
)
from handlers.context import BotApplication, BotContext
from models import User, Visibility

# An initiative's id: ask to confirm (the button under a /zoek page, handlers/residents/search.py),
# report it; or leave it.
REPORT = Button("meld", ("ask", "yes"), int)
LEAVE = Button("meld:no")


async def _report(
    context: BotContext, user: User, t: Translator, number: int, reason: str | None
) -> str:
    """Record the report; tell the moderators when it hid the initiative. The answer for the
    resident."""
    result = await context.services.moderation.report(user.id, number, reason)
    if result is ReportResult.HIDDEN:
        for reviewer in await context.services.civil_servants.moderators():
            reviewer_t = translator(reviewer.language)
            await send_to(context, reviewer, reviewer_t("mod.hidden_notice", number=number))
    return t(f"mod.report_{result.value}", number=number)


@requires_resident
async def report_command(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """/meld <nummer> [reden]."""
    number = number_argument(context)
    if number is None:
        await update.effective_message.reply_text(t("mod.report_usage"))
        return
    reason = clean(" ".join((context.args or [])[1:]))[:REASON_MAX] or None
    answer = await _report(context, user, t, number, reason)
    await update.effective_message.reply_text(answer)


@requires_resident
async def leave(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """ "No, leave it": nothing is reported."""
    await press_done(update)
    await update.effective_message.reply_text(t("report.not_sent"))


@requires_resident
async def report_button(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """ "ask" asks to confirm, "yes" reports."""
    query = update.callback_query
    step, number = REPORT.parse(query.data)
    initiative = await context.services.initiatives.get(number)
    if initiative is None or initiative.visibility is not Visibility.VISIBLE:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await query.answer()
    if step == "ask":
        await query.message.reply_text(
            t("report.confirm", number=initiative.id, title=initiative.title),
            reply_markup=keyboard(
                [
                    [(t("report.button_yes"), REPORT.build("yes", initiative.id))],
                    [(t("report.button_no"), LEAVE.build())],
                ]
            ),
        )
        return
    await clear_buttons(update)
    await query.message.reply_text(await _report(context, user, t, initiative.id, None))


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("meld", report_command),
            REPORT.handler(report_button),
            LEAVE.handler(leave),
        ]
    )
