"""/groep: the meeting place of an initiative. Its initiator and everyone who joined write to
each other through the bot ("Bericht aan de groep"), each under the name the bot knows them by:
no @username, no phone number. The initiator sees who is in; a member writes a note for them,
or stops taking part ("Niet meer meedoen", confirmed; the initiator is told, without the name).
A relayed post can be reported; a moderator can hide it.

Posts are stored with their deliveries first (bot/services/meeting.py) and sent by the dispatch
loop (handlers/dispatch.py): the first ones at once, the rest of a large group with its next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
)

from bot.i18n import Translator, translator
from bot.services.meeting import BUTTONS, NOTE_MAX, POST_KEY, POST_MAX, Group, Left
from bot.services.moderation import ReportResult
from handlers.callbacks import Button, any_press
from handlers.common import (
    after_storing,
    clear_buttons,
    conversation,
    keyboard,
    moderator,
    number_argument,
    refuse_press,
    requires_resident,
    send_to,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.dispatch import NOTICE_BUTTONS, send_now
from handlers.steps import DraftSlot, cancel_with, closing, otherwise, saying
from models import User

WRITING, NOTING = range(2)
# Deliveries of a post sent while its author waits; a larger group's others follow with the
# dispatch loop's next run (a minute at most), paced like everything it sends.
SENT_AT_ONCE = 25

# An initiative's id: open its group, write to it, see who is in (the initiator), write a note
# for the initiator (a member), stop taking part (ask, then yes or no).
OPEN = Button("groep:open", int)
WRITE = Button("groep:write", int)
MEMBERS = Button("groep:who", int)
NOTE = Button("groep:note", int)
LEAVE = Button("groep:leave", int, ("ask", "yes", "no"))
# A relayed post's id: a member reports it (ask, then yes or no); a moderator hides it.
REPORT = Button("groep:report", int, ("ask", "yes", "no"))
HIDE = Button("groep:hide", int)


@dataclass(frozen=True)
class Writing:
    """What the next text is for: a post to the group of `initiative_id`, or a note."""

    initiative_id: int
    note: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"initiative_id": self.initiative_id, "note": self.note}

    @classmethod
    def load(cls, data: dict[str, Any] | None) -> Writing | None:
        if not data or not isinstance(data.get("initiative_id"), int):
            return None
        return cls(data["initiative_id"], bool(data.get("note")))


DRAFT: DraftSlot[Any] = DraftSlot("meeting", Writing.load)


# --- rendering ---------------------------------------------------------------------------


def name_of(t: Translator, user: User) -> str:
    """The name a member is shown by: the one the bot knows them by, nothing else."""
    return user.display_name or t("meeting.no_name")


def relayed_buttons(t: Translator, payload: dict[str, Any]) -> InlineKeyboardMarkup:
    """Under a relayed post: answer the group, report the post."""
    return keyboard(
        [
            [
                (t("meeting.button_answer"), WRITE.build(int(payload["initiative_id"]))),
                (t("meeting.button_report"), REPORT.build(int(payload[POST_KEY]), "ask")),
            ]
        ]
    )


async def _show(message: Message, t: Translator, group: Group) -> None:
    """A group's menu: write to it; the initiator sees who is in, a member writes a note or
    leaves."""
    rows = [[(t("meeting.button_write"), WRITE.build(group.initiative_id))]]
    if group.led:
        rows.append([(t("meeting.button_members"), MEMBERS.build(group.initiative_id))])
    else:
        rows.append([(t("meeting.button_note"), NOTE.build(group.initiative_id))])
        rows.append([(t("meeting.button_leave"), LEAVE.build(group.initiative_id, "ask"))])
    key = "meeting.menu_led" if group.led else "meeting.menu"
    await message.reply_text(
        t.plural(key, group.people, title=group.title), reply_markup=keyboard(rows)
    )


async def _pressed_group(
    update: Update, context: BotContext, user: User, button: Button
) -> Group | None:
    """The group a press names, if the one pressing is in it; else the stale answer (an old
    button, someone else's group, a forged press)."""
    values = button.parse(update.callback_query.data)
    group = await context.services.meeting.group(user.id, values[0]) if values else None
    if group is None:
        await refuse_press(update, context)
    return group


# --- /groep and its menu -----------------------------------------------------------------


@requires_resident
async def group_command(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """/groep [nummer]: the group of that initiative; without one, the resident's only group
    or a choice of them."""
    message = update.effective_message
    meeting = context.services.meeting
    number = number_argument(context)
    if number is not None:
        group = await meeting.group(user.id, number)
        if group is None:
            await message.reply_text(t("meeting.not_member", number=number))
        else:
            await _show(message, t, group)
        return
    groups = await meeting.groups_of(user.id)
    if not groups:
        await message.reply_text(t("meeting.none"))
    elif len(groups) == 1:
        await _show(message, t, groups[0])
    else:
        rows = [[(g.title, OPEN.build(g.initiative_id))] for g in groups]
        await message.reply_text(t("meeting.choose"), reply_markup=keyboard(rows))


@requires_resident
async def open_group(update: Update, context: BotContext, user: User, t: Translator) -> None:
    group = await _pressed_group(update, context, user, OPEN)
    if group is None:
        return
    await update.callback_query.answer()
    await _show(update.effective_message, t, group)


@requires_resident
async def members(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """The initiator's list: who joined, since when, and the note each wrote."""
    query = update.callback_query
    initiative_id = MEMBERS.one(query.data)
    meeting = context.services.meeting
    group = await meeting.group(user.id, initiative_id)
    people = await meeting.members(user.id, initiative_id) if group else None
    if group is None or people is None:
        await refuse_press(update, context)
        return
    await query.answer()
    tz = context.config.municipality.tz
    lines = [t.plural("meeting.members_header", len(people), title=group.title)]
    for member in people:
        line = t("meeting.member", name=name_of(t, member.user), date=t.date(member.since, tz))
        if member.note:
            line = "\n".join((line, t("meeting.member_note", note=member.note)))
        lines.append(line)
    if not people:
        lines.append(t("meeting.members_none"))
    await query.message.reply_text("\n\n".join(lines))


@requires_resident
async def leave(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """ "Niet meer meedoen": asked to confirm; yes leaves the group, no stays."""
    query = update.callback_query
    group = await _pressed_group(update, context, user, LEAVE)
    if group is None:
        return
    if group.led:  # the initiator closes their initiative in /mijn instead
        await refuse_press(update, context)
        return
    _, step = LEAVE.parse(query.data)
    await query.answer()
    if step == "ask":
        await query.message.reply_text(
            t("meeting.leave_confirm", title=group.title),
            reply_markup=keyboard(
                [
                    [(t("meeting.button_leave_yes"), LEAVE.build(group.initiative_id, "yes"))],
                    [(t("meeting.button_leave_no"), LEAVE.build(group.initiative_id, "no"))],
                ]
            ),
        )
        return
    await clear_buttons(update)
    if step == "no":
        await query.message.reply_text(t("meeting.stayed", title=group.title))
        return
    left = await context.services.meeting.leave(user.id, group.initiative_id)
    await query.message.reply_text(t("meeting.left", title=group.title))
    # Not for a second press that found them gone, nor for a join the initiator never heard of.
    if left is Left.ANNOUNCED:
        await _tell_initiator_left(context, group)


async def _tell_initiator_left(context: BotContext, group: Group) -> None:
    """The initiator hears that someone left, and how many take part now; not who (kinder, and
    /groep shows who is in). Nothing for an initiator who erased themselves or is banned."""
    if group.initiator_id is None:
        return
    initiator = await context.services.users.by_id(group.initiator_id)
    if initiator is None or initiator.banned_at is not None:
        return
    now = await context.services.meeting.group(initiator.id, group.initiative_id)
    if now is None:
        return
    it = translator(initiator.language)
    await send_to(
        context,
        initiator,
        it.plural("meeting.someone_left", now.people, title=now.title),
        to_the_group(it, group.initiative_id),
    )


def to_the_group(t: Translator, initiative_id: int) -> InlineKeyboardMarkup:
    """ "Naar de groep": the meeting place of an initiative, under the news that someone joined
    or left and after one's own join."""
    return keyboard([[(t("meeting.button_open"), OPEN.build(initiative_id))]])


# --- writing to the group ----------------------------------------------------------------


@requires_resident
async def start_writing(
    update: Update, context: BotContext, user: User, t: Translator
) -> int | None:
    """ "Bericht aan de groep" (or "Stel je voor"): the next text is the post (or the note)."""
    query = update.callback_query
    note = NOTE.parse(query.data) is not None
    group = await _pressed_group(update, context, user, NOTE if note else WRITE)
    if group is None or (note and group.led):
        if group is not None:
            await refuse_press(update, context)
        return ConversationHandler.END
    if user.banned_at is not None:  # the ban guard stops them first; this is the last word
        await query.answer(t("mod.banned"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    DRAFT.keep(context, Writing(group.initiative_id, note))
    if note:
        await query.message.reply_text(t("meeting.note_write", title=group.title, limit=NOTE_MAX))
        return NOTING
    await query.message.reply_text(t("meeting.write", title=group.title, limit=POST_MAX))
    return WRITING


@requires_resident
async def post(update: Update, context: BotContext, user: User, t: Translator) -> int | None:
    """Store the post with a delivery for every other member, then send them."""
    text = await typed_answer(update, t, POST_MAX, too_long="meeting.too_long")
    if text is None:
        return WRITING
    writing = DRAFT.get(context)
    DRAFT.forget(context)
    message = update.effective_message
    if writing is None:
        await message.reply_text(t("meeting.closed"))
        return ConversationHandler.END
    outcome = await context.services.meeting.post(
        user.id, writing.initiative_id, text, source=f"{message.chat_id}:{message.message_id}"
    )
    if not outcome.ok:
        await message.reply_text(t(f"meeting.post_{outcome.reason}"))
        return ConversationHandler.END
    async with after_storing(update, context):
        await send_now(context, outcome.work_ids[:SENT_AT_ONCE])
        await message.reply_text(t.plural("meeting.sent", len(outcome.work_ids)))
    return ConversationHandler.END


@requires_resident
async def save_note(update: Update, context: BotContext, user: User, t: Translator) -> int | None:
    text = await typed_answer(update, t, NOTE_MAX)
    if text is None:
        return NOTING
    writing = DRAFT.get(context)
    DRAFT.forget(context)
    saved = writing is not None and await context.services.meeting.set_note(
        user.id, writing.initiative_id, text
    )
    await update.effective_message.reply_text(
        t("meeting.note_saved" if saved else "meeting.closed")
    )
    return ConversationHandler.END


not_text = saying("meeting.text_only")
cancel = closing("meeting.cancelled", DRAFT)


# --- moderation --------------------------------------------------------------------------


@requires_resident
async def report(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """A member reports a post they received: asked to confirm; the moderators hear of it."""
    query = update.callback_query
    post_id, step = REPORT.parse(query.data)
    meeting = context.services.meeting
    if step == "no":
        await query.answer()
        await clear_buttons(update)
        await query.message.reply_text(t("meeting.report_not_sent"))
        return
    if await meeting.received(user.id, post_id) is None:
        await refuse_press(update, context)
        return
    await query.answer()
    if step == "ask":
        await query.message.reply_text(
            t("meeting.report_confirm"),
            reply_markup=keyboard(
                [
                    [(t("meeting.button_report_yes"), REPORT.build(post_id, "yes"))],
                    [(t("meeting.button_report_no"), REPORT.build(post_id, "no"))],
                ]
            ),
        )
        return
    await clear_buttons(update)
    result = await meeting.report(user.id, post_id)
    await query.message.reply_text(t(f"meeting.report_{result.value}"))
    if result in (ReportResult.REPORTED, ReportResult.HIDDEN):
        await _tell_moderators(context, post_id, hidden=result is ReportResult.HIDDEN)


async def _tell_moderators(context: BotContext, post_id: int, *, hidden: bool) -> None:
    facts = await context.services.meeting.facts(post_id)
    if facts is None:
        return
    for reviewer in await context.services.civil_servants.moderators():
        rt = translator(reviewer.language)
        text = rt(
            "meeting.report_notice_hidden" if hidden else "meeting.report_notice",
            name=name_of(rt, facts.author) if facts.author else rt("meeting.no_name"),
            title=facts.title,
            text=facts.post.text,
        )
        markup = None if hidden else keyboard([[(rt("meeting.button_hide"), HIDE.build(post_id))]])
        await send_to(context, reviewer, text, markup)


async def hide(update: Update, context: BotContext) -> None:
    """A moderator hides a reported post: what was not delivered yet is not delivered."""
    user, t = await moderator(update, context)
    if user is None:
        return
    query = update.callback_query
    if not await context.services.meeting.hide(user.id, HIDE.one(query.data)):
        await query.answer(t("meeting.hide_already"), show_alert=True)
        return
    await query.answer()
    await clear_buttons(update)
    await query.message.reply_text(t("meeting.hidden_ok"))


def meeting_conversation() -> ConversationHandler:
    return conversation(
        name="meeting",
        persistent=True,
        allow_reentry=True,
        entry_points=[WRITE.handler(start_writing), NOTE.handler(start_writing)],
        states={WRITING: [text_step(post)], NOTING: [text_step(save_note)]},
        fallbacks=[
            cancel_with(cancel),
            otherwise(not_text),
        ],
    )


def register(application: BotApplication) -> None:
    NOTICE_BUTTONS[BUTTONS] = relayed_buttons
    application.add_handlers(
        [
            meeting_conversation(),
            CommandHandler("groep", group_command),
            OPEN.handler(open_group),
            MEMBERS.handler(members),
            LEAVE.handler(leave),
            REPORT.handler(report),
            HIDE.handler(hide),
            # Any other "groep:" press is not one this flow built.
            CallbackQueryHandler(refuse_press, pattern=any_press("groep")),
        ]
    )
