"""/vragen and the buttons under a question's card: answer, ask for more, forward (to a colleague
or a topic), close.

Every press is checked on the server: the question service says whether this person may act on
this question (its assignee, the assignee's backup, or a moderator); anything else gets the
common stale-button answer."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ConversationHandler

from bot.i18n import Translator, translator
from bot.services.initiatives import new_draft_key
from bot.services.questions import MESSAGE_MAX
from handlers.callbacks import Button
from handlers.civil_servants.shared import reprompt, serving, typed
from handlers.common import (
    conversation,
    keyboard,
    press_done,
    refuse_press,
    speaker,
    text_step,
)
from handlers.context import BotApplication, BotContext
from handlers.dispatch import (
    CARDS_SHOWN,
    card_buttons,
    card_text,
    question_values,
    report_move,
)
from handlers.steps import cancel_with, closing, otherwise
from models import User

WRITING, PREVIEW = 120, 121
WRITE = "cs_write"  # user_data: the answer or request being written, and its key

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
# Under the preview of an answer or a request for more information: the question's id and
# which version of the words it shows (an older preview's buttons are refused).
SEND = Button("cs:send", int, int)
REWRITE = Button("cs:rewrite", int, int)
DISCARD = Button("cs:discard", int, int)


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
        await refuse_press(update, context)
        return ConversationHandler.END
    assert question is not None
    if not question.status.is_open or question.resident_id is None:
        reason = "gone" if question.resident_id is None else "closed"
        await query.answer(t(f"cs.refused_{reason}"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    # The key goes with the words when they are sent: a second Versturen sends nothing.
    context.user_data[WRITE] = {
        "action": "ans" if answering else "info",
        "question": question.id,
        "key": new_draft_key(),
    }
    key = "cs.write_answer" if answering else "cs.write_info"
    await query.message.reply_text(t(key, number=question.number))
    return WRITING


async def got_writing(update: Update, context: BotContext) -> int:
    """The typed words (the first version or a new one): shown as the resident will get
    them, with Versturen, Aanpassen and Annuleren."""
    user, t = await speaker(update, context)
    text = await typed(update, t, MESSAGE_MAX)
    if text is None:
        return WRITING
    pending = context.user_data.get(WRITE) or {}
    if user is None or not pending:
        context.user_data.pop(WRITE, None)
        await update.effective_message.reply_text(t("common.stale_button"))
        return ConversationHandler.END
    preview = await _as_the_resident_sees_it(context, user, pending, text)
    if preview is None:  # no longer theirs, or the resident is gone
        context.user_data.pop(WRITE, None)
        await update.effective_message.reply_text(t("common.stale_button"))
        return ConversationHandler.END
    version = pending.get("version", 0) + 1
    context.user_data[WRITE] = {**pending, "text": text, "version": version}
    shown = (pending["question"], version)
    header = "cs.preview_answer" if pending["action"] == "ans" else "cs.preview_info"
    await update.effective_message.reply_text(
        "\n\n".join((t(header), preview)),
        reply_markup=keyboard(
            [
                [(t("cs.button_send"), SEND.build(*shown))],
                [
                    (t("cs.button_rewrite"), REWRITE.build(*shown)),
                    (t("cs.button_discard"), DISCARD.build(*shown)),
                ],
            ]
        ),
    )
    return PREVIEW


async def _as_the_resident_sees_it(
    context: BotContext, user: User, pending: dict[str, Any], text: str
) -> str | None:
    """The message the resident will get, in their language: the same template and values
    as the one handlers/dispatch.py sends."""
    questions = context.services.questions
    question = await questions.get(pending["question"])
    signature = await questions.signature(pending["question"], user)
    if question is None or signature is None or question.resident_id is None:
        return None
    resident = await context.services.users.by_id(question.resident_id)
    if resident is None:
        return None
    rt = translator(resident.language)
    values = {**question_values(context, rt, question), **signature}
    if pending["action"] == "ans":
        return rt("vraag.answer_to_resident", **values, answer=text)
    return rt("vraag.info_to_resident", **values, request=text)


async def _preview_pressed(
    update: Update, context: BotContext, button: Button
) -> dict[str, Any] | None:
    """The draft a preview button is for; None (after the stale answer) for any other press:
    a preview shown before, or forged."""
    pending = context.user_data.get(WRITE)
    shown = button.parse(update.callback_query.data)
    if (
        not pending
        or "text" not in pending
        or shown
        != (
            pending.get("question"),
            pending.get("version"),
        )
    ):
        await refuse_press(update, context)
        return None
    return pending


async def send_writing(update: Update, context: BotContext) -> int | None:
    """Versturen: the words go, once; a second press finds nothing to send."""
    pending = await _preview_pressed(update, context, SEND)
    if pending is None:
        return None
    context.user_data.pop(WRITE, None)
    user, t = await speaker(update, context)
    if user is None:
        await refuse_press(update, context)
        return ConversationHandler.END
    questions = context.services.questions
    move = questions.answer if pending["action"] == "ans" else questions.request_info
    outcome = await move(pending["question"], user, pending["text"], once=pending["key"])
    sent = "cs.answer_sent" if pending["action"] == "ans" else "cs.info_sent"
    await report_move(update, context, t, outcome, sent)
    return ConversationHandler.END


async def rewrite(update: Update, context: BotContext) -> int | None:
    """Aanpassen: type it again; the new version gets a preview of its own."""
    pending = await _preview_pressed(update, context, REWRITE)
    if pending is None:
        return None
    _, t = await speaker(update, context)
    await press_done(update)
    await update.effective_message.reply_text(t("cs.write_again"))
    return WRITING


async def discard(update: Update, context: BotContext) -> int | None:
    pending = await _preview_pressed(update, context, DISCARD)
    if pending is None:
        return None
    return await writing_cancel(update, context)


# /annuleer, or Annuleren under the preview: the words are not sent.
writing_cancel = closing("cs.cancelled", WRITE)


def writing_conversation() -> ConversationHandler:
    return conversation(
        name="civil_servant_writing",
        persistent=True,
        entry_points=[ANSWER.handler(start_writing), INFO.handler(start_writing)],
        states={
            WRITING: [text_step(got_writing)],
            # Typed again instead of pressing Aanpassen: that is the new version.
            PREVIEW: [
                SEND.handler(send_writing),
                REWRITE.handler(rewrite),
                DISCARD.handler(discard),
                text_step(got_writing),
            ],
        },
        fallbacks=[
            cancel_with(writing_cancel),
            otherwise(reprompt),
        ],
    )


async def _may(update: Update, context: BotContext, question_id: int) -> tuple[bool, Translator]:
    user, t = await speaker(update, context)
    ok = user is not None and await context.services.questions.may_handle(user, question_id)
    if not ok:
        await refuse_press(update, context)
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
