"""What every flow shares: who is talking, in which language, and the answers of last resort."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import wraps
from typing import Any

from rapidfuzz.distance import OSA
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut
from telegram.ext import (
    ApplicationHandlerStop,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.i18n import Translator, language_from_telegram, translator
from bot.services.flood import Verdict
from bot.services.text_input import Problem, check
from handlers.context import BotContext
from handlers.menus import ALIASES, RESIDENT_COMMANDS, staff_commands
from handlers.persistence import StateNotSaved
from models import Role, User

log = logging.getLogger(__name__)

# New messages only: an edited earlier answer must not be taken as the answer to the open question.
NEW_MESSAGE = filters.UpdateType.MESSAGE


# A number a person or a button may give: ASCII digits only ("²".isdigit() is True, int() of it
# fails) and few enough to fit every id column (a forged "99999999999999999999" would overflow).
_NUMBER = re.compile(r"[0-9]{1,9}")


def is_number(text: str) -> bool:
    """True when int(text) is safe and fits an id: check a typed or pressed number with this."""
    return _NUMBER.fullmatch(text) is not None


def number_argument(context: BotContext) -> int | None:
    """A command's first argument as a number ("12" or "#12", as /zoek shows it), or None."""
    value = (context.args or [""])[0].lstrip("#")
    return int(value) if is_number(value) else None


async def speaker(update: Update, context: BotContext) -> tuple[User | None, Translator]:
    """The stored user behind `update` (None if unknown) and the language to answer in."""
    tg_user = update.effective_user
    user = await context.services.users.get(tg_user.id) if tg_user else None
    if user is not None and not user.active:
        # They write again, so they unblocked the bot.
        user = await context.services.users.update(user.telegram_id, active=True) or user
    if user is not None and user.language:
        return user, translator(user.language)
    code = tg_user.language_code if tg_user else None
    return user, translator(language_from_telegram(code, context.config.default_language))


def halfway_signed_up(user: User | None) -> bool:
    """A resident who gave consent but chose no kern yet: signed up halfway, not "not signed
    up". (Staff may have no kern: they are not asked for one.)"""
    return (
        user is not None
        and user.role is Role.RESIDENT
        and user.consent_at is not None
        and user.kern is None
    )


async def _kern_first(update: Update, context: BotContext, user: User, t: Translator) -> None:
    # Onboarding's flow (its buttons live beside it); imported here, as it imports this module.
    from handlers.residents.onboarding import kern_first

    await kern_first(update, context, user, t)


def requires_resident(handler: Callable[[Update, BotContext, User, Translator], Awaitable[Any]]):
    """Run `handler` for onboarded residents only; others are pointed to /start."""

    @wraps(handler)
    async def wrapper(update: Update, context: BotContext) -> Any:
        user, t = await speaker(update, context)
        if halfway_signed_up(user):
            await _kern_first(update, context, user, t)
            return None
        if user is None or not user.onboarded:
            if update.callback_query:
                await update.callback_query.answer(t("common.need_start_short"))
            if update.effective_message:
                await update.effective_message.reply_text(t("common.need_start"))
            return None
        return await handler(update, context, user, t)

    return wrapper


async def send_to(context: BotContext, user: User, text: str, markup: object = None) -> bool:
    """Send to a user outside a reply; one who blocked the bot is marked inactive and skipped."""
    if not user.active:
        return False
    try:
        await context.bot.send_message(user.telegram_id, text, reply_markup=markup)
    except Forbidden:
        context.bot_data["metrics"].send_errors.labels("blocked").inc()
        await context.services.users.update(user.telegram_id, active=False)
        return False
    return True


async def typed_answer(
    update: Update,
    t: Translator,
    limit: int,
    *,
    empty: str = "common.empty",
    too_long: str = "common.too_long",
) -> str | None:
    """The typed answer, cleaned; None (after saying why, in the flow's own words: the catalog
    keys `empty` and `too_long`) when it is empty or too long."""
    checked = check(update.effective_message.text, limit)
    if checked.problem is Problem.EMPTY:
        await update.effective_message.reply_text(t(empty))
        return None
    if checked.problem is Problem.TOO_LONG:
        await update.effective_message.reply_text(
            t(too_long, length=checked.length, limit=checked.limit)
        )
        return None
    return checked.text


def text_step(callback: Callable[[Update, BotContext], Awaitable[Any]]) -> MessageHandler:
    """A conversation step that takes a new text message (not a command, not an edit)."""
    return MessageHandler(NEW_MESSAGE & filters.TEXT & ~filters.COMMAND, callback)


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def clear_buttons(update: Update) -> None:
    """Take the buttons off the message that was pressed, so it cannot be pressed twice."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    # The message may be too old to edit or have no buttons left: nothing to take away then.
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(reply_markup=None)


async def press_done(update: Update, notice: str | None = None) -> None:
    """A press taken: answer it (with a short `notice`, if any) and take the buttons off its
    message."""
    await update.callback_query.answer(notice)
    await clear_buttons(update)


async def stale_button(
    update: Update, context: BotContext, *, what: str = "callback", level: int = logging.INFO
) -> None:
    """A press on a button that no flow is waiting for: outdated, or forged by a client. It is
    logged as a refused `what`, at `level` (louder where a forged press matters more)."""
    query = update.callback_query
    _, t = await speaker(update, context)
    log.log(
        level,
        "refused %s %r from user %s",
        what,
        (query.data or "")[:64],
        update.effective_user.id if update.effective_user else None,
    )
    await query.answer(t("common.stale_button"), show_alert=True)


async def refuse_press(update: Update, context: BotContext) -> None:
    """The stale-button answer to a press a flow refuses, for a reason it already knows (so no
    log line, unlike stale_button)."""
    _, t = await speaker(update, context)
    await update.callback_query.answer(t("common.stale_button"), show_alert=True)


def closest_command(typed: str, known: list[str]) -> str | None:
    """The command of `known` that `typed` was meant to be ("iede" → "idee", "vraagg" →
    "vraag"): one or two letters off (a swap counts as one), the first in `known` on a tie;
    None when none is that close."""
    typed = typed.casefold()
    limit = 1 if len(typed) <= 4 else 2
    best = min(known, key=lambda name: OSA.distance(typed, name), default=None)
    if best is None or OSA.distance(typed, best) > limit:
        return None
    return best


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command no flow has: the closest one of the person's menu as a suggestion ("Bedoel
    je /idee?"), else where to find them all."""
    user, t = await speaker(update, context)
    if halfway_signed_up(user):
        assert user is not None
        await _kern_first(update, context, user, t)
        return
    message = update.effective_message
    typed = (message.text or "").split(maxsplit=1)[0].lstrip("/").split("@")[0]
    menu = [*staff_commands(context.services, user), *RESIDENT_COMMANDS]
    aliases = [word for name, more in ALIASES.items() for word in (name, *more)]
    known = list(dict.fromkeys((*menu, *aliases)))
    meant = closest_command(typed, known)
    if meant is None:
        await message.reply_text(t("common.unknown_command"))
    else:
        await message.reply_text(t("common.did_you_mean", command=meant))


async def not_understood(update: Update, context: BotContext) -> None:
    """Anything said outside a conversation that no command or flow takes: halfway sign-up
    gets the kern question again, an answer to the municipality's request for more
    information is offered as the reply."""
    user, t = await speaker(update, context)
    if halfway_signed_up(user):
        assert user is not None
        await _kern_first(update, context, user, t)
        return
    if user is not None and user.onboarded and update.effective_message.text:
        # The reply to a civil servant's question lives beside /vraag, which imports this.
        from handlers.residents.question import offer_as_reply

        if await offer_as_reply(update, context, user, t):
            return
    key = "common.not_understood" if user and user.onboarded else "common.need_start"
    await update.effective_message.reply_text(t(key))


async def on_error(update: object, context: BotContext) -> None:
    """Log with context and tell the person that something went wrong: never a silent bot."""
    if isinstance(context.error, TelegramError):
        reason = "blocked" if isinstance(context.error, Forbidden) else type(context.error).__name__
        context.bot_data["metrics"].send_errors.labels(reason).inc()
    if isinstance(context.error, TimedOut):
        # The Bot API did not answer in time: the message may well have arrived, so an apology
        # (or a retry) could be the second message. The resident can ask again if not.
        log.warning("timed out talking to the Bot API: %s", context.error)
        return
    if isinstance(context.error, Forbidden):
        # The user blocked the bot: nobody left to tell, and nothing more to send them.
        if isinstance(update, Update) and update.effective_user:
            await context.services.users.update(update.effective_user.id, active=False)
        log.info("user blocked the bot: %s", context.error)
        return
    details: dict[str, Any] = {}
    if isinstance(update, Update):
        details = {
            "update_id": update.update_id,
            "user_id": update.effective_user.id if update.effective_user else None,
            "chat_id": update.effective_chat.id if update.effective_chat else None,
            "kind": "callback" if update.callback_query else "message",
        }
    # A state not written was logged where it failed; the person is back at their last step.
    not_saved = isinstance(context.error, StateNotSaved)
    if not_saved:
        log.warning("state of update %s not written; asked to try again", details)
    else:
        log.error("error while handling an update %s", details, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        _, t = await speaker(update, context)
    except Exception:  # the database may be what failed; answer in the default language then
        t = translator(context.config.default_language)
    try:
        if update.callback_query:
            await update.callback_query.answer()
        text = t("common.state_not_saved" if not_saved else "common.error")
        await context.bot.send_message(update.effective_chat.id, text)
    except Exception:
        log.exception("could not tell chat %s about the error", update.effective_chat.id)


@contextlib.asynccontextmanager
async def after_storing(update: Update, context: BotContext) -> AsyncIterator[None]:
    """Around what a conversation step says once its work is stored (an idea saved, a question
    sent). A failure to say it, such as a slow Bot API's TimedOut, goes to the error handler
    like any error but is not raised, so the step still returns its next state: raised, it
    would keep the conversation at the step whose work is done, and every later message would
    get that step's prompt."""
    try:
        yield
    except Exception as exc:
        await context.application.process_error(update, exc)


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    _, t = await speaker(update, context)
    await update.effective_message.reply_text(t("common.nothing_to_cancel"))


def conversation(**kwargs: Any) -> ConversationHandler:
    """A persistent-ready ConversationHandler whose buttons are tracked per chat.

    Per chat, not per message, on purpose: only the open question's buttons are accepted, and
    every state checks the data it gets; PTB's warning about that choice is silenced here.
    In every conversation a command's English name works as well (/cancel for /annuleer), and
    /help shows the help without leaving it, unless the flow answers /help itself (with its
    open question again).
    """
    fallbacks = list(kwargs.get("fallbacks", []))
    commands = [h for h in fallbacks if isinstance(h, CommandHandler)]
    for handler in commands:
        for name in list(handler.commands):
            handler.commands = handler.commands | set(ALIASES.get(name, ()))
    if not any("help" in handler.commands for handler in commands):
        fallbacks.insert(0, CommandHandler("help", _help_halfway))
    kwargs["fallbacks"] = fallbacks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(**kwargs)


async def _help_halfway(update: Update, context: BotContext) -> None:
    """/help in a conversation that has no help of its own: the help, and that it goes on."""
    # The /help of handlers/residents/help.py; imported here, as it imports this module.
    from handlers.residents.help import help_command

    await help_command(update, context)
    _, t = await speaker(update, context)
    await update.effective_message.reply_text(t("common.still_open"))


async def private_only(update: Update, context: BotContext) -> None:
    """Before every handler: the bot talks with one person at a time, in a private chat. In a
    group its answers (/mijn, a data export) would be read by everyone there, so a command there
    gets one line pointing to the private chat, a button a short notice, the rest nothing."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    tg_user = update.effective_user
    t = translator(language_from_telegram(tg_user.language_code if tg_user else None))
    text = t("common.private_only", bot=context.bot.username)
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.message and (update.message.text or "").startswith("/"):
        await update.message.reply_text(text)
    raise ApplicationHandlerStop


async def flood_guard(update: Update, context: BotContext) -> None:
    """Before every handler: someone sending faster than a person types is slowed down, told
    once per burst, and the rest of the burst is dropped."""
    user = update.effective_user
    if user is None:
        return
    verdict = context.bot_data["flood"].check(user.id, time.monotonic())
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.WARN:
        _, t = await speaker(update, context)
        await alert_or_reply(update, t("common.slow_down"))
    raise ApplicationHandlerStop


async def alert_or_reply(update: Update, text: str) -> None:
    """Say `text` to whatever came in: an alert on a press, else a reply to the message. For the
    guards that stop an update before any flow sees it (flooding, a ban), which must say why."""
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)


async def count_update(update: Update, context: BotContext) -> None:
    """For /metrics: every update, by what it is."""
    kind = "callback" if update.callback_query else "message" if update.message else "other"
    context.bot_data["metrics"].updates.labels(kind).inc()


async def moderator(update: Update, context: BotContext) -> tuple[User | None, Translator]:
    """The moderator behind the update, or None after refusing anyone else (a button press is
    answered like a stale one, and logged)."""
    user, t = await speaker(update, context)
    civil_servants = context.services.civil_servants
    if user is None and civil_servants.is_configured_moderator(update.effective_user.id):
        # A moderator from the config who never pressed Start: a bare row to act with.
        user = await context.services.users.register(update.effective_user.id)
    if civil_servants.is_moderator(user):
        return user, t
    await refuse_outsider(update, context, t("common.only_moderators"))
    return None, t


async def refuse_outsider(update: Update, context: BotContext, said: str) -> None:
    """Someone a command or button is not for (only moderators', only staff's): a press is
    answered like a stale button, and logged; a message gets `said`."""
    if update.callback_query:
        await stale_button(update, context)
    else:
        await update.effective_message.reply_text(said)
