"""/mijn: a resident's own initiatives and the ones they joined, with their status; the
initiator (or a moderator, after /status: handlers/moderators/status.py) moves an initiative
on, and everyone who joined hears of it."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import CommandHandler

from bot.i18n import Translator, translator
from bot.routing import Taxonomy
from bot.services.initiatives import ALLOWED_STATUS_CHANGES
from handlers.callbacks import Button
from handlers.common import keyboard, press_done, requires_resident, send_to, speaker
from handlers.context import BotApplication, BotContext
from handlers.dispatch import question_values
from models import Initiative, InitiativeStatus, User, Visibility

SHOWN = 15  # keeps the message well under Telegram's 4,096 characters with long titles

# An initiative's id: offer its next statuses; set one of them.
STATUS = Button("mijn:status", int)
SET_STATUS = Button("mijn:set", int, tuple(status.value for status in InitiativeStatus))
# The check-in's quick answers (handlers/dispatch.py sends them): the initiative's id.
CHECK_IN = Button("checkin", int, ("good", "stuck"))


def _item(t: Translator, item: Initiative, tz: object, taxonomy: Taxonomy) -> str:
    topic = taxonomy.get(item.topic) if item.topic else None
    text = t(
        "mijn.item",
        number=item.id,
        title=item.title,
        # The topic beside the kern, when it is known: the subtopic's name when one is stored
        # ("Kunst en cultuur"), which says more than its main topic's.
        kern=f"{item.kern} · {topic.name(t.language)}" if topic else item.kern,
        status=t(f"status.{item.status.value}"),
        date=t.date(item.created_at, tz),
    )
    if item.visibility is not Visibility.VISIBLE:
        # The initiator (and who joined) should know why others cannot find it.
        text += "\n" + t(f"mod.mine_{item.visibility.value}")
    return text


@requires_resident
async def mine(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """List the newest initiatives of the resident and those they joined."""
    mine = await context.services.initiatives.of_author(user.id, limit=SHOWN)
    questions = await context.services.questions.of_resident(user.id, limit=SHOWN)
    if mine.total == 0 and not mine.joined and not questions.total:
        await update.effective_message.reply_text(t("mijn.empty"))
        return
    tz = context.config.municipality.tz
    taxonomy = context.services.questions.taxonomy
    lines = []
    if mine.total:
        lines.append(t.plural("mijn.header", mine.total))
        lines += [_item(t, item, tz, taxonomy) for item in mine.latest]
        if mine.total > len(mine.latest):
            lines.append(t.plural("mijn.more", mine.total - len(mine.latest)))
    if mine.joined:
        lines.append(t("mijn.joined_header"))
        lines += [_item(t, item, tz, taxonomy) for item in mine.joined]
    if questions.total:
        lines.append(t.plural("vraag.mine_header", questions.total))
        lines += [t("vraag.mine_item", **question_values(context, t, q)) for q in questions.latest]
    movable = [i for i in mine.latest if ALLOWED_STATUS_CHANGES[i.status]]
    buttons = [(t("mijn.button_status", number=i.id), STATUS.build(i.id)) for i in movable]
    markup = keyboard([buttons[n : n + 3] for n in range(0, len(buttons), 3)]) if buttons else None
    await update.effective_message.reply_text("\n\n".join(lines), reply_markup=markup)


async def _may_move(context: BotContext, user: User | None, initiative: Initiative | None) -> bool:
    """The initiator, or a moderator, may move an initiative on."""
    return (
        user is not None
        and initiative is not None
        and (initiative.author_id == user.id or context.services.civil_servants.is_moderator(user))
    )


async def offer_statuses(message: Message, t: Translator, initiative: Initiative) -> None:
    """The statuses that may follow the current one, as buttons (pressed: set_status below);
    also under a moderator's /status (handlers/moderators/status.py)."""
    options = sorted(ALLOWED_STATUS_CHANGES[initiative.status], key=list(InitiativeStatus).index)
    await message.reply_text(
        t(
            "mijn.choose_status",
            title=initiative.title,
            status=t(f"status.{initiative.status.value}"),
        ),
        reply_markup=keyboard(
            [[(t(f"status.{s.value}"), SET_STATUS.build(initiative.id, s.value))] for s in options]
        ),
    )


async def choose_status(update: Update, context: BotContext) -> None:
    """Offer the statuses that may follow the current one, to the initiator or a moderator."""
    query = update.callback_query
    user, t = await speaker(update, context)
    initiative = await context.services.initiatives.get(STATUS.one(query.data))
    if not await _may_move(context, user, initiative):
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await query.answer()
    await offer_statuses(query.message, t, initiative)


async def set_status(update: Update, context: BotContext) -> None:
    """Store the new status and tell everyone who joined (and the initiator, if a moderator
    made the move)."""
    query = update.callback_query
    user, t = await speaker(update, context)
    initiative_id, status = SET_STATUS.parse(query.data)
    changed = (
        await context.services.initiatives.change_status(
            initiative_id,
            InitiativeStatus(status),
            user.id,
            moderator=context.services.civil_servants.is_moderator(user),
        )
        if user is not None
        else None
    )
    if changed is None:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await press_done(update)
    status = changed.initiative.status
    await query.message.reply_text(
        t("mijn.status_changed", title=changed.initiative.title, status=t(f"status.{status.value}"))
    )
    initiator = changed.initiative.author_id
    news = [(supporter, "mijn.supporter_status") for supporter in changed.supporters]
    if initiator is not None and initiator != user.id:
        author = await context.services.users.by_id(initiator)
        news += [(author, "mijn.moderator_status")] if author is not None else []
    for person, key in news:
        pt = translator(person.language)
        await send_to(
            context,
            person,
            pt(key, title=changed.initiative.title, status=pt(f"status.{status.value}")),
        )


@requires_resident
async def check_in_answer(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """A quick answer to "how is it going?": thanks, or an offer of help ("ask the
    municipality" opens /vraag: handlers/residents/question.py). Only the initiator's own
    check-in counts."""
    query = update.callback_query
    number, answer = CHECK_IN.parse(query.data)
    initiative = await context.services.initiatives.get(number)
    if initiative is None or initiative.author_id != user.id:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await press_done(update)
    await query.message.reply_text(
        t(f"idee.check_in_reply_{answer}", title=initiative.title, number=initiative.id)
    )


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("mijn", mine),
            STATUS.handler(choose_status),
            SET_STATUS.handler(set_status),
            CHECK_IN.handler(check_in_answer),
        ]
    )
