"""Moderation: /wachtrij (approve, reject with a reason, edit the title, skip; then the civil
servants' "Wist je dat…" posts: approve, reject with a reason, skip), /verberg, /ban and
/unban, and the guard that stops a banned person on every update (but for their privacy rights).

The decisions are bot/services/moderation.py. Every command and button checks here that the
person is a moderator (`common.moderator`) and the service checks that the item is still in the
queue: anything else is refused like a stale button, and logged, and changes nothing.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)
from telegram.ext import filters as f

from bot.i18n import Markup, Translator, translator
from bot.services.initiatives import TITLE_MAX
from bot.services.moderation import REASON_MAX, PostItem, QueueItem
from handlers.civil_servants.posts import post_text
from handlers.common import (
    NEW_MESSAGE,
    clear_buttons,
    conversation,
    is_number,
    keyboard,
    moderator,
    number_argument,
    send_to,
    speaker,
    stale_button,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.residents.following import main_topics
from handlers.residents.privacy import HANDLERS as privacy_handlers
from models import Initiative, Post, User, Visibility

REASON, TITLE, POST_REASON = range(3)
ITEM = "mod_item"  # user_data: the initiative a typed reason or title is for
POST_ITEM = "mod_post"  # user_data: the post a typed reason is for


# --- who may do this ---------------------------------------------------------------------


async def _pressed_item(
    update: Update, context: BotContext
) -> tuple[User | None, Translator, Initiative | None]:
    """For a queue button: the moderator and the initiative named, if it is still in the
    queue; else refused."""
    user, t = await moderator(update, context)
    if user is None:
        return None, t, None
    value = update.callback_query.data.rsplit(":", 1)[1]
    queue = context.services.moderation
    initiative = await queue.in_queue(int(value)) if is_number(value) else None
    if initiative is None:
        await stale_button(update, context)
        return user, t, None
    return user, t, initiative


async def _pressed_post(
    update: Update, context: BotContext
) -> tuple[User | None, Translator, Post | None]:
    """For a post's queue button: the moderator and the post, if it still waits; else
    refused."""
    user, t = await moderator(update, context)
    if user is None:
        return None, t, None
    value = update.callback_query.data.rsplit(":", 1)[1]
    post = await context.services.moderation.pending_post(int(value)) if is_number(value) else None
    if post is None:
        await stale_button(update, context)
        return user, t, None
    return user, t, post


async def ban_guard(update: Update, context: BotContext) -> None:
    """Before every handler: a banned person is told so, and nothing else happens, but for
    /privacy and /vergeetmij (and their buttons), which this runs itself, so that no
    conversation left open at the ban can take them."""
    tg_user = update.effective_user
    if tg_user is None or not await context.services.moderation.is_banned(tg_user.id):
        return
    for handler in privacy_handlers:
        check = handler.check_update(update)
        if check is not None and check is not False:
            await handler.handle_update(update, context.application, check, context)
            # What it changed (an erasure ends conversations), written now: stopping here
            # skips the group that writes it after other updates.
            await context.application.update_persistence()
            raise ApplicationHandlerStop
    _, t = await speaker(update, context)
    if update.callback_query:
        await update.callback_query.answer(t("mod.banned"), show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(t("mod.banned"))
    raise ApplicationHandlerStop


# --- the queue ---------------------------------------------------------------------------


def _item_text(t: Translator, item: QueueItem) -> str:
    initiative = item.initiative
    if initiative.visibility is Visibility.PENDING:
        state = t("mod.state_pending")
    else:
        state = t.plural("mod.state_hidden", item.reports)
    lines = [
        t(
            "mod.item",
            waiting=item.waiting,
            number=initiative.id,
            title=initiative.title,
            kern=initiative.kern,
            description=initiative.description,
            state=state,
        )
    ]
    lines += [t("mod.report_reason", reason=reason) for reason in item.reasons]
    return "\n".join(lines)


def _item_keyboard(t: Translator, item: QueueItem) -> InlineKeyboardMarkup:
    number = item.initiative.id
    approve = (
        "mod.button_approve"
        if item.initiative.visibility is Visibility.PENDING
        else ("mod.button_restore")
    )
    return keyboard(
        [
            [(t(approve), f"mod:ok:{number}"), (t("mod.button_reject"), f"mod:no:{number}")],
            [
                (t("mod.button_edit"), f"mod:edit:{number}"),
                (t("mod.button_skip"), f"mod:skip:{number}"),
            ],
        ]
    )


def _post_item_text(context: BotContext, t: Translator, item: PostItem) -> str:
    post = item.post
    names = {topic.key: topic.name(t.language) for topic in main_topics(context)}
    author = item.author
    return t(
        "mod.post_item",
        waiting=item.waiting,
        number=post.id,
        topic=names.get(post.topic, post.topic) if post.topic else t("mod.post_any_topic"),
        kern=post.kern or t("mod.post_all_kernen"),
        post=Markup(
            post_text(
                t,
                post.text,
                author.name if author else None,
                author.department if author else None,
                context.config.municipality.name,
            )
        ),
    )


def _post_keyboard(t: Translator, post_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [
                (t("mod.button_approve"), f"mod:pok:{post_id}"),
                (t("mod.button_reject"), f"mod:pno:{post_id}"),
            ],
            [(t("mod.button_skip"), f"mod:pskip:{post_id}")],
        ]
    )


async def _show_next(
    update: Update,
    context: BotContext,
    t: Translator,
    after: int = 0,
    *,
    after_post: int | None = None,
) -> int:
    """The next item after the initiative `after` (or the post `after_post`): initiatives
    first, then posts, then from the start again."""
    moderation = context.services.moderation
    item: QueueItem | None = None
    post: PostItem | None = None
    if after_post is None:
        item = await moderation.next_item(after, wrap=False)
        post = None if item else await moderation.next_post()
        item = item or (None if post else await moderation.next_item())
    else:
        post = await moderation.next_post(after_post, wrap=False)
        item = None if post else await moderation.next_item()
        post = post or (None if item else await moderation.next_post())
    message = update.effective_message
    if item is not None:
        await message.reply_text(_item_text(t, item), reply_markup=_item_keyboard(t, item))
    elif post is not None:
        await message.reply_text(
            _post_item_text(context, t, post), reply_markup=_post_keyboard(t, post.post.id)
        )
    else:
        await message.reply_text(t("mod.queue_empty"))
    return ConversationHandler.END


async def queue_command(update: Update, context: BotContext) -> int:
    """/wachtrij: the first item waiting for a moderator."""
    user, t = await moderator(update, context)
    context.user_data.pop(ITEM, None)
    context.user_data.pop(POST_ITEM, None)
    if user is None:
        return ConversationHandler.END
    return await _show_next(update, context, t)


async def approve(update: Update, context: BotContext) -> int | None:
    user, t, initiative = await _pressed_item(update, context)
    if user is None or initiative is None:
        return None
    decision = await context.services.moderation.approve(user.id, initiative.id)
    if decision is None:  # decided by another moderator a moment ago
        await stale_button(update, context)
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    context.user_data.pop(ITEM, None)
    await update.effective_message.reply_text(
        t("mod.approved", number=initiative.id, title=initiative.title)
    )
    await context.services.matching.record_late_matches(decision.initiative)
    if decision.was is Visibility.PENDING and decision.author is not None:
        author_t = translator(decision.author.language)
        await send_to(
            context,
            decision.author,
            author_t("mod.approved_resident", title=initiative.title, number=initiative.id),
        )
    return await _show_next(update, context, t, initiative.id)


async def skip(update: Update, context: BotContext) -> int | None:
    user, t, initiative = await _pressed_item(update, context)
    if user is None or initiative is None:
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    context.user_data.pop(ITEM, None)
    return await _show_next(update, context, t, initiative.id)


async def _ask(update: Update, context: BotContext, slot: str, item: int, text: str) -> None:
    """A queue button that wants typed words: remember which item they are for, then ask."""
    await update.callback_query.answer()
    await clear_buttons(update)
    context.user_data[slot] = item
    await update.effective_message.reply_text(text)


async def ask_reason(update: Update, context: BotContext) -> int | None:
    user, t, initiative = await _pressed_item(update, context)
    if user is None or initiative is None:
        return None
    await _ask(update, context, ITEM, initiative.id, t("mod.ask_reason", title=initiative.title))
    return REASON


async def ask_title(update: Update, context: BotContext) -> int | None:
    user, t, initiative = await _pressed_item(update, context)
    if user is None or initiative is None:
        return None
    await _ask(update, context, ITEM, initiative.id, t("mod.ask_title", title=initiative.title))
    return TITLE


async def reject(update: Update, context: BotContext) -> int | None:
    """The typed reason: reject the item and tell its initiator why."""
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    reason = await typed_answer(update, t, REASON_MAX)
    if reason is None:
        return REASON
    initiative_id = context.user_data.pop(ITEM, 0)
    decision = await context.services.moderation.reject(user.id, initiative_id, reason)
    if decision is None:
        await update.effective_message.reply_text(t("mod.gone"))
        return await _show_next(update, context, t)
    title = decision.initiative.title
    await update.effective_message.reply_text(t("mod.rejected", number=initiative_id, title=title))
    if decision.author is not None:
        author_t = translator(decision.author.language)
        await send_to(
            context,
            decision.author,
            author_t("mod.rejected_resident", title=title, number=initiative_id, reason=reason),
        )
    return await _show_next(update, context, t, initiative_id)


async def edit_title(update: Update, context: BotContext) -> int | None:
    """The typed title: change it and show the item again for a decision."""
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    title = await typed_answer(update, t, TITLE_MAX)
    if title is None:
        return TITLE
    initiative_id = context.user_data.pop(ITEM, 0)
    edited = await context.services.moderation.edit_title(user.id, initiative_id, title)
    if edited is None:
        await update.effective_message.reply_text(t("mod.gone"))
        return await _show_next(update, context, t)
    await update.effective_message.reply_text(t("mod.title_changed", title=edited.title))
    # The same item again, edited, for the decision still to be taken.
    return await _show_next(update, context, t, initiative_id - 1)


# --- "Wist je dat…" posts in the queue -------------------------------------------------------


async def approve_post(update: Update, context: BotContext) -> int | None:
    user, t, post = await _pressed_post(update, context)
    if user is None or post is None:
        return None
    decision = await context.services.moderation.approve_post(user.id, post.id)
    if decision is None:  # decided by another moderator a moment ago
        await stale_button(update, context)
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    context.user_data.pop(POST_ITEM, None)
    await update.effective_message.reply_text(t("mod.post_approved", number=post.id))
    if decision.author is not None:
        author_t = translator(decision.author.language)
        await send_to(context, decision.author, author_t("post.approved_author", text=post.text))
    return await _show_next(update, context, t, after_post=post.id)


async def skip_post(update: Update, context: BotContext) -> int | None:
    user, t, post = await _pressed_post(update, context)
    if user is None or post is None:
        return None
    await update.callback_query.answer()
    await clear_buttons(update)
    context.user_data.pop(POST_ITEM, None)
    return await _show_next(update, context, t, after_post=post.id)


async def ask_post_reason(update: Update, context: BotContext) -> int | None:
    user, t, post = await _pressed_post(update, context)
    if user is None or post is None:
        return None
    await _ask(update, context, POST_ITEM, post.id, t("mod.ask_post_reason", number=post.id))
    return POST_REASON


async def reject_post(update: Update, context: BotContext) -> int | None:
    """The typed reason: reject the post and tell its author why."""
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    reason = await typed_answer(update, t, REASON_MAX)
    if reason is None:
        return POST_REASON
    post_id = context.user_data.pop(POST_ITEM, 0)
    decision = await context.services.moderation.reject_post(user.id, post_id, reason)
    if decision is None:
        await update.effective_message.reply_text(t("mod.gone"))
        return await _show_next(update, context, t)
    await update.effective_message.reply_text(t("mod.post_rejected", number=post_id))
    if decision.author is not None:
        author_t = translator(decision.author.language)
        await send_to(
            context,
            decision.author,
            author_t("post.rejected_author", text=decision.post.text, reason=reason),
        )
    return await _show_next(update, context, t, after_post=post_id)


async def cancel(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    context.user_data.pop(ITEM, None)
    context.user_data.pop(POST_ITEM, None)
    await update.effective_message.reply_text(t("mod.cancelled"))
    return ConversationHandler.END


# --- moderators hide and ban --------------------------------------------------------------


async def hide(update: Update, context: BotContext) -> None:
    """/verberg <nummer>: hide a visible initiative at once; it waits in /wachtrij."""
    user, t = await moderator(update, context)
    if user is None:
        return
    number = number_argument(context)
    if number is None:
        await update.effective_message.reply_text(t("mod.hide_usage"))
        return
    hidden = await context.services.moderation.hide(user.id, number)
    key = "mod.hidden_by_moderator" if hidden else "mod.hide_not_visible"
    await update.effective_message.reply_text(t(key, number=number))


async def _set_banned(update: Update, context: BotContext, banned: bool) -> None:
    user, t = await moderator(update, context)
    if user is None:
        return
    usage, done, unchanged = (
        ("mod.ban_usage", "mod.banned_user", "mod.ban_unchanged")
        if banned
        else ("mod.unban_usage", "mod.unbanned_user", "mod.unban_unchanged")
    )
    args = context.args or []
    if not args:
        await update.effective_message.reply_text(t(usage))
        return
    target = await context.services.moderation.find_user(args[0])
    if target is None:
        await update.effective_message.reply_text(t("mod.user_unknown", who=args[0]))
        return
    if context.services.civil_servants.is_moderator(target):
        await update.effective_message.reply_text(t("mod.ban_moderator"))
        return
    changed = await context.services.moderation.set_banned(user.id, target.id, banned)
    key = done if changed else unchanged
    await update.effective_message.reply_text(t(key, who=args[0]))


async def ban(update: Update, context: BotContext) -> None:
    """/ban <telegram id or @username>"""
    await _set_banned(update, context, True)


async def unban(update: Update, context: BotContext) -> None:
    """/unban <telegram id or @username>"""
    await _set_banned(update, context, False)


def moderation_conversation() -> ConversationHandler:
    button = CallbackQueryHandler
    # The queue buttons work in and out of the conversation: a moderator may press another
    # item's button while a reason is asked for; that simply moves on.
    buttons = [
        CommandHandler("wachtrij", queue_command),
        button(approve, pattern=r"^mod:ok:\d+$"),
        button(ask_reason, pattern=r"^mod:no:\d+$"),
        button(ask_title, pattern=r"^mod:edit:\d+$"),
        button(skip, pattern=r"^mod:skip:\d+$"),
        button(approve_post, pattern=r"^mod:pok:\d+$"),
        button(ask_post_reason, pattern=r"^mod:pno:\d+$"),
        button(skip_post, pattern=r"^mod:pskip:\d+$"),
    ]
    return conversation(
        name="moderation",
        persistent=True,
        entry_points=buttons,
        states={
            REASON: [MessageHandler(NEW_MESSAGE & f.TEXT & ~f.COMMAND, reject)],
            TITLE: [MessageHandler(NEW_MESSAGE & f.TEXT & ~f.COMMAND, edit_title)],
            POST_REASON: [MessageHandler(NEW_MESSAGE & f.TEXT & ~f.COMMAND, reject_post)],
        },
        fallbacks=[CommandHandler("annuleer", cancel), *buttons],
    )


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            moderation_conversation(),
            CommandHandler("verberg", hide),
            CommandHandler("ban", ban),
            CommandHandler("unban", unban),
        ]
    )
