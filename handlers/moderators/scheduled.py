"""Announcements on their way: the repeating job that starts sending what is due (and resumes
after a restart), the progress message with its stop button, the report at the end, and
/gepland, every announcement still to go out.

The sending itself is bot/services/broadcasts.py; this module gives it a Telegram sender, starts
it and shows its progress. The stop button works for any moderator and for the author."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from collections.abc import Awaitable, Callable

from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CommandHandler

from bot.i18n import Translator, translator
from bot.services import broadcasts as bc
from bot.services.broadcasts import Audience, Progress, SenderSettings
from bot.services.delivery import Result
from bot.services.text_input import excerpt
from handlers.callbacks import Button
from handlers.common import clear_buttons, keyboard, moderator, speaker
from handlers.context import BotApplication, BotContext
from handlers.delivery import attempt
from handlers.moderators.shared import announcement, deliver, describe, local_time, refuse
from models import Broadcast, BroadcastState, Role

log = logging.getLogger(__name__)

TICK_S = 10
RUNNING, STOP = "broadcast_runs", "broadcast_stop"
# Sends in flight at once: at 25/s and ~100 ms per Bot API request a few must overlap.
CONCURRENCY = 8

# Under the progress, a scheduled one's confirmation and /gepland: stop this broadcast.
STOP_BUTTON = Button("bc:stop", int)


def telegram_sender(bot: Bot, municipality: str) -> bc.Sender:
    async def send(message: bc.Message, recipient: bc.Recipient) -> Result:
        text = announcement(translator(recipient.language), municipality, message.text)
        return await attempt(deliver(bot, recipient.telegram_id, text, message.photo_file_id))

    return send


# Other messages that travel as a broadcast (a poll, its result: handlers/moderators/polls.py)
# bring their own sender: a factory given the broadcast returns its Sender, or None if it is not
# one of theirs; the rest are announcements.
SENDERS = "broadcast_senders"
SenderFactory = Callable[[BotApplication, Broadcast], Awaitable[bc.Sender | None]]


def add_sender(application: BotApplication, factory: SenderFactory) -> None:
    application.bot_data.setdefault(SENDERS, []).append(factory)


async def _sender(application: BotApplication, broadcast: Broadcast) -> bc.Sender:
    for factory in application.bot_data.get(SENDERS, ()):
        sender = await factory(application, broadcast)
        if sender is not None:
            return sender
    return telegram_sender(application.bot, application.bot_data["config"].municipality.name)


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
            await _sender(application, broadcast),
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


def _counts(progress: Progress) -> dict[str, int]:
    """What the progress and the report both say."""
    return {
        "number": progress.broadcast_id,
        "sent": progress.sent,
        "blocked": progress.blocked,
        "failed": progress.failed,
        "total": progress.total,
    }


def _progress_text(t: Translator, progress: Progress) -> str:
    return t("bc.progress", handled=progress.handled, **_counts(progress))


def _stop_button(t: Translator, progress: Progress) -> InlineKeyboardMarkup:
    return keyboard([[(t("bc.button_stop"), STOP_BUTTON.build(progress.broadcast_id))]])


def _duration(progress: Progress) -> str:
    if progress.started_at is None or progress.finished_at is None:
        return "–"
    seconds = int((progress.finished_at - progress.started_at).total_seconds())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _report_text(t: Translator, progress: Progress) -> str:
    key = "bc.report_done" if progress.state is BroadcastState.DONE else "bc.report_cancelled"
    return t(
        key,
        unknown=progress.unknown,
        pending=progress.pending,
        duration=_duration(progress),
        **_counts(progress),
    )


async def _stop_senders(application: BotApplication) -> None:
    """On shutdown: senders finish the sends in flight, record them and give their lease up,
    so the next start resumes at once and nothing is left `unknown`."""
    application.bot_data.setdefault(STOP, asyncio.Event()).set()
    tasks = list(running(application).values())
    if tasks:
        await asyncio.wait(tasks, timeout=15)


async def stop(update: Update, context: BotContext) -> None:
    """The stop button under the progress (or a scheduled one's confirmation): any moderator,
    and the civil servant whose poll it carries (they get its progress, stop button and all)."""
    user, t = await speaker(update, context)
    broadcast = await context.services.broadcasts.get(STOP_BUTTON.one(update.callback_query.data))
    author = (
        user is not None
        and broadcast is not None
        and broadcast.author_id == user.id
        and user.role is Role.CIVIL_SERVANT
    )
    if not author:
        user, t = await moderator(update, context)
        if user is None:
            return
    if broadcast is None or broadcast.state is BroadcastState.DRAFT:
        await refuse(update, context)
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
                when=local_time(context, t, broadcast.due_at),
                count=await context.services.broadcasts.count_audience(audience) if audience else 0,
            )
        lines.append(t(key, **values))
        buttons.append(
            [(t("bc.button_stop_number", number=broadcast.id), STOP_BUTTON.build(broadcast.id))]
        )
    if len(found) > UPCOMING_SHOWN:
        lines.append(t("bc.upcoming_more", count=len(found) - UPCOMING_SHOWN))
    await update.effective_message.reply_text("\n\n".join(lines), reply_markup=keyboard(buttons))


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("gepland", upcoming),
            STOP_BUTTON.handler(stop),
        ]
    )
    previous = application.post_stop

    async def post_stop(app: BotApplication) -> None:
        await _stop_senders(app)
        if previous is not None:
            await previous(app)

    application.post_stop = post_stop
