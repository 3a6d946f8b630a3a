"""/geleerd for moderators: what routing learned from people's topic choices, and undo.

The examples are stored and used by bot/services/routing_examples.py; this shows the latest
ones with the words of their question (while it has them), and a button per example to forget
it, which the audit log records.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.i18n import Markup, Translator
from bot.services.text_input import excerpt
from handlers.callbacks import Button
from handlers.common import keyboard, moderator, refuse_press
from handlers.context import BotApplication, BotContext
from handlers.moderators.shared import page_command

SHOWN = 10
TEXT_MAX = 80

FORGET = Button("geleerd:forget", int)  # the example's id


async def _page(context: BotContext, t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
    examples = context.services.questions.examples
    questions = context.services.questions
    per_topic = await examples.per_topic()
    if not per_topic:
        return t("geleerd.empty"), None
    tz = context.config.municipality.tz
    topics = " · ".join(
        t("geleerd.topic_count", topic=questions.topic_name(key, t.language) or key, count=n)
        for key, n in per_topic.most_common()
    )
    # Rendered above, values escaped: not escaped a second time.
    lines = [t.plural("geleerd.header", per_topic.total(), topics=Markup(topics))]
    agreement = examples.agreement()
    if agreement is not None:
        lines.append(
            t(
                "geleerd.agreement",
                examples=agreement.examples,
                with_examples=round(100 * agreement.with_examples),
                without=round(100 * agreement.without),
            )
        )
    recent = await examples.recent(SHOWN)
    lines.append(t("geleerd.recent"))
    for learned in recent:
        lines.append(
            t(
                "geleerd.line",
                number=learned.id,
                when=learned.created_at.astimezone(tz).strftime("%d-%m %H:%M"),
                topic=questions.topic_name(learned.topic_key, t.language) or learned.topic_key,
                source=t(f"geleerd.source_{learned.source.value}"),
                question=learned.question_number or "—",
                text=excerpt(learned.text, TEXT_MAX) if learned.text else t("geleerd.no_words"),
            )
        )
    rows = [[(t("geleerd.forget", number=e.id), FORGET.build(e.id))] for e in recent]
    return "\n".join(lines), keyboard(rows)


# /geleerd: the examples per topic, the latest with an undo button each.
learned = page_command(_page)


async def forget(update: Update, context: BotContext) -> None:
    """Undo one example: routing no longer uses it; the list is shown again without it."""
    user, t = await moderator(update, context)
    if user is None:
        return
    query = update.callback_query
    gone = await context.services.questions.examples.forget(FORGET.one(query.data), user.id)
    if gone is None:
        await refuse_press(update, context)
        return
    await query.answer(t("geleerd.forgotten", number=gone.id))
    text, markup = await _page(context, t)
    await query.edit_message_text(text, reply_markup=markup)


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("geleerd", learned),
            FORGET.handler(forget),
        ]
    )
