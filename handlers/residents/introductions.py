"""Residents meeting residents: introductions with double opt-in, anonymous relay until both
agree, supporters who join, and the daily batch of late matches.

Contact details travel only after both sides said yes, each in the form its owner chose at
consent (@username or a profile link).

An initiator hears of a join once (the supporter row's `told_at`, claimed before the send):
with the joiner's note, without one when it is skipped, or from the job `send_join_notices`
when the joiner never answers the question (after JOIN_NOTE_WAIT). A note that comes after
the job told them follows on its own.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import Markup, Translator, escape, translator
from bot.services.delivery import Outcome
from bot.services.initiatives import DESCRIPTION_MAX
from bot.services.matching import SimilarInitiative
from bot.services.meeting import NOTE_MAX
from handlers.callbacks import Button
from handlers.common import (
    NEW_MESSAGE,
    after_storing,
    conversation,
    keyboard,
    press_done,
    refuse_press,
    requires_resident,
    send_to,
    speaker,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.delivery import outcome_of
from handlers.residents.meeting import name_of, to_the_group
from handlers.steps import cancel_with, closing, otherwise, saying
from models import ContactMethod, Introduction, User
from models.base import utcnow

log = logging.getLogger(__name__)

WRITING = 0
NOTICE_INTERVAL_S = 15 * 60
# How often joins nobody announced are looked for (bot/services/matching.py JOIN_NOTE_WAIT).
JOIN_NOTICE_INTERVAL_S = 5 * 60

# An introduction (its id): the initiator accepts or declines; either side writes the other.
DECIDE = Button("intro", ("accept", "decline"), int)
MESSAGE = Button("intro:msg", int)
# A late match: the new look-alike's id and the resident's own initiative's.
LATE_MEET = Button("late:meet", int, int)
# After joining (the initiative's id): no note for the initiator.
NOTE_SKIP = Button("join:skip", int)
# user_data: the initiative just joined, whose initiator waits for the joiner's note.
NOTE_KEY = "join_note"


# --- rendering ---------------------------------------------------------------------------


def contact_of(user: User) -> Markup:
    """How `user` chose to be reached: their @username, or a link that opens their profile."""
    if user.contact_method is ContactMethod.USERNAME and user.username:
        return escape(f"@{user.username}")
    name = user.display_name or str(user.telegram_id)
    return Markup('<a href="tg://user?id={}">{}</a>').format(user.telegram_id, name)


# --- joining -----------------------------------------------------------------------------


async def join(
    update: Update, context: BotContext, user: User, t: Translator, initiative_id: int, done: str
) -> bool:
    """Join `initiative_id` (from /idee's look-alikes or a /zoek result): say so with the
    catalog key `done`, then ask for a few words for the initiator. True when that question is
    open: the flow's next step is then `note_handlers()`; the initiator hears of the join with
    the note, or without one when it is skipped. A refused join (one's own, hidden, closed,
    joined before) is said in plain words."""
    outcome = await context.services.matching.join(user.id, initiative_id)
    message = update.effective_message
    if not outcome.ok:
        await message.reply_text(t(f"match.join_{outcome.reason}"))
        return False
    await message.reply_text(t(done))
    summary = await context.services.matching.summary(initiative_id)
    if summary is None or summary.author_id is None:
        return False  # nobody to write to (an imported idea, or its initiator left)
    context.user_data[NOTE_KEY] = initiative_id
    await message.reply_text(
        t("match.note_ask", title=summary.title, limit=NOTE_MAX),
        reply_markup=keyboard([[(t("match.note_skip"), NOTE_SKIP.build(initiative_id))]]),
    )
    return True


@requires_resident
async def note_typed(update: Update, context: BotContext, user: User, t: Translator) -> int | None:
    """The joiner's few words: kept with the membership (the meeting place shows them to the
    initiator, /groep) and sent to the initiator with the join notice, or on their own when the
    job told the initiator of the join already."""
    text = await typed_answer(update, t, NOTE_MAX, too_long="match.note_too_long")
    if text is None:
        return None
    initiative_id = context.user_data.pop(NOTE_KEY, None)
    if initiative_id is None:
        await update.effective_message.reply_text(t("match.note_closed"))
        return ConversationHandler.END
    saved = await context.services.meeting.set_note(user.id, initiative_id, text)
    told_now = await context.services.matching.claim_join_notice(user.id, initiative_id)
    async with after_storing(update, context):
        if told_now:
            await notify_joined(context, initiative_id, text if saved else None)
        elif saved:
            await notify_note(context, initiative_id, user, text)
        await update.effective_message.reply_text(
            t("match.note_sent" if saved else "match.note_closed"),
            reply_markup=to_the_group(t, initiative_id) if saved else None,
        )
    return ConversationHandler.END


async def note_skipped(update: Update, context: BotContext) -> int | None:
    """ "Overslaan" (or /annuleer): the initiator hears of the join without a note."""
    user, t = await speaker(update, context)
    initiative_id = context.user_data.get(NOTE_KEY)
    if update.callback_query:
        if NOTE_SKIP.one(update.callback_query.data) != initiative_id:
            await refuse_press(update, context)
            return None
        await press_done(update)
    context.user_data.pop(NOTE_KEY, None)
    told_now = (
        initiative_id is not None
        and user is not None
        and await context.services.matching.claim_join_notice(user.id, initiative_id)
    )
    async with after_storing(update, context):
        if told_now:
            await notify_joined(context, initiative_id)
        await update.effective_message.reply_text(
            t("match.note_skipped"),
            reply_markup=to_the_group(t, initiative_id) if initiative_id is not None else None,
        )
    return ConversationHandler.END


async def note_reprompt(update: Update, context: BotContext) -> int | None:
    """Anything else while the note is asked: what is expected, with the skip button again."""
    _, t = await speaker(update, context)
    initiative_id = context.user_data.get(NOTE_KEY)
    markup = (
        keyboard([[(t("match.note_skip"), NOTE_SKIP.build(initiative_id))]])
        if isinstance(initiative_id, int)
        else None
    )
    await update.effective_message.reply_text(t("match.note_expected"), reply_markup=markup)
    return None


def note_handlers() -> list[BaseHandler]:
    """The note step after a join, as a state of the flow that joined (/idee, /zoek): a typed
    note, "Overslaan" or /annuleer; anything else asks again."""
    return [
        text_step(note_typed),
        NOTE_SKIP.handler(note_skipped),
        cancel_with(note_skipped),
        MessageHandler(NEW_MESSAGE, note_reprompt),
    ]


async def _initiator_of(
    context: BotContext, initiative_id: int
) -> tuple[User, SimilarInitiative] | None:
    """The initiator of `initiative_id`, to be told of a join, and the initiative; None when
    there is nobody to tell: it is not visible (any more), or its initiator erased themselves
    or is banned. (One who blocked the bot is skipped by `send_to`.)"""
    summary = await context.services.matching.summary(initiative_id)
    if summary is None or summary.author_id is None:
        return None
    initiator = await context.services.users.by_id(summary.author_id)
    if initiator is None or initiator.banned_at is not None:
        return None
    return initiator, summary


async def notify_joined(context: BotContext, initiative_id: int, note: str | None = None) -> bool:
    """Tell the initiator that someone joined, how many people are behind it now, and what the
    joiner wrote for them, if anything. The caller claimed the notice (`claim_join_notice`).
    True when it was delivered."""
    found = await _initiator_of(context, initiative_id)
    if found is None:
        return False
    initiator, summary = found
    t = translator(initiator.language)
    text = t.plural("match.someone_joined", summary.people, title=summary.title)
    if note:
        text = "\n\n".join((text, t("match.joined_note", note=note)))
    return await send_to(context, initiator, text, to_the_group(t, initiative_id))


async def notify_note(context: BotContext, initiative_id: int, joiner: User, note: str) -> None:
    """A note that comes after the initiator was told of the join (by the job): on its own,
    with the joiner's name (the initiator sees who is in with /groep anyway)."""
    found = await _initiator_of(context, initiative_id)
    if found is None:
        return
    initiator, summary = found
    t = translator(initiator.language)
    text = t("match.late_note", name=name_of(t, joiner), title=summary.title, note=note)
    await send_to(context, initiator, text, to_the_group(t, initiative_id))


async def send_join_notices(context: BotContext) -> int:
    """Job: tell initiators of joins whose joiner walked away from the note question (neither
    wrote nor skipped within JOIN_NOTE_WAIT), without a note.

    Each is claimed before the send, so it goes out once however many instances run; a send
    that surely did not arrive (refused before sending, flood control) is given back for the
    next run. Returns how many messages went out.
    """
    matching = context.services.matching
    sent = 0
    for user_id, initiative_id in await matching.unannounced_joins():
        if not await matching.claim_join_notice(user_id, initiative_id):
            continue  # the note or its skip came first, or another instance took it
        try:
            sent += await notify_joined(context, initiative_id)
        except TelegramError as error:
            result = outcome_of(error)
            if result.outcome is not Outcome.RETRY:
                log.warning("join notice for supporter %s of %s failed", user_id, initiative_id)
                continue
            log.warning(
                "join notice for supporter %s of %s failed; retrying next run",
                user_id,
                initiative_id,
            )
            await matching.release_join_notice(user_id, initiative_id)
            if result.flood_control:
                break
    return sent


# --- introductions -----------------------------------------------------------------------


async def request_introduction(
    update: Update,
    context: BotContext,
    user: User,
    t: Translator,
    initiative_id: int,
    own_initiative_id: int | None,
) -> None:
    """Ask the initiator of `initiative_id` whether they want to meet `user`."""
    outcome = await context.services.matching.request_introduction(
        user.id, initiative_id, own_initiative_id
    )
    message = update.effective_message
    if not outcome.ok:
        await message.reply_text(t(f"match.intro_{outcome.reason}"))
        return
    introduction = outcome.introduction
    await message.reply_text(
        t("match.intro_requested"),
        reply_markup=keyboard([[(t("match.button_message"), MESSAGE.build(introduction.id))]]),
    )
    await _ask_initiator(context, introduction)


async def _ask_initiator(context: BotContext, introduction: Introduction) -> None:
    initiator = await context.services.users.by_id(introduction.initiator_id)
    theirs = await context.services.matching.summary(introduction.initiative_id)
    requester_own = (
        await context.services.matching.summary(introduction.requester_initiative_id)
        if introduction.requester_initiative_id
        else None
    )
    if initiator is None or theirs is None:
        return
    t = translator(initiator.language)
    text = t("match.intro_request", title=theirs.title)
    if requester_own is not None:
        text = "\n\n".join(
            (
                text,
                t(
                    "match.intro_request_their_idea",
                    title=requester_own.title,
                    kern=requester_own.kern,
                ),
            )
        )
    markup = keyboard(
        [
            [
                (t("match.button_accept"), DECIDE.build("accept", introduction.id)),
                (t("match.button_decline"), DECIDE.build("decline", introduction.id)),
            ],
            [(t("match.button_message"), MESSAGE.build(introduction.id))],
        ]
    )
    await send_to(context, initiator, text, markup)


@requires_resident
async def decide(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """The initiator accepts or declines; on accept both receive each other's contact."""
    query = update.callback_query
    answer, introduction_id = DECIDE.parse(query.data)
    accept = answer == "accept"
    outcome = await context.services.matching.decide(introduction_id, user.id, accept)
    if outcome is None or not outcome.ok:
        key = (
            "match.already_decided"
            if outcome and outcome.reason == "decided"
            else "common.stale_button"
        )
        await query.answer(t(key), show_alert=True)
        return
    await press_done(update)
    if not accept:
        # Quiet and final: the requester is not told, and cannot ask again.
        await query.message.reply_text(t("match.declined_ok"))
        return
    requester = await context.services.users.by_id(outcome.introduction.requester_id)
    if requester is None:
        return
    await _exchange_contacts(context, user, requester, outcome.introduction)


async def _exchange_contacts(
    context: BotContext, initiator: User, requester: User, introduction: Introduction
) -> None:
    summary = await context.services.matching.summary(introduction.initiative_id)
    title = summary.title if summary else ""
    for me, other in ((initiator, requester), (requester, initiator)):
        t = translator(me.language)
        await send_to(
            context,
            me,
            t(
                "match.contact",
                name=other.display_name or "",
                contact=contact_of(other),
                title=title,
            ),
        )


# --- relay until both agree --------------------------------------------------------------


@requires_resident
async def start_relay(update: Update, context: BotContext, user: User, t: Translator) -> int | None:
    """ "Send a message": the next text goes to the other side without a name."""
    query = update.callback_query
    introduction_id = MESSAGE.one(query.data)
    partner = await context.services.matching.relay_partner(introduction_id, user.id)
    if partner is None:
        await query.answer(t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    context.user_data["relay"] = introduction_id
    await query.message.reply_text(t("match.relay_write"))
    return WRITING


@requires_resident
async def relay(update: Update, context: BotContext, user: User, t: Translator) -> int | None:
    """Pass the text on, anonymously, with a button to answer."""
    text = await typed_answer(update, t, DESCRIPTION_MAX)
    if text is None:
        return WRITING
    introduction_id = context.user_data.pop("relay", None)
    partner = (
        await context.services.matching.relay_partner(introduction_id, user.id)
        if introduction_id is not None
        else None
    )
    if partner is None:
        await update.effective_message.reply_text(t("match.relay_closed"))
        return ConversationHandler.END
    introduction = await context.services.matching.get_introduction(introduction_id)
    summary = await context.services.matching.summary(introduction.initiative_id)
    pt = translator(partner.language)
    async with after_storing(update, context):
        delivered = await send_to(
            context,
            partner,
            pt("match.relayed", title=summary.title if summary else "", text=text),
            keyboard([[(pt("match.button_reply"), MESSAGE.build(introduction_id))]]),
        )
        await update.effective_message.reply_text(
            t("match.relay_sent" if delivered else "match.relay_undeliverable")
        )
    return ConversationHandler.END


relay_not_text = saying("match.relay_text_only")
relay_cancel = closing("match.relay_cancelled", "relay")


# --- late matches ------------------------------------------------------------------------


async def send_match_notices(context: BotContext) -> int:
    """Job: one message per person with their new look-alikes, at most once a day.

    Notices are claimed before sending, so a crash cannot send them twice; a send that fails
    for a passing reason gives them back for the next run. Returns how many messages went out.
    """
    sent = 0
    for batch in await context.services.matching.due_notice_batches():
        ids = [notice.id for notice, _ in batch.notices]
        await context.services.matching.mark_notices(ids, sent_at=utcnow())
        t = translator(batch.recipient.language)
        lines = [t("match.late_header")]
        rows = []
        for number, (notice, found) in enumerate(batch.notices[:5], 1):
            lines.append(
                t.plural(
                    "match.similar_item",
                    found.people,
                    number=number,
                    title=found.title,
                    kern=found.kern,
                )
            )
            rows.append(
                [
                    (
                        t("match.button_meet", number=number),
                        LATE_MEET.build(found.id, notice.own_initiative_id),
                    )
                ]
            )
        try:
            delivered = await send_to(context, batch.recipient, "\n\n".join(lines), keyboard(rows))
        except TelegramError:
            log.warning(
                "late-match notice to user %s failed; retrying next run", batch.recipient.id
            )
            await context.services.matching.mark_notices(ids, sent_at=None)
            continue
        sent += delivered
    return sent


@requires_resident
async def meet_late_match(update: Update, context: BotContext, user: User, t: Translator) -> None:
    query = update.callback_query
    new_id, own_id = LATE_MEET.parse(query.data)
    if not await context.services.matching.was_notified(user.id, new_id, own_id):
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await query.answer()
    await request_introduction(update, context, user, t, new_id, own_id)


def relay_conversation() -> ConversationHandler:
    return conversation(
        name="relay",
        persistent=True,
        entry_points=[MESSAGE.handler(start_relay)],
        states={WRITING: [MessageHandler(NEW_MESSAGE & filters.TEXT & ~filters.COMMAND, relay)]},
        fallbacks=[
            cancel_with(relay_cancel),
            otherwise(relay_not_text),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            relay_conversation(),
            DECIDE.handler(decide),
            LATE_MEET.handler(meet_late_match),
        ]
    )
