"""Moderation: /wachtrij (approve, reject with a reason, edit the title, skip; then the civil
servants' "Wist je dat…" posts: approve, reject with a reason, skip), /verberg, /ban and
/unban, and the guard that stops a banned person on every update (but for their privacy rights).

The decisions are bot/services/moderation.py. Every command and button checks here that the
person is a moderator (`common.moderator`) and the service checks that the item is still in the
queue: anything else is refused like a stale button, and logged, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, ConversationHandler

from bot.i18n import Markup, Translator, translator
from bot.services.initiatives import TITLE_MAX
from bot.services.moderation import (
    REASON_MAX,
    Decision,
    ModerationService,
    PostDecision,
    PostItem,
    QueueItem,
)
from handlers.callbacks import Button
from handlers.civil_servants.posts import post_text
from handlers.common import (
    alert_or_reply,
    conversation,
    keyboard,
    moderator,
    number_argument,
    press_done,
    send_to,
    speaker,
    stale_button,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.residents.following import main_topics
from handlers.residents.privacy import HANDLERS as privacy_handlers
from handlers.steps import cancel_with
from models import Initiative, Post, User, Visibility

REASON, TITLE, POST_REASON, BAN_REASON, BAN_CONFIRM = range(5)
ITEM = "mod_item"  # user_data: the initiative a typed reason or title is for
POST_ITEM = "mod_post"  # user_data: the post a typed reason is for
BAN_TARGET = "mod_ban"  # user_data: the person /ban names, and the reason once typed


# --- the buttons ---------------------------------------------------------------------------

# An initiative in the queue: approve (or restore), reject with a reason, edit the title, skip.
APPROVE = Button("mod:ok", int)
REJECT = Button("mod:no", int)
EDIT = Button("mod:edit", int)
SKIP = Button("mod:skip", int)
# A civil servant's post in the queue: approve, reject with a reason, skip.
POST_APPROVE = Button("mod:pok", int)
POST_REJECT = Button("mod:pno", int)
POST_SKIP = Button("mod:pskip", int)
# /ban's last step, for the person (user id) named: block, or not after all.
BAN = Button("mod:ban", int)
BAN_CANCEL = Button("mod:bancancel", int)


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
    await alert_or_reply(update, t("mod.banned"))
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
    pending = item.initiative.visibility is Visibility.PENDING
    approve = "mod.button_approve" if pending else "mod.button_restore"
    return keyboard(
        [
            [(t(approve), APPROVE.build(number)), (t("mod.button_reject"), REJECT.build(number))],
            [
                (t("mod.button_edit"), EDIT.build(number)),
                (t("mod.button_skip"), SKIP.build(number)),
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
                (t("mod.button_approve"), POST_APPROVE.build(post_id)),
                (t("mod.button_reject"), POST_REJECT.build(post_id)),
            ],
            [(t("mod.button_skip"), POST_SKIP.build(post_id))],
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


async def _tell(context: BotContext, person: User | None, key: str, **values: object) -> None:
    """Tell the author what became of their initiative or post, in their own language."""
    if person is not None:
        await send_to(context, person, translator(person.language)(key, **values))


@dataclass(frozen=True)
class _Queue:
    """What the initiatives and the posts in /wachtrij share: a press names an item that must
    still wait; it is approved, skipped, or rejected with a typed reason (and its author told);
    then the next item. Each kind says how it is found, decided and announced."""

    slot: str  # user_data: the item a typed reason is for
    reason_state: int  # the conversation's state while that reason is typed
    approve_button: Button
    reject_button: Button
    skip_button: Button
    # The service's calls for this kind: the item if it still waits; approve (None when another
    # moderator decided it a moment ago); reject with a reason.
    find: Callable[[ModerationService, int], Awaitable[Any]]
    decide: Callable[[ModerationService, int, int], Awaitable[Any]]
    decide_reject: Callable[[ModerationService, int, int, str], Awaitable[Any]]
    # What the moderator (and the author) are told; the question for the reason; what is next.
    approved: Callable[[Update, BotContext, Translator, Any, Any], Awaitable[None]]
    rejected: Callable[[Update, BotContext, Translator, Any, str], Awaitable[None]]
    ask_reason_text: Callable[[Translator, Any], str]
    show_after: Callable[[Update, BotContext, Translator, int], Awaitable[int]]

    async def pressed(
        self, update: Update, context: BotContext, button: Button
    ) -> tuple[User | None, Translator, Any | None]:
        """For a queue button: the moderator and the item named, if it still waits; else
        refused."""
        user, t = await moderator(update, context)
        if user is None:
            return None, t, None
        item = await self.find(context.services.moderation, button.one(update.callback_query.data))
        if item is None:
            await stale_button(update, context)
        return user, t, item

    async def _take(self, update: Update, context: BotContext) -> None:
        """The press is taken: its buttons go, and a reason asked for earlier is no longer."""
        await press_done(update)
        context.user_data.pop(self.slot, None)

    async def approve(self, update: Update, context: BotContext) -> int | None:
        user, t, item = await self.pressed(update, context, self.approve_button)
        if user is None or item is None:
            return None
        decision = await self.decide(context.services.moderation, user.id, item.id)
        if decision is None:  # decided by another moderator a moment ago
            await stale_button(update, context)
            return None
        await self._take(update, context)
        await self.approved(update, context, t, item, decision)
        return await self.show_after(update, context, t, item.id)

    async def skip(self, update: Update, context: BotContext) -> int | None:
        user, t, item = await self.pressed(update, context, self.skip_button)
        if user is None or item is None:
            return None
        await self._take(update, context)
        return await self.show_after(update, context, t, item.id)

    async def ask_reason(self, update: Update, context: BotContext) -> int | None:
        user, t, item = await self.pressed(update, context, self.reject_button)
        if user is None or item is None:
            return None
        await _ask(update, context, self.slot, item.id, self.ask_reason_text(t, item))
        return self.reason_state

    async def reject(self, update: Update, context: BotContext) -> int | None:
        """The typed reason: reject the item and tell its author why."""
        user, t = await moderator(update, context)
        if user is None:
            return ConversationHandler.END
        reason = await typed_answer(update, t, REASON_MAX)
        if reason is None:
            return self.reason_state
        number = context.user_data.pop(self.slot, 0)
        decision = await self.decide_reject(context.services.moderation, user.id, number, reason)
        if decision is None:
            await update.effective_message.reply_text(t("mod.gone"))
            return await _show_next(update, context, t)
        await self.rejected(update, context, t, decision, reason)
        return await self.show_after(update, context, t, number)


async def _initiative_approved(
    update: Update, context: BotContext, t: Translator, item: Initiative, decision: Decision
) -> None:
    await update.effective_message.reply_text(t("mod.approved", number=item.id, title=item.title))
    await context.services.matching.record_late_matches(decision.initiative)
    if decision.was is Visibility.PENDING:  # a restored one was public before
        await _tell(
            context,
            decision.author,
            "mod.approved_resident",
            title=item.title,
            number=item.id,
        )


async def _initiative_rejected(
    update: Update, context: BotContext, t: Translator, decision: Decision, reason: str
) -> None:
    number, title = decision.initiative.id, decision.initiative.title
    await update.effective_message.reply_text(t("mod.rejected", number=number, title=title))
    await _tell(
        context,
        decision.author,
        "mod.rejected_resident",
        title=title,
        number=number,
        reason=reason,
    )


async def _post_approved(
    update: Update, context: BotContext, t: Translator, item: Post, decision: PostDecision
) -> None:
    await update.effective_message.reply_text(t("mod.post_approved", number=item.id))
    await _tell(context, decision.author, "post.approved_author", text=item.text)


async def _post_rejected(
    update: Update, context: BotContext, t: Translator, decision: PostDecision, reason: str
) -> None:
    await update.effective_message.reply_text(t("mod.post_rejected", number=decision.post.id))
    await _tell(
        context, decision.author, "post.rejected_author", text=decision.post.text, reason=reason
    )


async def _after_post(update: Update, context: BotContext, t: Translator, number: int) -> int:
    """The queue after a post: the next post, else the initiatives from the start."""
    return await _show_next(update, context, t, after_post=number)


INITIATIVES = _Queue(
    slot=ITEM,
    reason_state=REASON,
    approve_button=APPROVE,
    reject_button=REJECT,
    skip_button=SKIP,
    find=ModerationService.in_queue,
    decide=ModerationService.approve,
    decide_reject=ModerationService.reject,
    approved=_initiative_approved,
    rejected=_initiative_rejected,
    ask_reason_text=lambda t, item: t("mod.ask_reason", title=item.title),
    show_after=_show_next,  # the next initiative after it
)
POSTS = _Queue(
    slot=POST_ITEM,
    reason_state=POST_REASON,
    approve_button=POST_APPROVE,
    reject_button=POST_REJECT,
    skip_button=POST_SKIP,
    find=ModerationService.pending_post,
    decide=ModerationService.approve_post,
    decide_reject=ModerationService.reject_post,
    approved=_post_approved,
    rejected=_post_rejected,
    ask_reason_text=lambda t, item: t("mod.ask_post_reason", number=item.id),
    show_after=_after_post,
)


async def _ask(update: Update, context: BotContext, slot: str, item: int, text: str) -> None:
    """A queue button that wants typed words: remember which item they are for, then ask."""
    await press_done(update)
    context.user_data[slot] = item
    await update.effective_message.reply_text(text)


async def ask_title(update: Update, context: BotContext) -> int | None:
    user, t, initiative = await INITIATIVES.pressed(update, context, EDIT)
    if user is None or initiative is None:
        return None
    await _ask(update, context, ITEM, initiative.id, t("mod.ask_title", title=initiative.title))
    return TITLE


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


async def cancel(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    context.user_data.pop(ITEM, None)
    context.user_data.pop(POST_ITEM, None)
    if context.user_data.pop(BAN_TARGET, None) is not None:
        await update.effective_message.reply_text(t("mod.ban_stopped"))
        return ConversationHandler.END
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


def _named(person: User, typed: str) -> str:
    """A person as the moderator knows them: their name, else what was typed after /ban."""
    return person.display_name or typed


async def ban(update: Update, context: BotContext) -> int:
    """/ban <telegram id or @username>: asks why, then whether they are sure."""
    user, t = await moderator(update, context)
    context.user_data.pop(BAN_TARGET, None)
    if user is None:
        return ConversationHandler.END
    message = update.effective_message
    args = context.args or []
    if not args:
        await message.reply_text(t("mod.ban_usage"))
        return ConversationHandler.END
    target = await context.services.moderation.find_user(args[0])
    if target is None:
        await message.reply_text(t("mod.user_unknown", who=args[0]))
        return ConversationHandler.END
    if context.services.civil_servants.is_moderator(target):
        await message.reply_text(t("mod.ban_moderator"))
        return ConversationHandler.END
    if target.banned_at is not None:
        await message.reply_text(t("mod.ban_unchanged", who=args[0]))
        return ConversationHandler.END
    context.user_data[BAN_TARGET] = {"user": target.id, "who": args[0]}
    await message.reply_text(t("mod.ban_ask_reason", name=_named(target, args[0])))
    return BAN_REASON


async def ban_reason(update: Update, context: BotContext) -> int:
    """The typed reason (for the log): then the question whether they are sure."""
    user, t = await moderator(update, context)
    pending = context.user_data.get(BAN_TARGET)
    if user is None or pending is None:
        return ConversationHandler.END
    reason = await typed_answer(update, t, REASON_MAX)
    if reason is None:
        return BAN_REASON
    context.user_data[BAN_TARGET] = {**pending, "reason": reason}
    target = await context.services.users.by_id(pending["user"])
    if target is None:  # erased in the meantime
        context.user_data.pop(BAN_TARGET, None)
        await update.effective_message.reply_text(t("mod.user_unknown", who=pending["who"]))
        return ConversationHandler.END
    number = target.id
    await update.effective_message.reply_text(
        t("mod.ban_confirm", name=_named(target, pending["who"])),
        reply_markup=keyboard(
            [
                [
                    (t("mod.button_ban"), BAN.build(number)),
                    (t("mod.button_ban_cancel"), BAN_CANCEL.build(number)),
                ]
            ]
        ),
    )
    return BAN_CONFIRM


async def _ban_pressed(
    update: Update, context: BotContext, button: Button
) -> tuple[User | None, Translator, dict[str, Any] | None]:
    """The moderator and the ban waiting for this press; None after refusing it (a button of
    an earlier /ban, or forged)."""
    user, t = await moderator(update, context)
    if user is None:
        return None, t, None
    pending = context.user_data.get(BAN_TARGET)
    number = button.one(update.callback_query.data)
    if pending is None or pending["user"] != number or "reason" not in pending:
        await stale_button(update, context)
        return user, t, None
    context.user_data.pop(BAN_TARGET, None)
    await press_done(update)
    return user, t, pending


async def ban_confirmed(update: Update, context: BotContext) -> int | None:
    """Blokkeren: the ban, with its reason in the log; the person is told once where to go
    instead. Pressed twice (or by two moderators), it bans once."""
    user, t, pending = await _ban_pressed(update, context, BAN)
    if user is None or pending is None:
        return None
    banned = await context.services.moderation.set_banned(
        user.id, pending["user"], True, reason=pending["reason"]
    )
    message = update.effective_message
    if banned is None:
        await message.reply_text(t("mod.ban_unchanged", who=pending["who"]))
        return ConversationHandler.END
    await message.reply_text(t("mod.banned_user", who=pending["who"]))
    await send_to(context, banned, _banned_notice(context, banned))
    return ConversationHandler.END


async def ban_cancelled(update: Update, context: BotContext) -> int | None:
    user, t, pending = await _ban_pressed(update, context, BAN_CANCEL)
    if user is None or pending is None:
        return None
    await update.effective_message.reply_text(t("mod.ban_stopped"))
    return ConversationHandler.END


def _banned_notice(context: BotContext, person: User) -> str:
    """What a banned person hears, once: blocked, and how to reach the municipality itself."""
    # /over's words for the municipality's own platform; imported here, as /over is a flow.
    from handlers.residents.about import platform_line

    t = translator(person.language)
    lines = [t("mod.banned_notice", municipality=context.config.municipality.name)]
    platform = platform_line(t, context.config)
    if platform:
        lines.append(platform)
    lines.append(t("mod.banned_notice_privacy"))
    return "\n\n".join(lines)


async def unban(update: Update, context: BotContext) -> None:
    """/unban <telegram id or @username>"""
    user, t = await moderator(update, context)
    if user is None:
        return
    message = update.effective_message
    args = context.args or []
    if not args:
        await message.reply_text(t("mod.unban_usage"))
        return
    target = await context.services.moderation.find_user(args[0])
    if target is None:
        await message.reply_text(t("mod.user_unknown", who=args[0]))
        return
    changed = await context.services.moderation.set_banned(user.id, target.id, False)
    key = "mod.unbanned_user" if changed else "mod.unban_unchanged"
    await message.reply_text(t(key, who=args[0]))


def moderation_conversation() -> ConversationHandler:
    # The queue buttons work in and out of the conversation: a moderator may press another
    # item's button while a reason is asked for; that simply moves on.
    buttons = [
        CommandHandler("wachtrij", queue_command),
        *(
            handler
            for queue in (INITIATIVES, POSTS)
            for handler in (
                queue.approve_button.handler(queue.approve),
                queue.reject_button.handler(queue.ask_reason),
                queue.skip_button.handler(queue.skip),
            )
        ),
        EDIT.handler(ask_title),
        CommandHandler("ban", ban),
    ]
    return conversation(
        name="moderation",
        persistent=True,
        entry_points=buttons,
        states={
            REASON: [text_step(INITIATIVES.reject)],
            TITLE: [text_step(edit_title)],
            POST_REASON: [text_step(POSTS.reject)],
            BAN_REASON: [text_step(ban_reason)],
            BAN_CONFIRM: [BAN.handler(ban_confirmed), BAN_CANCEL.handler(ban_cancelled)],
        },
        fallbacks=[cancel_with(cancel), *buttons],
    )


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            moderation_conversation(),
            CommandHandler("verberg", hide),
            CommandHandler("unban", unban),
        ]
    )
