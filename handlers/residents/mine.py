"""/mijn: a resident's own initiatives and the ones they joined, with their status; the
initiator (or a moderator, after /status: handlers/moderators/status.py) moves an initiative
on, and everyone who joined hears of it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot.i18n import Translator, translator
from bot.routing import Taxonomy
from bot.services.initiatives import ALLOWED_STATUS_CHANGES
from bot.services.text_input import excerpt
from handlers.callbacks import Button
from handlers.common import keyboard, press_done, requires_resident, send_to, speaker
from handlers.context import BotApplication, BotContext
from handlers.fitting import visible_length
from handlers.residents.meeting import OPEN as OPEN_GROUP
from models import (
    EventKind,
    Initiative,
    InitiativeStatus,
    Question,
    QuestionStatus,
    User,
    Visibility,
)

SHOWN = 15  # the newest of each kind; older ones are counted
EXCERPT = 120  # characters of a question's own words
# Visible characters on one page: well under Telegram's 4,096, with room for the page line.
PAGE_ROOM = 3500

# An initiative's id: offer its next statuses; set one of them.
STATUS = Button("mijn:status", int)
SET_STATUS = Button("mijn:set", int, tuple(status.value for status in InitiativeStatus))
# The check-in's quick answers (handlers/dispatch.py sends them): the initiative's id.
CHECK_IN = Button("checkin", int, ("good", "stuck"))
PAGE = Button("mijn:page", int)  # a page of a long /mijn


def _item(
    t: Translator,
    item: Initiative,
    tz: object,
    taxonomy: Taxonomy,
    joined: dict[int, int],
    today: object,
) -> str:
    topic = taxonomy.get(item.topic) if item.topic else None
    count = joined.get(item.id, 0)
    text = t(
        "mijn.item",
        number=item.id,
        title=item.title,
        # The topic beside the kern, when it is known: the subtopic's name when one is stored
        # ("Kunst en cultuur"), which says more than its main topic's.
        kern=f"{item.kern} · {topic.name(t.language)}" if topic else item.kern,
        status=t(f"status.{item.status.value}"),
        people=t.plural("mijn.joined_count", count) if count else t("mijn.joined_none"),
        date=t.day(item.created_at, tz, today=today),
    )
    if item.visibility is not Visibility.VISIBLE:
        # The initiator (and who joined) should know why others cannot find it.
        text += "\n" + t(f"mod.mine_{item.visibility.value}")
    return text


def _question_status(
    t: Translator, question: Question, answered_at: datetime | None, tz: object, today: object
) -> str:
    """Where the question is, in plain words, with the day that matters."""
    status = question.status
    if status is QuestionStatus.CLOSED:
        return t("vraag.mine_closed")
    if status is QuestionStatus.ANSWERED:
        when = answered_at or question.updated_at
        return t("vraag.mine_answered", date=t.day(when, tz, today=today))
    if status is QuestionStatus.INFO_REQUESTED:
        return t("vraag.mine_info")
    if status is QuestionStatus.TRIAGE or question.assignee_id is None:
        return t("vraag.mine_finding")
    if question.deadline_at is None:
        return t("vraag.mine_with_servant")
    return t("vraag.mine_due", date=t.day(question.deadline_at, tz, today=today))


async def _answered_at(context: BotContext, question: Question) -> datetime | None:
    if question.status is not QuestionStatus.ANSWERED:
        return None
    events = await context.services.questions.events(question.id)
    answers = [event.at for event in events if event.kind is EventKind.ANSWERED]
    return answers[-1] if answers else None


@dataclass(frozen=True)
class Block:
    """Lines of /mijn that stay together on a page, with the buttons they bring to it: the
    status of an idea its initiator may move on, the meeting place of one with people in it."""

    text: str
    movable: int | None = None
    group: int | None = None


async def _blocks(context: BotContext, user: User, t: Translator) -> list[Block] | None:
    """What /mijn says, in blocks. None when there is nothing at all."""
    mine = await context.services.initiatives.of_author(user.id, limit=SHOWN)
    questions = await context.services.questions.of_resident(user.id, limit=SHOWN)
    if mine.total == 0 and not mine.joined and not questions.total:
        return None
    tz = context.config.municipality.tz
    today = datetime.now(tz).date()
    taxonomy = context.services.questions.taxonomy
    joined = await context.services.matching.joined_counts(
        [i.id for i in [*mine.latest, *mine.joined]]
    )
    blocks: list[Block] = []
    if mine.total:
        blocks.append(Block(t.plural("mijn.header", mine.total)))
        for item in mine.latest:
            blocks.append(
                Block(
                    _item(t, item, tz, taxonomy, joined, today),
                    movable=item.id if ALLOWED_STATUS_CHANGES[item.status] else None,
                    group=item.id if joined.get(item.id) else None,
                )
            )
        if mine.total > len(mine.latest):
            blocks.append(Block(t.plural("mijn.more", mine.total - len(mine.latest))))
    if mine.joined:
        blocks.append(Block(t("mijn.joined_header")))
        blocks += [
            Block(_item(t, item, tz, taxonomy, joined, today), group=item.id)
            for item in mine.joined
        ]
    if questions.total:
        blocks.append(Block(t.plural("vraag.mine_header", questions.total)))
        for question in questions.latest:
            status = _question_status(t, question, await _answered_at(context, question), tz, today)
            topic = context.services.questions.topic_name(question.topic_key, t.language)
            words = excerpt(question.text, EXCERPT) if question.text else t("vraag.text_erased")
            blocks.append(
                Block(
                    t(
                        "vraag.mine_item",
                        number=question.number,
                        topic=topic or t("vraag.topic_none"),
                        text=words,
                        status=status,
                    )
                )
            )
    return blocks


def _pages(blocks: list[Block]) -> list[list[Block]]:
    """The blocks in pages of at most PAGE_ROOM visible characters; a section header never
    ends a page alone (it is short, so it rarely matters)."""
    pages: list[list[Block]] = [[]]
    used = 0
    for block in blocks:
        size = visible_length(block.text) + 2
        if pages[-1] and used + size > PAGE_ROOM:
            pages.append([])
            used = 0
        pages[-1].append(block)
        used += size
    return pages


async def _page(
    context: BotContext, user: User, t: Translator, number: int
) -> tuple[str, object | None] | None:
    """The text and buttons of page `number` (kept in range) of /mijn; None when empty."""
    blocks = await _blocks(context, user, t)
    if blocks is None:
        return None
    pages = _pages(blocks)
    number = min(max(number, 0), len(pages) - 1)
    shown = pages[number]
    lines = [block.text for block in shown]
    buttons = []
    for block in shown:
        if block.movable is not None:
            buttons.append(
                (t("mijn.button_status", number=block.movable), STATUS.build(block.movable))
            )
        if block.group is not None:
            buttons.append(
                (t("mijn.button_group", number=block.group), OPEN_GROUP.build(block.group))
            )
    rows = [buttons[n : n + 3] for n in range(0, len(buttons), 3)]
    # What the buttons do, for the kinds on this page: "✏️ status wijzigen · 👥 naar de groep".
    hints = []
    if any(block.movable is not None for block in shown):
        hints.append(t("mijn.hint_status"))
    if any(block.group is not None for block in shown):
        hints.append(t("mijn.hint_group"))
    if hints:
        lines.append(" · ".join(hints))
    if len(pages) > 1:
        lines.append(t("mijn.page", page=number + 1, pages=len(pages)))
        nav = []
        if number > 0:
            nav.append((t("mijn.previous"), PAGE.build(number - 1)))
        if number < len(pages) - 1:
            nav.append((t("mijn.next"), PAGE.build(number + 1)))
        rows.append(nav)
    return "\n\n".join(lines), keyboard(rows) if rows else None


@requires_resident
async def mine(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """The resident's newest ideas, those they joined and their questions, in their own words,
    each with a plain status; paged when it would not fit one message."""
    page = await _page(context, user, t, 0)
    if page is None:
        await update.effective_message.reply_text(t("mijn.empty"))
        return
    text, markup = page
    await update.effective_message.reply_text(text, reply_markup=markup)


@requires_resident
async def turn(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """Another page of /mijn, in the same message, as it is now."""
    query = update.callback_query
    page = await _page(context, user, t, PAGE.one(query.data))
    await query.answer()
    if page is None:
        return
    text, markup = page
    with contextlib.suppress(BadRequest):  # a double press: that page is shown already
        await query.edit_message_text(text, reply_markup=markup)


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
            CommandHandler(["mijn", "mine"], mine),
            PAGE.handler(turn),
            STATUS.handler(choose_status),
            SET_STATUS.handler(set_status),
            CHECK_IN.handler(check_in_answer),
        ]
    )
