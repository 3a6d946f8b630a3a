"""/vragen and the buttons under a question's card: answer, ask for more, forward (to a colleague
or a topic), close.

Every press is checked on the server: the question service says whether this person may act on
this question (its assignee, the assignee's backup, or a moderator); anything else gets the
common stale-button answer."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import Translator
from bot.services.questions import MESSAGE_MAX
from handlers.civil_servants.shared import reprompt, servant_of, typed
from handlers.common import (
    NEW_MESSAGE,
    callback_numbers,
    conversation,
    keyboard,
    refuse_press,
    speaker,
    text_step,
)
from handlers.context import BotApplication, BotContext
from handlers.dispatch import CARDS_SHOWN, card_buttons, card_text, report_move

WRITING = 120


async def my_questions(update: Update, context: BotContext) -> None:
    """/vragen: the open questions with this civil servant, each with its buttons."""
    user, t = await speaker(update, context)
    servant = await servant_of(context, user)
    if servant is None:
        await update.effective_message.reply_text(t("cs.only_civil_servants"))
        return
    questions = await context.services.questions.open_for(servant.id)
    await update.effective_message.reply_text(t.plural("cs.open_questions", len(questions)))
    for question in questions[:CARDS_SHOWN]:
        await update.effective_message.reply_text(
            card_text(context, t, question, False), reply_markup=card_buttons(t, question.id)
        )


async def start_writing(update: Update, context: BotContext) -> int:
    """Answer or ask for more: check the right to, then wait for the text."""
    query = update.callback_query
    user, t = await speaker(update, context)
    ids = callback_numbers(query.data)
    action = query.data.split(":")[1]
    question = await context.services.questions.get(ids[0]) if ids else None
    allowed = (
        user is not None
        and question is not None
        and await context.services.questions.may_handle(user, question.id)
    )
    if not allowed:
        await query.answer(t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    assert question is not None
    if not question.status.is_open or question.resident_id is None:
        reason = "gone" if question.resident_id is None else "closed"
        await query.answer(t(f"cs.refused_{reason}"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    context.user_data["cs_write"] = {"action": action, "question": question.id}
    key = "cs.write_answer" if action == "ans" else "cs.write_info"
    await query.message.reply_text(t(key, number=question.number))
    return WRITING


async def got_writing(update: Update, context: BotContext) -> int:
    user, t = await speaker(update, context)
    text = await typed(update, t, MESSAGE_MAX)
    if text is None:
        return WRITING
    pending = context.user_data.pop("cs_write", None) or {}
    questions = context.services.questions
    if user is None or not pending:
        await update.effective_message.reply_text(t("common.stale_button"))
        return ConversationHandler.END
    if pending.get("action") == "ans":
        outcome = await questions.answer(pending["question"], user, text)
        await report_move(update, context, t, outcome, "cs.answer_sent")
    else:
        outcome = await questions.request_info(pending["question"], user, text)
        await report_move(update, context, t, outcome, "cs.info_sent")
    return ConversationHandler.END


async def writing_cancel(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    context.user_data.pop("cs_write", None)
    await update.effective_message.reply_text(t("cs.cancelled"))
    return ConversationHandler.END


def writing_conversation() -> ConversationHandler:
    return conversation(
        name="civil_servant_writing",
        persistent=True,
        entry_points=[CallbackQueryHandler(start_writing, pattern=r"^cs:(ans|info):\d+$")],
        states={WRITING: [text_step(got_writing)]},
        fallbacks=[
            CommandHandler("annuleer", writing_cancel),
            MessageHandler(NEW_MESSAGE & ~filters.COMMAND, reprompt),
        ],
    )


async def _may(update: Update, context: BotContext, question_id: int) -> tuple[bool, Translator]:
    user, t = await speaker(update, context)
    ok = user is not None and await context.services.questions.may_handle(user, question_id)
    if not ok:
        await update.callback_query.answer(t("common.stale_button"), show_alert=True)
    return ok, t


async def choose_forward(update: Update, context: BotContext) -> None:
    """Forward: to a colleague, or to another topic."""
    query = update.callback_query
    ids = callback_numbers(query.data)
    if ids is None or len(ids) != 1:
        await refuse_press(update, context)
        return
    ok, t = await _may(update, context, ids[0])
    if not ok:
        return
    question = await context.services.questions.get(ids[0])
    assert question is not None
    colleagues = [
        s for s in await context.services.civil_servants.all() if s.id != question.assignee_id
    ]
    rows = [[(f"{s.name} ({s.department})", f"cs:to:{ids[0]}:{s.id}")] for s in colleagues]
    rows.append([(t("cs.forward_topic"), f"cs:tt:{ids[0]}")])
    await query.answer()
    await query.message.reply_text(t("cs.forward_where"), reply_markup=keyboard(rows))


async def forward_to_colleague(update: Update, context: BotContext) -> None:
    ids = callback_numbers(update.callback_query.data)
    if ids is None or len(ids) != 2:
        await refuse_press(update, context)
        return
    user, t = await speaker(update, context)
    outcome = await context.services.questions.forward(ids[0], user, servant_id=ids[1])
    await report_move(update, context, t, outcome, "cs.forwarded")


async def browse_topics(update: Update, context: BotContext) -> None:
    """cs:tt:<q>: the main topics; cs:tt:<q>:<i>: a main topic and its subtopics."""
    query = update.callback_query
    ids = callback_numbers(query.data)
    if ids is None or len(ids) not in (1, 2):
        await refuse_press(update, context)
        return
    ok, t = await _may(update, context, ids[0])
    if not ok:
        return
    topics = context.services.questions.taxonomy.topics
    if len(ids) == 1:
        rows = [
            [(topic.name(t.language), f"cs:tt:{ids[0]}:{i}")]
            for i, topic in enumerate(topics)
            if topic.is_main
        ]
    elif ids[1] < len(topics) and topics[ids[1]].is_main:
        main = topics[ids[1]]
        rows = [[(t("cs.topic_general", topic=main.name(t.language)), f"cs:tf:{ids[0]}:{ids[1]}")]]
        rows += [
            [(topic.name(t.language), f"cs:tf:{ids[0]}:{i}")]
            for i, topic in enumerate(topics)
            if topic.parent == main.key
        ]
    else:
        await refuse_press(update, context)
        return
    await query.answer()
    await query.message.reply_text(t("cs.forward_which_topic"), reply_markup=keyboard(rows))


async def forward_to_topic(update: Update, context: BotContext) -> None:
    ids = callback_numbers(update.callback_query.data)
    topics = context.services.questions.taxonomy.topics
    if ids is None or len(ids) != 2 or ids[1] >= len(topics):
        await refuse_press(update, context)
        return
    user, t = await speaker(update, context)
    outcome = await context.services.questions.forward(ids[0], user, topic_key=topics[ids[1]].key)
    key = "cs.forwarded" if outcome.assignee is not None else "cs.forwarded_triage"
    await report_move(update, context, t, outcome, key)


async def close(update: Update, context: BotContext) -> None:
    ids = callback_numbers(update.callback_query.data)
    user, t = await speaker(update, context)
    if ids is None or len(ids) != 1 or user is None:
        await refuse_press(update, context)
        return
    outcome = await context.services.questions.close(ids[0], user)
    await report_move(update, context, t, outcome, "cs.closed")


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            writing_conversation(),
            CommandHandler("vragen", my_questions),
            CallbackQueryHandler(choose_forward, pattern=r"^cs:fwd:"),
            CallbackQueryHandler(forward_to_colleague, pattern=r"^cs:to:"),
            CallbackQueryHandler(browse_topics, pattern=r"^cs:tt:"),
            CallbackQueryHandler(forward_to_topic, pattern=r"^cs:tf:"),
            CallbackQueryHandler(close, pattern=r"^cs:close:"),
        ]
    )
