"""/peiling: a moderator or civil servant asks residents early what they think. The question, its
choices (2–6 buttons) or an open answer, the audience (everyone, a kern, the followers of a
topic), the closing date, whether the people who answered get the result; then a confirmation
with the audience's size. /peilingen lists one's polls with their result; when a poll closes its
author gets the result by itself: a chart, or the open answers without names.

Sending is the announcements' (handlers/moderators/scheduled.py sends the poll's broadcast with
the sender in handlers/residents/polls.py); the closing job is `close_tick` (handlers/jobs.py).
Every step and button checks that the person is still staff; the result only goes to its author.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.chart import poll_png
from bot.i18n import Markup, Translator, translator
from bot.services import broadcasts as bc
from bot.services.broadcasts import Audience
from bot.services.polls import (
    CHOICE_MAX,
    CHOICES_MAX,
    CHOICES_MIN,
    QUESTION_MAX,
    Results,
)
from bot.services.text_input import excerpt
from handlers.callbacks import Button, any_press
from handlers.common import (
    after_storing,
    conversation,
    keyboard,
    press_done,
    refuse_outsider,
    refuse_press,
    speaker,
    stale_button,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.moderators.announce import parse_when
from handlers.moderators.scheduled import broadcast_tick
from handlers.moderators.shared import Moment, audience_choices
from handlers.steps import (
    DraftSlot,
    cancel_with,
    closing,
    grid,
    kern_keyboard,
    otherwise,
    picked,
    saying,
)
from models import Role, User
from models.base import utcnow

log = logging.getLogger(__name__)

QUESTION, KIND, CHOICES, AUDIENCE, PICK, CLOSES, SHARE, CONFIRM = range(8)

KIND_PICK = Button("peil:kind", ("choice", "open"))
AUDIENCE_PICK = Button("peil:aud", (bc.EVERYONE, "kern", "topic"))
KERN_PICK = Button("peil:kern", int)  # the kern's place in the config's list
TOPIC_PICK = Button("peil:topic", int)  # the main topic's place in the taxonomy
SHARE_PICK = Button("peil:share", ("yes", "no"))
SEND = Button("peil:send")
DROP = Button("peil:drop")
RESULT = Button("peil:res", int)  # poll id, under /peilingen

# A poll is open for at most this long; its closing date is asked as announcements' times are.
OPEN_DAYS_MAX = 90
LISTED = 10
# The open answers in the author's message; all of them in a text file when they do not fit.
OPEN_SHOWN_CHARS = 3000
OPEN_ANSWER_SHOWN = 300


@dataclass
class PollDraft:
    question: str = ""
    choices: list[str] = field(default_factory=list)
    open: bool = False
    audience: dict[str, Any] | None = None
    closes_at: str | None = None  # ISO, aware
    share: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PollDraft:
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DRAFT = DraftSlot("poll_draft", PollDraft.from_dict)


async def poll_author(update: Update, context: BotContext) -> tuple[User | None, Translator]:
    """The moderator or civil servant behind the update; anyone else is refused (a press like
    a stale button, a message with one line)."""
    user, t = await speaker(update, context)
    civil_servants = context.services.civil_servants
    if user is None and civil_servants.is_configured_moderator(update.effective_user.id):
        user = await context.services.users.register(update.effective_user.id)
    if user is not None and (user.role is Role.CIVIL_SERVANT or civil_servants.is_moderator(user)):
        return user, t
    await refuse_outsider(update, context, t("poll.only_staff"))
    return None, t


# --- composing -----------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> int:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    DRAFT.forget(context)
    await update.effective_message.reply_text(t("poll.ask_question", limit=QUESTION_MAX))
    return QUESTION


async def got_question(update: Update, context: BotContext) -> int:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    question = await typed_answer(
        update, t, QUESTION_MAX, empty="poll.empty", too_long="poll.too_long"
    )
    if question is None:
        return QUESTION
    DRAFT.keep(context, PollDraft(question=question))
    await update.effective_message.reply_text(
        t("poll.ask_kind"),
        reply_markup=keyboard(
            [
                [(t("poll.kind_choice"), KIND_PICK.build("choice"))],
                [(t("poll.kind_open"), KIND_PICK.build("open"))],
            ]
        ),
    )
    return KIND


async def got_kind(update: Update, context: BotContext) -> int | None:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    draft = DRAFT.get(context)
    await press_done(update)
    if KIND_PICK.one(update.callback_query.data) == "open":
        draft.open, draft.choices = True, []
        DRAFT.keep(context, draft)
        return await _ask_audience(update, t)
    await update.effective_message.reply_text(
        t("poll.ask_choices", least=CHOICES_MIN, most=CHOICES_MAX, limit=CHOICE_MAX)
    )
    return CHOICES


async def got_choices(update: Update, context: BotContext) -> int:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    lines = [" ".join(line.split()) for line in (update.effective_message.text or "").split("\n")]
    choices = [line for line in lines if line]
    too_long = [c for c in choices if len(c) > CHOICE_MAX]
    if too_long:
        await update.effective_message.reply_text(
            t("poll.choice_too_long", choice=excerpt(too_long[0], 60), limit=CHOICE_MAX)
        )
        return CHOICES
    if not CHOICES_MIN <= len(choices) <= CHOICES_MAX or len(set(choices)) != len(choices):
        await update.effective_message.reply_text(
            t("poll.choices_count", least=CHOICES_MIN, most=CHOICES_MAX)
        )
        return CHOICES
    draft = DRAFT.get(context)
    draft.open, draft.choices = False, choices
    DRAFT.keep(context, draft)
    return await _ask_audience(update, t)


async def _ask_audience(update: Update, t: Translator) -> int:
    await update.effective_message.reply_text(
        t("poll.ask_audience"),
        reply_markup=keyboard(
            [
                [(t("poll.audience_everyone"), AUDIENCE_PICK.build(bc.EVERYONE))],
                [(t("poll.audience_kern"), AUDIENCE_PICK.build("kern"))],
                [(t("poll.audience_topic"), AUDIENCE_PICK.build("topic"))],
            ]
        ),
    )
    return AUDIENCE


async def got_audience(update: Update, context: BotContext) -> int:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    kind = AUDIENCE_PICK.one(update.callback_query.data)
    await press_done(update)
    if kind == bc.EVERYONE:
        return await _set_audience(update, context, t, Audience(bc.EVERYONE))
    if kind == "kern":
        await update.effective_message.reply_text(
            t("poll.ask_kern"),
            reply_markup=kern_keyboard(context.config.municipality.kernen, KERN_PICK),
        )
    else:
        topics = audience_choices(context, bc.TOPICS, t)
        buttons = [(label, TOPIC_PICK.build(i)) for i, (_, label) in enumerate(topics)]
        await update.effective_message.reply_text(
            t("poll.ask_topic"), reply_markup=keyboard(grid(buttons, 1))
        )
    return PICK


async def got_kern(update: Update, context: BotContext) -> int | None:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    kern = await picked(update, context, KERN_PICK, context.config.municipality.kernen)
    if kern is None:
        return None
    await press_done(update)
    return await _set_audience(update, context, t, Audience(bc.KERNEN, (kern,)))


async def got_topic(update: Update, context: BotContext) -> int | None:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    topic = await picked(update, context, TOPIC_PICK, audience_choices(context, bc.TOPICS, t))
    if topic is None:
        return None
    await press_done(update)
    return await _set_audience(update, context, t, Audience(bc.TOPICS, (topic[0],)))


async def _set_audience(
    update: Update, context: BotContext, t: Translator, audience: Audience
) -> int:
    draft = DRAFT.get(context)
    draft.audience = audience.to_json()
    DRAFT.keep(context, draft)
    await update.effective_message.reply_text(
        t("poll.ask_closes", example=CLOSES_AT.example(context), days=OPEN_DAYS_MAX)
    )
    return CLOSES


_DATE = re.compile(r"^\s*(?P<day>\d{1,2})[-/.](?P<month>\d{1,2})(?:[-/.](?P<year>\d{4}))?\s*$")


def parse_closing(text: str, now: datetime) -> datetime | None:
    """ "25-12-2026 17:00", "25-12 17:00", "17:00" (today) as for an announcement, or a date
    alone ("25-12-2026"), which means the end of that day; in `now`'s time zone."""
    moment = parse_when(text, now)
    if moment is not None:
        return moment
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return now.replace(
            year=int(match["year"] or now.year),
            month=int(match["month"]),
            day=int(match["day"]),
            hour=23,
            minute=59,
            second=0,
            microsecond=0,
        )
    except ValueError:
        return None


# The closing date: ahead, within OPEN_DAYS_MAX days; the example is a week from today.
CLOSES_AT = Moment(
    parse_closing,
    OPEN_DAYS_MAX,
    example_days=7,
    example_format="%d-%m-%Y",
    not_understood="poll.closes_not_understood",
    past="poll.closes_past",
    too_far="poll.closes_too_far",
)


async def got_closes(update: Update, context: BotContext) -> int:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    closes = await CLOSES_AT.typed(update, context, t)
    if closes is None:
        return CLOSES
    draft = DRAFT.get(context)
    draft.closes_at = closes.isoformat()
    DRAFT.keep(context, draft)
    await update.effective_message.reply_text(
        t("poll.ask_share"),
        reply_markup=keyboard(
            [
                [
                    (t("poll.share_yes"), SHARE_PICK.build("yes")),
                    (t("poll.share_no"), SHARE_PICK.build("no")),
                ]
            ]
        ),
    )
    return SHARE


async def got_share(update: Update, context: BotContext) -> int:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    draft = DRAFT.get(context)
    draft.share = SHARE_PICK.one(update.callback_query.data) == "yes"
    DRAFT.keep(context, draft)
    await press_done(update)
    audience = Audience.from_json(draft.audience)
    if audience is None or draft.closes_at is None:
        await update.effective_message.reply_text(t("poll.draft_gone"))
        DRAFT.forget(context)
        return ConversationHandler.END
    count = await context.services.broadcasts.count_audience(audience)
    await update.effective_message.reply_text(
        _summary(context, t, draft, audience, count),
        reply_markup=keyboard(
            [[(t("poll.button_send"), SEND.build())], [(t("poll.button_drop"), DROP.build())]]
        ),
    )
    return CONFIRM


def _summary(
    context: BotContext, t: Translator, draft: PollDraft, audience: Audience, count: int
) -> str:
    if draft.open:
        answers = t("poll.summary_open")
    else:
        answers = t("poll.summary_choices", choices=" · ".join(draft.choices))
    return t(
        "poll.summary",
        question=draft.question,
        answers=Markup(answers),
        closes=t.moment(datetime.fromisoformat(draft.closes_at), context.config.municipality.tz),
        share=Markup(t("poll.summary_share_yes" if draft.share else "poll.summary_share_no")),
        confirm=Markup(_to_whom(context, t, audience, count)),
    )


def _to_whom(context: BotContext, t: Translator, audience: Audience, count: int) -> str:
    """ "Naar 1.234 inwoners in IJmuiden. Versturen?" """
    number = format_decimal(count, locale=t.language)
    if audience.kind == bc.KERNEN:
        return t.plural("poll.confirm_kern", count, number=number, kern=audience.values[0])
    if audience.kind == bc.TOPICS:
        names = dict(audience_choices(context, bc.TOPICS, t))
        topic = names.get(audience.values[0], audience.values[0])
        return t.plural("poll.confirm_topic", count, number=number, topic=topic)
    return t.plural("poll.confirm_everyone", count, number=number)


async def send(update: Update, context: BotContext) -> int:
    user, t = await poll_author(update, context)
    if user is None:
        return ConversationHandler.END
    draft = DRAFT.get(context)
    audience = Audience.from_json(draft.audience)
    await press_done(update)
    closes = datetime.fromisoformat(draft.closes_at) if draft.closes_at else None
    if audience is None or closes is None or not draft.question or closes <= utcnow():
        DRAFT.forget(context)
        await update.effective_message.reply_text(t("poll.draft_gone"))
        return ConversationHandler.END
    poll = await context.services.polls.create(
        user.id, draft.question, draft.choices, audience, closes, share_results=draft.share
    )
    DRAFT.forget(context)
    log.info("poll %s by user %s to %s", poll.id, user.id, audience)
    async with after_storing(update, context):
        await update.effective_message.reply_text(
            t("poll.sending", number=poll.id, broadcast=poll.broadcast_id)
        )
        # The progress message follows at once; the repeating job would start it in a tick.
        await broadcast_tick(context)
    return ConversationHandler.END


# Weggooien under the summary, or /annuleer at any step: the poll is never sent.
drop = closing("poll.dropped", DRAFT)
use_buttons = saying("poll.use_buttons")


def poll_conversation() -> ConversationHandler:
    return conversation(
        name="poll",
        persistent=True,
        entry_points=[CommandHandler("peiling", start)],
        states={
            QUESTION: [text_step(got_question)],
            KIND: [KIND_PICK.handler(got_kind)],
            CHOICES: [text_step(got_choices)],
            AUDIENCE: [AUDIENCE_PICK.handler(got_audience)],
            PICK: [KERN_PICK.handler(got_kern), TOPIC_PICK.handler(got_topic)],
            CLOSES: [text_step(got_closes)],
            SHARE: [SHARE_PICK.handler(got_share)],
            CONFIRM: [SEND.handler(send)],
        },
        fallbacks=[
            cancel_with(drop),
            DROP.handler(drop),
            CallbackQueryHandler(refuse_press, pattern=any_press("peil")),
            otherwise(use_buttons),
        ],
    )


# --- results -------------------------------------------------------------------------------


async def send_results(context: BotContext, chat_id: int, t: Translator, results: Results) -> None:
    """The result for its author: counts as a chart, or the open answers without names."""
    poll = results.poll
    header = t.plural(
        "poll.results_header",
        results.answered,
        number=poll.id,
        question=poll.question,
        reached=results.reached,
        state=t("poll.state_closed" if poll.closed_at else "poll.state_open"),
    )
    bot = context.bot
    if not poll.is_open_question:
        png = poll_png(poll.question, results.labels, results.counts, t)
        await bot.send_photo(
            chat_id, InputFile(png, filename=f"peiling-{poll.id}.png"), caption=header
        )
        return
    shown, used = [], 0
    for text in results.texts:
        line = t("poll.open_line", text=excerpt(text, OPEN_ANSWER_SHOWN))
        if used + len(line) > OPEN_SHOWN_CHARS:
            break
        shown.append(line)
        used += len(line) + 1
    body = "\n".join(shown)
    more = len(results.texts) - len(shown)
    if more:
        body += "\n" + t.plural("poll.open_more", more)
    await bot.send_message(
        chat_id, t("poll.results_open", header=Markup(header), answers=Markup(body))
    )
    if more:
        content = "\n\n".join(f"{n}. {text}" for n, text in enumerate(results.texts, 1))
        await bot.send_document(
            chat_id,
            InputFile(content.encode(), filename=f"peiling-{poll.id}-antwoorden.txt"),
        )


async def my_polls(update: Update, context: BotContext) -> None:
    """/peilingen: one's own polls, newest first, each with its result button."""
    user, t = await poll_author(update, context)
    if user is None:
        return
    found = await context.services.polls.of_author(user.id, LISTED)
    if not found:
        await update.effective_message.reply_text(t("poll.list_none"))
        return
    tz = context.config.municipality.tz
    lines = [t("poll.list_header")]
    buttons = []
    for poll, answers in found:
        key = "poll.list_item_closed" if poll.closed_at else "poll.list_item_open"
        lines.append(
            t.plural(
                key,
                answers,
                number=poll.id,
                question=excerpt(poll.question, 80),
                closes=t.moment(poll.closes_at, tz),
            )
        )
        buttons.append((t("poll.button_result", number=poll.id), RESULT.build(poll.id)))
    await update.effective_message.reply_text(
        "\n\n".join(lines), reply_markup=keyboard(grid(buttons, 2))
    )


async def result(update: Update, context: BotContext) -> None:
    """A result button: for the poll's author only (still staff)."""
    user, t = await poll_author(update, context)
    if user is None:
        return
    results = await context.services.polls.results(RESULT.one(update.callback_query.data))
    if results is None or results.poll.author_id != user.id:
        await stale_button(update, context)
        return
    await update.callback_query.answer()
    await send_results(context, update.effective_chat.id, t, results)


# --- closing -------------------------------------------------------------------------------

CLOSE_TICK_S = 60


async def close_tick(context: BotContext) -> list[int]:
    """Job: close every poll whose date has passed, once, and give its author the result. The
    author's result is sent after the close is stored: at most once (after a crash in between,
    /peilingen still has it). A shared result is a broadcast, started here at once."""
    services = context.services
    closed = []
    for poll_id in await services.polls.due():
        results = await services.polls.close(poll_id)
        if results is None:
            continue  # another instance, or a second tick, closed it
        closed.append(poll_id)
        poll = results.poll
        log.info("poll %s closed: %s answers", poll.id, results.answered)
        author = await services.users.by_id(poll.author_id) if poll.author_id else None
        if author is not None and author.active:
            try:
                await send_results(
                    context, author.telegram_id, translator(author.language), results
                )
            except TelegramError as error:
                log.warning("poll %s: no result for its author: %s", poll.id, error)
    if closed:
        await broadcast_tick(context)
    return closed


def register(application: BotApplication) -> None:
    application.add_handlers(
        [poll_conversation(), CommandHandler("peilingen", my_polls), RESULT.handler(result)]
    )
