"""/vragen and the buttons under a question's card: answer, ask for more, forward (to a colleague
or a topic), close.

Every press is checked on the server: the question service says whether this person may act on
this question (its assignee, the assignee's backup, or a moderator); anything else gets the
common stale-button answer."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from bot.i18n import Translator
from bot.services.questions import MESSAGE_MAX
from handlers.callbacks import Button
from handlers.civil_servants.shared import reprompt, serving, typed
from handlers.common import (
    NEW_MESSAGE,
    conversation,
    keyboard,
    refuse_press,
    speaker,
    text_step,
)
from handlers.context import BotApplication, BotContext
from handlers.dispatch import CARDS_SHOWN, card_buttons, card_text, report_move

WRITING = 120

# Under a question's card (handlers/dispatch.py builds it), each with the question's id.
ANSWER = Button("cs:ans", int)
INFO = Button("cs:info", int)
FORWARD = Button("cs:fwd", int)
CLOSE = Button("cs:close", int)
# Forwarding: to a colleague; or a main topic, then one of its subtopics (or the main topic).
TO_COLLEAGUE = Button("cs:to", int, int)  # question, civil servant
TOPICS = Button("cs:tt", int)  # question: the main topics
SUBTOPICS = Button("cs:tt", int, int)  # question, main topic's place in the taxonomy
TO_TOPIC = Button("cs:tf", int, int)  # question, topic's place in the taxonomy


async def my_questions(update: Update, context: BotContext) -> None:
    """/vragen: the open questions with this civil servant, each with its buttons."""
    servant, t = await serving(update, context)
    if servant is None:
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
    answering = ANSWER.parse(query.data) is not None
    number = (ANSWER if answering else INFO).one(query.data)
    question = await context.services.questions.get(number)
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
    context.user_data["cs_write"] = {
        "action": "ans" if answering else "info",
        "question": question.id,
    }
    key = "cs.write_answer" if answering else "cs.write_info"
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
        entry_points=[ANSWER.handler(start_writing), INFO.handler(start_writing)],
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
    question_id = FORWARD.one(query.data)
    ok, t = await _may(update, context, question_id)
    if not ok:
        return
    question = await context.services.questions.get(question_id)
    assert question is not None
    colleagues = [
        s for s in await context.services.civil_servants.all() if s.id != question.assignee_id
    ]
    rows = [
        [(f"{s.name} ({s.department})", TO_COLLEAGUE.build(question_id, s.id))] for s in colleagues
    ]
    rows.append([(t("cs.forward_topic"), TOPICS.build(question_id))])
    await query.answer()
    await query.message.reply_text(t("cs.forward_where"), reply_markup=keyboard(rows))


async def forward_to_colleague(update: Update, context: BotContext) -> None:
    question_id, servant_id = TO_COLLEAGUE.parse(update.callback_query.data)
    user, t = await speaker(update, context)
    outcome = await context.services.questions.forward(question_id, user, servant_id=servant_id)
    await report_move(update, context, t, outcome, "cs.forwarded")


async def browse_topics(update: Update, context: BotContext) -> None:
    """The main topics to forward the question to."""
    question_id = TOPICS.one(update.callback_query.data)
    ok, t = await _may(update, context, question_id)
    if not ok:
        return
    topics = context.services.questions.taxonomy.topics
    rows = [
        [(topic.name(t.language), SUBTOPICS.build(question_id, i))]
        for i, topic in enumerate(topics)
        if topic.is_main
    ]
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        t("cs.forward_which_topic"), reply_markup=keyboard(rows)
    )


async def browse_subtopics(update: Update, context: BotContext) -> None:
    """A main topic and its subtopics to forward the question to."""
    question_id, index = SUBTOPICS.parse(update.callback_query.data)
    ok, t = await _may(update, context, question_id)
    if not ok:
        return
    topics = context.services.questions.taxonomy.topics
    if index >= len(topics) or not topics[index].is_main:
        await refuse_press(update, context)
        return
    main = topics[index]
    general = t("cs.topic_general", topic=main.name(t.language))
    rows = [[(general, TO_TOPIC.build(question_id, index))]]
    rows += [
        [(topic.name(t.language), TO_TOPIC.build(question_id, i))]
        for i, topic in enumerate(topics)
        if topic.parent == main.key
    ]
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        t("cs.forward_which_topic"), reply_markup=keyboard(rows)
    )


async def forward_to_topic(update: Update, context: BotContext) -> None:
    question_id, index = TO_TOPIC.parse(update.callback_query.data)
    topics = context.services.questions.taxonomy.topics
    if index >= len(topics):
        await refuse_press(update, context)
        return
    user, t = await speaker(update, context)
    outcome = await context.services.questions.forward(
        question_id, user, topic_key=topics[index].key
    )
    key = "cs.forwarded" if outcome.assignee is not None else "cs.forwarded_triage"
    await report_move(update, context, t, outcome, key)


async def close(update: Update, context: BotContext) -> None:
    user, t = await speaker(update, context)
    if user is None:
        await refuse_press(update, context)
        return
    outcome = await context.services.questions.close(CLOSE.one(update.callback_query.data), user)
    await report_move(update, context, t, outcome, "cs.closed")


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            writing_conversation(),
            CommandHandler("vragen", my_questions),
            FORWARD.handler(choose_forward),
            TO_COLLEAGUE.handler(forward_to_colleague),
            TOPICS.handler(browse_topics),
            SUBTOPICS.handler(browse_subtopics),
            TO_TOPIC.handler(forward_to_topic),
            CLOSE.handler(close),
        ]
    )
