"""A poll as residents get it, and their answer: a press on one of its choices, or for an open
question "Antwoord geven" and then their answer typed. Once per resident; after the closing date
a press says it is closed. Also what the people who answered get when the result is shared.

The author's side (/peiling, /peilingen, the result) is handlers/moderators/polls.py; both poll
and result travel as broadcasts, sent by handlers/moderators/scheduled.py with the sender here.
"""

from __future__ import annotations

import contextlib
import html
import logging
from datetime import tzinfo

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ConversationHandler

from bot.i18n import Markup, Translator, translator
from bot.services import broadcasts as bc
from bot.services.delivery import Result
from bot.services.polls import OPEN_ANSWER_MAX, Answered, Check, Results
from bot.services.text_input import excerpt
from handlers.callbacks import Button
from handlers.common import (
    after_storing,
    conversation,
    keyboard,
    refuse_press,
    requires_resident,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.delivery import attempt
from handlers.moderators.scheduled import add_sender
from handlers.steps import cancel_with, closing, grid, otherwise, saying
from models import Broadcast, Poll, User

log = logging.getLogger(__name__)

CHOOSE = Button("poll:pick", int, int)  # poll id, the choice's index
WRITE = Button("poll:write", int)  # poll id: "Antwoord geven" under an open question

WRITING = 0
# How much of their earlier answer a resident is shown in a button's alert (Telegram: 200).
SHOWN = 120


# --- what residents receive ----------------------------------------------------------------


def poll_text(t: Translator, poll: Poll, municipality: str, tz: tzinfo) -> str:
    return t(
        "poll.message_open" if poll.is_open_question else "poll.message",
        municipality=municipality,
        question=poll.question,
        closes=t.moment(poll.closes_at, tz),
    )


def poll_keyboard(t: Translator, poll: Poll, chosen: int | None = None) -> InlineKeyboardMarkup:
    if poll.is_open_question:
        return keyboard([[(t("poll.button_write"), WRITE.build(poll.id))]])
    buttons = [
        (("✅ " if index == chosen else "") + label, CHOOSE.build(poll.id, index))
        for index, label in enumerate(poll.choices)
    ]
    # Two a row when they are short, so six choices fit a phone's screen.
    short = all(len(label) <= 16 for label in poll.choices)
    return keyboard(grid(buttons, 2 if short else 1))


def result_text(t: Translator, results: Results) -> str:
    """The short result for the people who answered."""
    poll = results.poll
    if poll.is_open_question:
        return t.plural("poll.result_open", results.answered, question=poll.question)
    lines = [
        t(
            "poll.result_line",
            label=label,
            count=count,
            share=round(100 * count / results.answered) if results.answered else 0,
        )
        for label, count in zip(results.labels, results.counts, strict=True)
    ]
    return t.plural(
        "poll.result", results.answered, question=poll.question, lines=Markup("\n".join(lines))
    )


async def poll_sender(application: BotApplication, broadcast: Broadcast) -> bc.Sender | None:
    """For handlers/moderators/scheduled.py: the sender of a broadcast that carries a poll or its
    result; None for an announcement."""
    services = application.bot_data["services"]
    carried = await services.polls.carried_by(broadcast.id)
    if carried is None:
        return None
    poll, is_result = carried
    bot = application.bot
    municipality = application.bot_data["config"].municipality
    if is_result:
        results = await services.polls.results(poll.id)

        async def send_result(message: bc.Message, recipient: bc.Recipient) -> Result:
            t = translator(recipient.language)
            return await attempt(
                bot.send_message(
                    recipient.telegram_id, result_text(t, results), parse_mode=ParseMode.HTML
                )
            )

        return send_result

    async def send_poll(message: bc.Message, recipient: bc.Recipient) -> Result:
        t = translator(recipient.language)
        return await attempt(
            bot.send_message(
                recipient.telegram_id,
                poll_text(t, poll, municipality.name, municipality.tz),
                parse_mode=ParseMode.HTML,
                reply_markup=poll_keyboard(t, poll),
            )
        )

    return send_poll


# --- answering -----------------------------------------------------------------------------


def _plain(text: str) -> str:
    """A button's answer is plain text, not HTML: the catalog's escaping undone."""
    return html.unescape(text)


@requires_resident
async def choose(update: Update, context: BotContext, user: User, t: Translator) -> None:
    poll_id, index = CHOOSE.parse(update.callback_query.data)
    answered = await context.services.polls.answer(poll_id, user.id, choice=index)
    if answered.check is Check.OK:
        await update.callback_query.answer(_plain(t("poll.thanks", answer=answered.answer)))
        # The choice marked, the buttons kept: a second press says it was answered.
        with contextlib.suppress(BadRequest):  # too old to edit: the answer counts all the same
            await update.callback_query.edit_message_reply_markup(
                reply_markup=poll_keyboard(t, answered.poll, chosen=index)
            )
        return
    await _refused(update, context, t, answered)


async def _refused(update: Update, context: BotContext, t: Translator, answered: Answered) -> None:
    query = update.callback_query
    if answered.check is Check.ALREADY:
        shown = excerpt(answered.answer or "", SHOWN)
        await query.answer(_plain(t("poll.already", answer=shown)), show_alert=True)
    elif answered.check is Check.CLOSED:
        await query.answer(t("poll.closed"), show_alert=True)
    else:  # not theirs, no such poll or choice: an old keyboard or a forged press
        log.info(
            "refused poll press %r from user %s (%s)",
            (query.data or "")[:64],
            update.effective_user.id,
            answered.check,
        )
        await refuse_press(update, context)


@requires_resident
async def start_writing(update: Update, context: BotContext, user: User, t: Translator) -> int:
    poll_id = WRITE.one(update.callback_query.data)
    answered = await context.services.polls.may_answer(poll_id, user.id)
    if answered.check is not Check.OK:
        await _refused(update, context, t, answered)
        return ConversationHandler.END
    await update.callback_query.answer()
    context.user_data["poll_writing"] = poll_id
    await update.effective_message.reply_text(
        t("poll.ask_answer", question=answered.poll.question, limit=OPEN_ANSWER_MAX)
    )
    return WRITING


@requires_resident
async def written(update: Update, context: BotContext, user: User, t: Translator) -> int:
    text = await typed_answer(
        update, t, OPEN_ANSWER_MAX, empty="poll.empty", too_long="poll.too_long"
    )
    if text is None:
        return WRITING
    poll_id = context.user_data.pop("poll_writing", None) or 0
    answered = await context.services.polls.answer(poll_id, user.id, text=text)
    async with after_storing(update, context):
        key = {
            Check.OK: "poll.answer_saved",
            Check.ALREADY: "poll.already_written",
            Check.CLOSED: "poll.closed",
        }.get(answered.check, "common.stale_button")
        await update.effective_message.reply_text(t(key))
    return ConversationHandler.END


cancel_writing = closing("poll.write_cancelled", "poll_writing")
reprompt = saying("poll.reprompt")


def writing_conversation() -> ConversationHandler:
    return conversation(
        name="poll_answer",
        persistent=True,
        # Another poll's "Antwoord geven" while typing: that poll's answer is what they type.
        allow_reentry=True,
        entry_points=[WRITE.handler(start_writing)],
        states={WRITING: [text_step(written)]},
        fallbacks=[
            cancel_with(cancel_writing),
            otherwise(reprompt),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handlers([writing_conversation(), CHOOSE.handler(choose)])
    add_sender(application, poll_sender)
