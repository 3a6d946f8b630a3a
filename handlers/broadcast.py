"""/mededeling: a moderator composes an announcement, picks the audience, sees a preview exactly
as residents will, sends it now or at a chosen time, and watches one message count the progress.

The sending itself is bot/services/broadcasts.py; this module gives it a Telegram sender, starts
it from a repeating job (which also resumes broadcasts after a restart) and shows its progress.
Every step and every button checks that the person is a moderator and that the broadcast is
theirs and still a draft; anything else is refused like a stale button, and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f

from bot.i18n import Markup, Translator, translator
from bot.services import broadcasts as bc
from bot.services.broadcasts import Audience, Progress, SenderSettings
from bot.services.delivery import Result
from bot.services.text_input import excerpt
from handlers.common import (
    NEW_MESSAGE,
    after_storing,
    clear_buttons,
    conversation,
    is_number,
    keyboard,
    moderator,
    speaker,
)
from handlers.context import BotApplication, BotContext
from handlers.delivery import attempt
from handlers.residents.following import main_topics
from models import Broadcast, BroadcastState, User
from models.base import utcnow

log = logging.getLogger(__name__)

COMPOSE, AUDIENCE, PREVIEW, WHEN, CONFIRM = range(5)
# Telegram's limits are 4,096 characters for a text and 1,024 for a caption; the header and
# footer around the moderator's text take the rest.
TEXT_MAX, CAPTION_MAX = 3500, 850
SCHEDULE_DAYS_MAX = 60
TICK_S = 10
RUNNING, STOP = "broadcast_runs", "broadcast_stop"
# Sends in flight at once: at 25/s and ~100 ms per Bot API request a few must overlap.
CONCURRENCY = 8


# --- what residents receive --------------------------------------------------------------


def announcement(t: Translator, municipality: str, body: str) -> str:
    """The message as a resident reads it; `body` is the moderator's text as HTML."""
    return t("bc.announcement", municipality=municipality, body=Markup(body))


async def deliver(
    bot: Bot, chat_id: int, text: str, photo_file_id: str | None, markup: Any = None
) -> Message:
    if photo_file_id:
        return await bot.send_photo(
            chat_id, photo_file_id, caption=text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


def telegram_sender(bot: Bot, municipality: str) -> bc.Sender:
    async def send(message: bc.Message, recipient: bc.Recipient) -> Result:
        text = announcement(translator(recipient.language), municipality, message.text)
        return await attempt(deliver(bot, recipient.telegram_id, text, message.photo_file_id))

    return send


# --- the runner: a job starts senders, one task per broadcast -------------------------------


def running(application: BotApplication) -> dict[int, asyncio.Task[None]]:
    return application.bot_data.setdefault(RUNNING, {})


async def broadcast_tick(context: BotContext) -> list[asyncio.Task[None]]:
    """Job: start sending every broadcast that is due, or whose sender died, in this process.

    The sending runs as a task of its own, so the job returns at once; the lease in the
    database keeps a second process (or a second tick) from sending the same broadcast.
    """
    application = context.application
    tasks = running(application)
    stop: asyncio.Event = application.bot_data.setdefault(STOP, asyncio.Event())
    started = []
    for broadcast_id in await context.services.broadcasts.due():
        if broadcast_id in tasks or stop.is_set():
            continue
        if not await context.services.broadcasts.acquire(broadcast_id):
            continue
        task = asyncio.create_task(_run(application, broadcast_id, stop), name=f"bc-{broadcast_id}")
        tasks[broadcast_id] = task
        task.add_done_callback(lambda _, b=broadcast_id: tasks.pop(b, None))
        started.append(task)
    return started


async def _run(application: BotApplication, broadcast_id: int, stop: asyncio.Event) -> None:
    services, config = application.bot_data["services"], application.bot_data["config"]
    broadcast = await services.broadcasts.get(broadcast_id)
    author = await services.users.by_id(broadcast.author_id) if broadcast.author_id else None
    t = translator(author.language if author else config.default_language)
    bot = application.bot
    if author is not None and broadcast.progress_message_id is None:
        progress = await services.broadcasts.progress(broadcast_id)
        try:
            shown = await bot.send_message(
                author.telegram_id,
                _progress_text(t, progress),
                reply_markup=_stop_button(t, progress),
            )
        except TelegramError:
            log.warning("broadcast %s: cannot show progress to its author", broadcast_id)
        else:
            await services.broadcasts.set_progress_message(
                broadcast_id, shown.chat_id, shown.message_id
            )
            broadcast = await services.broadcasts.get(broadcast_id)

    async def on_progress(progress: Progress) -> None:
        if broadcast.progress_message_id is None:
            return
        with contextlib.suppress(BadRequest):  # "message is not modified", or deleted
            await bot.edit_message_text(
                _progress_text(t, progress),
                chat_id=broadcast.progress_chat_id,
                message_id=broadcast.progress_message_id,
                reply_markup=_stop_button(t, progress)
                if progress.state is BroadcastState.SENDING
                else None,
            )

    try:
        final = await services.broadcasts.send(
            broadcast_id,
            telegram_sender(bot, config.municipality.name),
            SenderSettings(rate=config.broadcast.rate, concurrency=CONCURRENCY),
            on_progress=on_progress,
            stop=stop,
        )
    except Exception:
        log.exception("broadcast %s: the sender failed; the next tick resumes it", broadcast_id)
        await services.broadcasts.release(broadcast_id)
        return
    if author is not None and final.state in (BroadcastState.DONE, BroadcastState.CANCELLED):
        with contextlib.suppress(TelegramError):
            await bot.send_message(author.telegram_id, _report_text(t, final))


def _progress_text(t: Translator, progress: Progress) -> str:
    return t(
        "bc.progress",
        number=progress.broadcast_id,
        sent=progress.sent,
        blocked=progress.blocked,
        failed=progress.failed,
        handled=progress.handled,
        total=progress.total,
    )


def _stop_button(t: Translator, progress: Progress) -> InlineKeyboardMarkup:
    return keyboard([[(t("bc.button_stop"), f"bc:stop:{progress.broadcast_id}")]])


def _duration(progress: Progress) -> str:
    if progress.started_at is None or progress.finished_at is None:
        return "–"
    seconds = int((progress.finished_at - progress.started_at).total_seconds())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _report_text(t: Translator, progress: Progress) -> str:
    key = "bc.report_done" if progress.state is BroadcastState.DONE else "bc.report_cancelled"
    return t(
        key,
        number=progress.broadcast_id,
        sent=progress.sent,
        blocked=progress.blocked,
        failed=progress.failed,
        unknown=progress.unknown,
        pending=progress.pending,
        total=progress.total,
        duration=_duration(progress),
    )


async def _stop_senders(application: BotApplication) -> None:
    """On shutdown: senders finish the sends in flight, record them and give their lease up,
    so the next start resumes at once and nothing is left `unknown`."""
    application.bot_data.setdefault(STOP, asyncio.Event()).set()
    tasks = list(running(application).values())
    if tasks:
        await asyncio.wait(tasks, timeout=15)


# --- who may do this ---------------------------------------------------------------------


async def _refuse(update: Update, t: Translator) -> None:
    query = update.callback_query
    log.warning(
        "refused broadcast button %r from user %s",
        (query.data or "")[:64],
        update.effective_user.id if update.effective_user else None,
    )
    await query.answer(t("common.stale_button"), show_alert=True)


async def _own_draft(update: Update, context: BotContext) -> tuple[Translator, Broadcast | None]:
    """For a button in the conversation: the moderator and their draft named in the data —
    the one this conversation is about, still a draft, and theirs; else refused."""
    user, t = await moderator(update, context)
    if user is None:
        return t, None
    parts = update.callback_query.data.split(":")
    draft_id = context.user_data.get("bc_id")
    broadcast = None
    if len(parts) >= 3 and is_number(parts[2]) and int(parts[2]) == draft_id:
        broadcast = await context.services.broadcasts.get(draft_id)
    if (
        broadcast is None
        or broadcast.author_id != user.id
        or broadcast.state is not BroadcastState.DRAFT
    ):
        await _refuse(update, t)
        return t, None
    return t, broadcast


# --- composing ---------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> int | None:
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    await _discard_draft(context)
    await update.effective_message.reply_text(t("bc.ask_content"))
    return COMPOSE


async def compose(update: Update, context: BotContext) -> int | None:
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    message = update.effective_message
    if message.photo:
        context.user_data["bc_photo"] = message.photo[-1].file_id
        if not message.caption:
            await message.reply_text(t("bc.photo_needs_text"))
            return COMPOSE
        plain, html = message.caption, message.caption_html
    else:
        plain, html = message.text or "", message.text_html
    photo = context.user_data.get("bc_photo")
    limit = CAPTION_MAX if photo else TEXT_MAX
    if not plain.strip():
        await message.reply_text(t("bc.text_or_photo"))
        return COMPOSE
    if len(plain) > limit:
        await message.reply_text(t("bc.too_long", length=len(plain), limit=limit))
        return COMPOSE
    draft = await context.services.broadcasts.create_draft(user.id, html, photo)
    context.user_data.update(bc_id=draft.id, bc_sel=[], bc_due=None)
    context.user_data.pop("bc_photo", None)
    await message.reply_text(t("bc.ask_audience"), reply_markup=_audience_keyboard(t, draft.id))
    return AUDIENCE


async def not_content(update: Update, context: BotContext) -> int | None:
    """A sticker or a file where the announcement's text was asked for."""
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    await update.effective_message.reply_text(t("bc.text_or_photo"))
    return None


async def use_buttons(update: Update, context: BotContext) -> int | None:
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    await update.effective_message.reply_text(t("bc.use_buttons"))
    return None


def _audience_keyboard(t: Translator, draft_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [(t("bc.audience_everyone"), f"bc:aud:{draft_id}:{bc.EVERYONE}")],
            [(t("bc.audience_kernen"), f"bc:aud:{draft_id}:{bc.KERNEN}")],
            [(t("bc.audience_topics"), f"bc:aud:{draft_id}:{bc.TOPICS}")],
            [(t("bc.audience_civil_servants"), f"bc:aud:{draft_id}:{bc.CIVIL_SERVANTS}")],
        ]
    )


def _choices(context: BotContext, kind: str, t: Translator) -> list[tuple[str, str]]:
    """(value, label) of what can be picked for a kernen or topics audience."""
    if kind == bc.KERNEN:
        return [(k, k) for k in context.config.municipality.kernen]
    return [(m.key, m.name(t.language)) for m in main_topics(context)]


def _pick_keyboard(
    context: BotContext, t: Translator, draft_id: int, kind: str, selected: list[str]
) -> InlineKeyboardMarkup:
    buttons = [
        (f"✅ {label}" if value in selected else label, f"bc:pick:{draft_id}:{index}")
        for index, (value, label) in enumerate(_choices(context, kind, t))
    ]
    width = 2 if kind == bc.KERNEN else 1
    rows = [buttons[i : i + width] for i in range(0, len(buttons), width)]
    rows.append([(t("bc.button_done"), f"bc:picked:{draft_id}")])
    return keyboard(rows)


async def choose_audience(update: Update, context: BotContext) -> int | None:
    t, draft = await _own_draft(update, context)
    if draft is None:
        return None
    kind = update.callback_query.data.split(":")[3]
    if kind not in bc.AUDIENCE_KINDS:
        await _refuse(update, t)
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    if kind in (bc.KERNEN, bc.TOPICS):
        context.user_data.update(bc_kind=kind, bc_sel=[])
        key = "bc.choose_kernen" if kind == bc.KERNEN else "bc.choose_topics"
        await update.effective_message.reply_text(
            t(key), reply_markup=_pick_keyboard(context, t, draft.id, kind, [])
        )
        return AUDIENCE
    return await _preview(update, context, t, draft, Audience(kind))


async def pick(update: Update, context: BotContext) -> int | None:
    """Toggle one kern or topic of the audience."""
    t, draft = await _own_draft(update, context)
    if draft is None:
        return None
    kind = context.user_data.get("bc_kind")
    index = update.callback_query.data.split(":")[3]
    choices = _choices(context, kind, t) if kind in (bc.KERNEN, bc.TOPICS) else []
    if not is_number(index) or int(index) >= len(choices):
        await _refuse(update, t)
        return None
    value = choices[int(index)][0]
    selected: list[str] = context.user_data.setdefault("bc_sel", [])
    if value in selected:
        selected.remove(value)
    else:
        selected.append(value)
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(
        reply_markup=_pick_keyboard(context, t, draft.id, kind, selected)
    )
    return AUDIENCE


async def picked(update: Update, context: BotContext) -> int | None:
    t, draft = await _own_draft(update, context)
    if draft is None:
        return None
    kind, selected = context.user_data.get("bc_kind"), context.user_data.get("bc_sel") or []
    if kind not in (bc.KERNEN, bc.TOPICS):
        await _refuse(update, t)
        return None
    if not selected:
        await update.callback_query.answer(t("bc.choose_at_least_one"), show_alert=True)
        return AUDIENCE
    await update.callback_query.answer()
    await clear_buttons(update)
    # In the order of the config or taxonomy, whatever the order of the presses.
    order = [value for value, _ in _choices(context, kind, t)]
    return await _preview(
        update, context, t, draft, Audience(kind, tuple(sorted(selected, key=order.index)))
    )


def describe(context: BotContext, t: Translator, audience: Audience) -> str:
    if audience.kind == bc.TOPICS:
        names = dict(_choices(context, bc.TOPICS, t))
        return t("bc.to_topics", names=", ".join(names.get(v, v) for v in audience.values))
    if audience.kind == bc.KERNEN:
        return t("bc.to_kernen", names=", ".join(audience.values))
    return t(f"bc.to_{audience.kind}")


async def _preview(
    update: Update, context: BotContext, t: Translator, draft: Broadcast, audience: Audience
) -> int:
    """The announcement exactly as residents get it (same text, same call), then the choice."""
    await context.services.broadcasts.set_audience(draft.id, audience)
    count = await context.services.broadcasts.count_audience(audience)
    chat_id = update.effective_chat.id
    await context.bot.send_message(chat_id, t("bc.preview_intro"))
    await deliver(
        context.bot,
        chat_id,
        announcement(t, context.config.municipality.name, draft.text),
        draft.photo_file_id,
    )
    await context.bot.send_message(
        chat_id,
        t.plural("bc.preview_question", count, audience=describe(context, t, audience)),
        reply_markup=keyboard(
            [
                [
                    (t("bc.button_now"), f"bc:now:{draft.id}"),
                    (t("bc.button_later"), f"bc:later:{draft.id}"),
                ],
                [(t("bc.button_other_audience"), f"bc:again:{draft.id}")],
                [(t("bc.button_discard"), f"bc:drop:{draft.id}")],
            ]
        ),
    )
    return PREVIEW


async def other_audience(update: Update, context: BotContext) -> int | None:
    t, draft = await _own_draft(update, context)
    if draft is None:
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    await update.effective_message.reply_text(
        t("bc.ask_audience"), reply_markup=_audience_keyboard(t, draft.id)
    )
    return AUDIENCE


# --- when ----------------------------------------------------------------------------------


async def now(update: Update, context: BotContext) -> int | None:
    t, draft = await _own_draft(update, context)
    if draft is None:
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    context.user_data["bc_due"] = None
    return await _confirm(update, context, t, draft)


async def later(update: Update, context: BotContext) -> int | None:
    t, draft = await _own_draft(update, context)
    if draft is None:
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    await update.effective_message.reply_text(
        t("bc.ask_when", example=_example(context), timezone=context.config.municipality.timezone)
    )
    return WHEN


_WHEN = re.compile(
    r"^\s*(?:(?P<day>\d{1,2})[-/.](?P<month>\d{1,2})(?:[-/.](?P<year>\d{4}))?\s+)?"
    r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})\s*$"
)


def parse_when(text: str, now: datetime) -> datetime | None:
    """ "25-12 09:30", "25-12-2026 9:30" or "14:00" (today) in `now`'s time zone; None if not
    a date and time."""
    match = _WHEN.match(text)
    if match is None:
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    try:
        return now.replace(
            year=parts.get("year", now.year),
            month=parts.get("month", now.month),
            day=parts.get("day", now.day),
            hour=parts["hour"],
            minute=parts["minute"],
            second=0,
            microsecond=0,
        )
    except ValueError:
        return None


def _example(context: BotContext) -> str:
    tomorrow = utcnow().astimezone(context.config.municipality.tz) + timedelta(days=1)
    return tomorrow.strftime("%d-%m-%Y 09:00")


async def when(update: Update, context: BotContext) -> int | None:
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    draft = await _current_draft(context, user)
    if draft is None:
        await update.effective_message.reply_text(t("bc.draft_gone"))
        return ConversationHandler.END
    local_now = utcnow().astimezone(context.config.municipality.tz)
    due = parse_when(update.effective_message.text or "", local_now)
    if due is None:
        await update.effective_message.reply_text(
            t("bc.when_not_understood", example=_example(context))
        )
        return WHEN
    if due <= local_now:
        await update.effective_message.reply_text(t("bc.when_past"))
        return WHEN
    if due > local_now + timedelta(days=SCHEDULE_DAYS_MAX):
        await update.effective_message.reply_text(t("bc.when_too_far", days=SCHEDULE_DAYS_MAX))
        return WHEN
    context.user_data["bc_due"] = due.isoformat()
    return await _confirm(update, context, t, draft)


async def _current_draft(context: BotContext, user: User) -> Broadcast | None:
    draft_id = context.user_data.get("bc_id")
    draft = await context.services.broadcasts.get(draft_id) if draft_id else None
    if draft is None or draft.author_id != user.id or draft.state is not BroadcastState.DRAFT:
        return None
    return draft


def _local(context: BotContext, t: Translator, moment: datetime) -> str:
    return t.moment(moment, context.config.municipality.tz)


async def _confirm(update: Update, context: BotContext, t: Translator, draft: Broadcast) -> int:
    audience = Audience.from_json(draft.audience)
    count = await context.services.broadcasts.count_audience(audience)
    due = context.user_data.get("bc_due")
    if due is None:
        text = t.plural("bc.confirm_now", count)
    else:
        text = t.plural(
            "bc.confirm_later", count, when=_local(context, t, datetime.fromisoformat(due))
        )
    await update.effective_message.reply_text(
        text,
        reply_markup=keyboard(
            [
                [(t("bc.button_confirm", count=count), f"bc:yes:{draft.id}")],
                [(t("bc.button_discard"), f"bc:drop:{draft.id}")],
            ]
        ),
    )
    return CONFIRM


async def confirm(update: Update, context: BotContext) -> int | None:
    t, draft = await _own_draft(update, context)
    if draft is None:
        return None
    due = context.user_data.get("bc_due")
    due_at = datetime.fromisoformat(due) if due else utcnow()
    scheduled = await context.services.broadcasts.schedule(draft.id, due_at)
    _forget(context)
    async with after_storing(update, context):
        await update.callback_query.answer()
        await clear_buttons(update)
        if scheduled is None:
            await update.effective_message.reply_text(t("bc.draft_gone"))
        elif due is None:
            # The progress message follows at once; the repeating job would start it in a tick.
            await broadcast_tick(context)
        else:
            await update.effective_message.reply_text(
                t("bc.scheduled", number=draft.id, when=_local(context, t, due_at)),
                reply_markup=keyboard([[(t("bc.button_cancel_scheduled"), f"bc:stop:{draft.id}")]]),
            )
    return ConversationHandler.END


# --- leaving -------------------------------------------------------------------------------


def _forget(context: BotContext) -> None:
    for key in ("bc_id", "bc_sel", "bc_kind", "bc_due", "bc_photo"):
        context.user_data.pop(key, None)


async def _discard_draft(context: BotContext) -> None:
    draft_id = context.user_data.get("bc_id")
    if draft_id is not None:
        draft = await context.services.broadcasts.get(draft_id)
        if draft is not None and draft.state is BroadcastState.DRAFT:
            await context.services.broadcasts.cancel(draft_id)
    _forget(context)


async def discard(update: Update, context: BotContext) -> int | None:
    t, draft = await _own_draft(update, context)
    if draft is None:
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    await _discard_draft(context)
    await update.effective_message.reply_text(t("bc.discarded"))
    return ConversationHandler.END


async def cancel_command(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    await _discard_draft(context)
    await update.effective_message.reply_text(t("bc.discarded"))
    return ConversationHandler.END


async def stop(update: Update, context: BotContext) -> None:
    """The stop button under the progress (or a scheduled one's confirmation): any moderator."""
    user, t = await moderator(update, context)
    if user is None:
        return
    value = update.callback_query.data.split(":")[2]
    broadcast = await context.services.broadcasts.get(int(value)) if is_number(value) else None
    if broadcast is None or broadcast.state is BroadcastState.DRAFT:
        await _refuse(update, t)
        return
    cancelled = await context.services.broadcasts.cancel(broadcast.id, user.id)
    if cancelled is None:
        await update.callback_query.answer(t("bc.already_ended"), show_alert=True)
        return
    log.info("broadcast %s stopped by user %s", broadcast.id, user.id)
    await update.callback_query.answer(t("bc.stopped"))
    await clear_buttons(update)
    if cancelled.started_at is None:
        await update.effective_message.reply_text(t("bc.scheduled_cancelled", number=broadcast.id))


# --- what is still to go out -----------------------------------------------------------------

UPCOMING_SHOWN = 10
SNIPPET = 80


def _snippet(html_text: str) -> str:
    """The first words of an announcement as plain text, for a list."""
    return excerpt(html.unescape(re.sub(r"<[^>]+>", "", html_text)), SNIPPET)


async def upcoming(update: Update, context: BotContext) -> None:
    """/gepland: every announcement still to go out or going out now, by any moderator, each
    with a stop button (the same one as under the progress)."""
    user, t = await moderator(update, context)
    if user is None:
        return
    found = await context.services.broadcasts.upcoming()
    if not found:
        await update.effective_message.reply_text(t("bc.upcoming_none"))
        return
    lines, buttons = [t.plural("bc.upcoming_header", len(found))], []
    for broadcast in found[:UPCOMING_SHOWN]:
        audience = Audience.from_json(broadcast.audience)
        author = await context.services.users.by_id(broadcast.author_id or 0)
        values = {
            "number": broadcast.id,
            "audience": describe(context, t, audience) if audience else "–",
            "author": (author and author.display_name) or t("bc.upcoming_unknown_author"),
            "snippet": _snippet(broadcast.text),
        }
        if broadcast.state is BroadcastState.SENDING:
            progress = await context.services.broadcasts.progress(broadcast.id)
            key = "bc.upcoming_sending"
            values.update(
                sent=progress.handled if progress else 0, total=progress.total if progress else 0
            )
        else:
            key = "bc.upcoming_scheduled"
            values.update(
                when=_local(context, t, broadcast.due_at),
                count=await context.services.broadcasts.count_audience(audience) if audience else 0,
            )
        lines.append(t(key, **values))
        buttons.append(
            [(t("bc.button_stop_number", number=broadcast.id), f"bc:stop:{broadcast.id}")]
        )
    if len(found) > UPCOMING_SHOWN:
        lines.append(t("bc.upcoming_more", count=len(found) - UPCOMING_SHOWN))
    await update.effective_message.reply_text("\n\n".join(lines), reply_markup=keyboard(buttons))


def broadcast_conversation() -> ConversationHandler:
    button = CallbackQueryHandler
    return conversation(
        name="broadcast",
        persistent=True,
        entry_points=[CommandHandler("mededeling", start)],
        states={
            COMPOSE: [
                MessageHandler(NEW_MESSAGE & (f.PHOTO | (f.TEXT & ~f.COMMAND)), compose),
                MessageHandler(NEW_MESSAGE & ~f.COMMAND, not_content),
            ],
            AUDIENCE: [
                button(choose_audience, pattern=r"^bc:aud:\d+:\w+$"),
                button(pick, pattern=r"^bc:pick:\d+:\d+$"),
                button(picked, pattern=r"^bc:picked:\d+$"),
            ],
            PREVIEW: [
                button(now, pattern=r"^bc:now:\d+$"),
                button(later, pattern=r"^bc:later:\d+$"),
                button(other_audience, pattern=r"^bc:again:\d+$"),
            ],
            WHEN: [MessageHandler(NEW_MESSAGE & f.TEXT & ~f.COMMAND, when)],
            CONFIRM: [button(confirm, pattern=r"^bc:yes:\d+$")],
        },
        fallbacks=[
            CommandHandler("annuleer", cancel_command),
            button(discard, pattern=r"^bc:drop:\d+$"),
            MessageHandler(NEW_MESSAGE & ~f.COMMAND, use_buttons),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            broadcast_conversation(),
            CommandHandler("gepland", upcoming),
            CallbackQueryHandler(stop, pattern=r"^bc:stop:\d+$"),
        ]
    )
    previous = application.post_stop

    async def post_stop(app: BotApplication) -> None:
        await _stop_senders(app)
        if previous is not None:
            await previous(app)

    application.post_stop = post_stop
