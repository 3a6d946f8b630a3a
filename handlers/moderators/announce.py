"""/mededeling: a moderator composes an announcement, picks the audience, sees a preview exactly
as residents will, and sends it now or at a chosen time (handlers/moderators/scheduled.py then
sends it and shows the progress).

Every step and every button checks that the person is a moderator and that the broadcast is
theirs and still a draft; anything else is refused like a stale button, and logged."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f

from bot.i18n import Translator
from bot.services import broadcasts as bc
from bot.services.broadcasts import Audience
from handlers.callbacks import Button
from handlers.common import (
    NEW_MESSAGE,
    after_storing,
    conversation,
    keyboard,
    moderator,
    press_done,
    speaker,
    text_step,
)
from handlers.context import BotApplication, BotContext
from handlers.moderators.scheduled import STOP_BUTTON, broadcast_tick
from handlers.moderators.shared import (
    Moment,
    announcement,
    audience_choices,
    deliver,
    describe,
    local_time,
    refuse,
)
from handlers.steps import cancel_with, grid, otherwise
from models import Broadcast, BroadcastState, User
from models.base import utcnow

COMPOSE, AUDIENCE, PREVIEW, WHEN, CONFIRM = range(5)


# Telegram's limits are 4,096 characters for a text and 1,024 for a caption; the header and
# footer around the moderator's text take the rest.
TEXT_MAX, CAPTION_MAX = 3500, 850


SCHEDULE_DAYS_MAX = 60

# Every button of the conversation names the draft first; some say more after it.
CHOOSE_AUDIENCE = Button("bc:aud", int, bc.AUDIENCE_KINDS)
PICK = Button("bc:pick", int, int)  # a kern's or topic's place in audience_choices
PICK_DONE = Button("bc:picked", int)
SEND_NOW = Button("bc:now", int)
SEND_LATER = Button("bc:later", int)
OTHER_AUDIENCE = Button("bc:again", int)
SEND = Button("bc:yes", int)
DISCARD = Button("bc:drop", int)


async def _own_draft(
    update: Update, context: BotContext, button: Button
) -> tuple[Translator, Broadcast | None, tuple[Any, ...]]:
    """For a button in the conversation: the moderator, their draft named in the data — the
    one this conversation is about, still a draft, and theirs; else refused — and the rest of
    the data."""
    user, t = await moderator(update, context)
    if user is None:
        return t, None, ()
    draft_id, *rest = button.parse(update.callback_query.data)
    broadcast = None
    if draft_id == context.user_data.get("bc_id"):
        broadcast = await context.services.broadcasts.get(draft_id)
    if (
        broadcast is None
        or broadcast.author_id != user.id
        or broadcast.state is not BroadcastState.DRAFT
    ):
        await refuse(update, context)
        return t, None, ()
    return t, broadcast, tuple(rest)


async def _next_step(
    update: Update, context: BotContext, button: Button
) -> tuple[Translator, Broadcast | None, tuple[Any, ...]]:
    """A button that moves the conversation on: once the draft is checked, the press is
    answered and the buttons go."""
    t, draft, rest = await _own_draft(update, context, button)
    if draft is not None:
        await press_done(update)
    return t, draft, rest


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


def _tell_moderator(key: str) -> Callable[[Update, BotContext], Awaitable[int | None]]:
    """A message the open step does not take: the moderator (still one) is told what it
    takes, and the step stays open."""

    async def tell(update: Update, context: BotContext) -> int | None:
        user, t = await moderator(update, context)
        if user is None:
            return ConversationHandler.END
        await update.effective_message.reply_text(t(key))
        return None

    return tell


# A sticker or a file where the announcement's text was asked for; a message where a button is.
not_content = _tell_moderator("bc.text_or_photo")
use_buttons = _tell_moderator("bc.use_buttons")


def _audience_keyboard(t: Translator, draft_id: int) -> InlineKeyboardMarkup:
    choices = [
        (t("bc.audience_everyone"), bc.EVERYONE),
        (t("bc.audience_kernen"), bc.KERNEN),
        (t("bc.audience_topics"), bc.TOPICS),
        (t("bc.audience_civil_servants"), bc.CIVIL_SERVANTS),
    ]
    return keyboard([[(label, CHOOSE_AUDIENCE.build(draft_id, kind))] for label, kind in choices])


def _pick_keyboard(
    context: BotContext, t: Translator, draft_id: int, kind: str, selected: list[str]
) -> InlineKeyboardMarkup:
    buttons = [
        (f"✅ {label}" if value in selected else label, PICK.build(draft_id, index))
        for index, (value, label) in enumerate(audience_choices(context, kind, t))
    ]
    rows = grid(buttons, 2 if kind == bc.KERNEN else 1)
    rows.append([(t("bc.button_done"), PICK_DONE.build(draft_id))])
    return keyboard(rows)


async def choose_audience(update: Update, context: BotContext) -> int | None:
    t, draft, (kind,) = await _next_step(update, context, CHOOSE_AUDIENCE)
    if draft is None:
        return None
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
    t, draft, (index,) = await _own_draft(update, context, PICK)
    if draft is None:
        return None
    kind = context.user_data.get("bc_kind")
    choices = audience_choices(context, kind, t) if kind in (bc.KERNEN, bc.TOPICS) else []
    if index >= len(choices):
        await refuse(update, context)
        return None
    value = choices[index][0]
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
    t, draft, _ = await _own_draft(update, context, PICK_DONE)
    if draft is None:
        return None
    kind, selected = context.user_data.get("bc_kind"), context.user_data.get("bc_sel") or []
    if kind not in (bc.KERNEN, bc.TOPICS):
        await refuse(update, context)
        return None
    if not selected:
        await update.callback_query.answer(t("bc.choose_at_least_one"), show_alert=True)
        return AUDIENCE
    await press_done(update)
    # In the order of the config or taxonomy, whatever the order of the presses.
    order = [value for value, _ in audience_choices(context, kind, t)]
    return await _preview(
        update, context, t, draft, Audience(kind, tuple(sorted(selected, key=order.index)))
    )


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
                    (t("bc.button_now"), SEND_NOW.build(draft.id)),
                    (t("bc.button_later"), SEND_LATER.build(draft.id)),
                ],
                [(t("bc.button_other_audience"), OTHER_AUDIENCE.build(draft.id))],
                [(t("bc.button_discard"), DISCARD.build(draft.id))],
            ]
        ),
    )
    return PREVIEW


async def other_audience(update: Update, context: BotContext) -> int | None:
    t, draft, _ = await _next_step(update, context, OTHER_AUDIENCE)
    if draft is None:
        return None
    await update.effective_message.reply_text(
        t("bc.ask_audience"), reply_markup=_audience_keyboard(t, draft.id)
    )
    return AUDIENCE


async def now(update: Update, context: BotContext) -> int | None:
    t, draft, _ = await _next_step(update, context, SEND_NOW)
    if draft is None:
        return None
    context.user_data["bc_due"] = None
    return await _confirm(update, context, t, draft)


async def later(update: Update, context: BotContext) -> int | None:
    t, draft, _ = await _next_step(update, context, SEND_LATER)
    if draft is None:
        return None
    await update.effective_message.reply_text(
        t(
            "bc.ask_when",
            example=SEND_AT.example(context),
            timezone=context.config.municipality.timezone,
        )
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


# The time to send at: ahead, within SCHEDULE_DAYS_MAX days; the example is tomorrow morning.
SEND_AT = Moment(
    parse_when,
    SCHEDULE_DAYS_MAX,
    example_days=1,
    example_format="%d-%m-%Y 09:00",
    not_understood="bc.when_not_understood",
    past="bc.when_past",
    too_far="bc.when_too_far",
)


async def when(update: Update, context: BotContext) -> int | None:
    user, t = await moderator(update, context)
    if user is None:
        return ConversationHandler.END
    draft = await _current_draft(context, user)
    if draft is None:
        await update.effective_message.reply_text(t("bc.draft_gone"))
        return ConversationHandler.END
    due = await SEND_AT.typed(update, context, t)
    if due is None:
        return WHEN
    context.user_data["bc_due"] = due.isoformat()
    return await _confirm(update, context, t, draft)


async def _current_draft(context: BotContext, user: User) -> Broadcast | None:
    draft_id = context.user_data.get("bc_id")
    draft = await context.services.broadcasts.get(draft_id) if draft_id else None
    if draft is None or draft.author_id != user.id or draft.state is not BroadcastState.DRAFT:
        return None
    return draft


async def _confirm(update: Update, context: BotContext, t: Translator, draft: Broadcast) -> int:
    audience = Audience.from_json(draft.audience)
    count = await context.services.broadcasts.count_audience(audience)
    due = context.user_data.get("bc_due")
    if due is None:
        text = t.plural("bc.confirm_now", count)
    else:
        text = t.plural(
            "bc.confirm_later", count, when=local_time(context, t, datetime.fromisoformat(due))
        )
    await update.effective_message.reply_text(
        text,
        reply_markup=keyboard(
            [
                [(t.plural("bc.button_confirm_count", count), SEND.build(draft.id))],
                [(t("bc.button_discard"), DISCARD.build(draft.id))],
            ]
        ),
    )
    return CONFIRM


async def confirm(update: Update, context: BotContext) -> int | None:
    t, draft, _ = await _own_draft(update, context, SEND)
    if draft is None:
        return None
    due = context.user_data.get("bc_due")
    due_at = datetime.fromisoformat(due) if due else utcnow()
    scheduled = await context.services.broadcasts.schedule(draft.id, due_at)
    _forget(context)
    async with after_storing(update, context):
        await press_done(update)
        if scheduled is None:
            await update.effective_message.reply_text(t("bc.draft_gone"))
        elif due is None:
            # The progress message follows at once; the repeating job would start it in a tick.
            await broadcast_tick(context)
        else:
            await update.effective_message.reply_text(
                t("bc.scheduled", number=draft.id, when=local_time(context, t, due_at)),
                reply_markup=keyboard(
                    [[(t("bc.button_cancel_scheduled"), STOP_BUTTON.build(draft.id))]]
                ),
            )
    return ConversationHandler.END


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
    """Weggooien: once the draft is checked (and the press taken), as /annuleer."""
    _, draft, _ = await _next_step(update, context, DISCARD)
    if draft is None:
        return None
    return await cancel_command(update, context)


async def cancel_command(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    await _discard_draft(context)
    await update.effective_message.reply_text(t("bc.discarded"))
    return ConversationHandler.END


def broadcast_conversation() -> ConversationHandler:
    return conversation(
        name="broadcast",
        persistent=True,
        entry_points=[CommandHandler("mededeling", start)],
        states={
            COMPOSE: [
                MessageHandler(NEW_MESSAGE & (f.PHOTO | (f.TEXT & ~f.COMMAND)), compose),
                otherwise(not_content),
            ],
            AUDIENCE: [
                CHOOSE_AUDIENCE.handler(choose_audience),
                PICK.handler(pick),
                PICK_DONE.handler(picked),
            ],
            PREVIEW: [
                SEND_NOW.handler(now),
                SEND_LATER.handler(later),
                OTHER_AUDIENCE.handler(other_audience),
            ],
            WHEN: [text_step(when)],
            CONFIRM: [SEND.handler(confirm)],
        },
        fallbacks=[
            cancel_with(cancel_command),
            DISCARD.handler(discard),
            otherwise(use_buttons),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handler(broadcast_conversation())
