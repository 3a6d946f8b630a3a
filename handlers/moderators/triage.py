"""/triage: the questions no rule could route, each with a button to assign it to a civil
servant by hand."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from handlers.callbacks import Button
from handlers.common import keyboard, moderator
from handlers.context import BotApplication, BotContext
from handlers.dispatch import CARDS_SHOWN, assign_button, card_text, report_move

ASSIGN = Button("mod:assign", int)  # the question (dispatch.assign_button offers it)
ASSIGN_TO = Button("mod:to", int, int)  # the question, the civil servant


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
            reply_markup=assign_button(t, question.id),
        )


async def choose_assignee(update: Update, context: BotContext) -> None:
    user, t = await moderator(update, context)
    if user is None:
        return
    question_id = ASSIGN.one(update.callback_query.data)
    servants = await context.services.civil_servants.all()
    rows = [[(f"{s.name} ({s.department})", ASSIGN_TO.build(question_id, s.id))] for s in servants]
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        t("cs.assign_to_whom") if rows else t("cs.no_civil_servants"),
        reply_markup=keyboard(rows) if rows else None,
    )


async def assign(update: Update, context: BotContext) -> None:
    user, t = await moderator(update, context)
    if user is None:
        return
    question_id, servant_id = ASSIGN_TO.parse(update.callback_query.data)
    outcome = await context.services.questions.assign_by_moderator(question_id, user, servant_id)
    await report_move(update, context, t, outcome, "cs.assigned")


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("triage", triage),
            ASSIGN.handler(choose_assignee),
            ASSIGN_TO.handler(assign),
        ]
    )
