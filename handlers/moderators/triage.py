"""/triage: the questions no rule could route, each with a button to assign it to a civil
servant by hand."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from handlers.common import callback_numbers, keyboard, moderator, refuse_press
from handlers.context import BotApplication, BotContext
from handlers.dispatch import CARDS_SHOWN, card_text, report_move


async def triage(update: Update, context: BotContext) -> None:
    """/triage: the questions no rule could route, each with its assign button."""
    user, t = await moderator(update, context)
    if user is None:
        return
    queue = await context.services.questions.triage_queue()
    await update.effective_message.reply_text(t.plural("cs.triage_queue", len(queue)))
    for question in queue[:CARDS_SHOWN]:
        await update.effective_message.reply_text(
            card_text(context, t, question, False),
            reply_markup=keyboard([[(t("vraag.button_assign"), f"mod:assign:{question.id}")]]),
        )


async def choose_assignee(update: Update, context: BotContext) -> None:
    user, t = await moderator(update, context)
    if user is None:
        return
    ids = callback_numbers(update.callback_query.data)
    if ids is None or len(ids) != 1:
        await refuse_press(update, context)
        return
    servants = await context.services.civil_servants.all()
    rows = [[(f"{s.name} ({s.department})", f"mod:to:{ids[0]}:{s.id}")] for s in servants]
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        t("cs.assign_to_whom") if rows else t("cs.no_civil_servants"),
        reply_markup=keyboard(rows) if rows else None,
    )


async def assign(update: Update, context: BotContext) -> None:
    user, t = await moderator(update, context)
    if user is None:
        return
    ids = callback_numbers(update.callback_query.data)
    if ids is None or len(ids) != 2:
        await refuse_press(update, context)
        return
    outcome = await context.services.questions.assign_by_moderator(ids[0], user, ids[1])
    await report_move(update, context, t, outcome, "cs.assigned")


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("triage", triage),
            CallbackQueryHandler(choose_assignee, pattern=r"^mod:assign:"),
            CallbackQueryHandler(assign, pattern=r"^mod:to:"),
        ]
    )
