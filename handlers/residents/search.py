"""/zoek <woorden> (/search): ideas of others like the words, page by page, in all kernen or
one's own; /zoek alone browses the newest ideas in one's own kern. Under each idea of someone
else that is still going: join it ("Doe mee", then a few words for its initiator) or ask its
initiator to meet ("Stel me voor"), through the same services and steps as /idee's look-alikes
(handlers/residents/introductions.py). A button under the page reports one of them
(handlers/residents/report.py); another asks for words, and the next typed line is the search."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler, ConversationHandler

from bot.i18n import Translator
from bot.services.matching import SEARCH_PAGE, SimilarInitiative
from bot.services.text_input import clean, excerpt
from handlers.callbacks import Button
from handlers.common import (
    conversation,
    keyboard,
    refuse_press,
    requires_resident,
    text_step,
)
from handlers.context import BotApplication, BotContext
from handlers.residents.introductions import join, note_handlers, request_introduction
from handlers.residents.report import REPORT
from handlers.steps import cancel_with, closing, otherwise, saying
from models import User

QUERY_MAX = 200
LABEL_MAX = 40

PAGE = Button("zoek:page", int)
SCOPE = Button("zoek:scope", ("all", "kern"))
REPORT_CHOICE = Button("zoek:report")  # the page's initiatives, to report one
WORDS_ASK = Button("zoek:ask")  # "search by words": the next typed line is the search
# A found idea's id: join it, or ask its initiator to meet.
JOIN = Button("zoek:join", int)
MEET = Button("zoek:meet", int)

# The conversation: the words asked for; after a join, the note for the initiator.
WORDS, NOTE = range(2)


async def _results(
    context: BotContext, user: User, page: int
) -> tuple[list[SimilarInitiative], int, int]:
    """The stored search run again (no words: the newest ideas): everything found, the page
    (kept in range) and the count of pages."""
    search = context.user_data.get("search") or {}
    query, own_kern = search.get("q", ""), bool(search.get("own_kern"))
    kern = user.kern if own_kern else None
    matching = context.services.matching
    found = await (matching.search(query, kern=kern) if query else matching.newest(kern=kern))
    pages = max((len(found) + SEARCH_PAGE - 1) // SEARCH_PAGE, 1)
    return found, min(max(page, 0), pages - 1), pages


def _actions(t: Translator, user: User, item: SimilarInitiative) -> list[tuple[str, str]]:
    """The buttons under an idea: none for one's own or one that is over."""
    if item.author_id == user.id or not item.status.is_open:
        return []
    row = [(t("search.button_join", number=item.id), JOIN.build(item.id))]
    if item.allow_introductions and item.author_id is not None:
        row.append((t("search.button_meet", number=item.id), MEET.build(item.id)))
    return row


async def _page(
    context: BotContext, user: User, t: Translator, page: int
) -> tuple[str, object | None]:
    """The text and buttons of one page of the stored search."""
    search = context.user_data["search"]
    query, own_kern = search.get("q", ""), bool(search.get("own_kern"))
    found, page, pages = await _results(context, user, page)
    search["page"] = page
    scope = t("search.scope_kern", kern=user.kern) if own_kern else t("search.scope_all")
    toggle = (
        (t("search.button_all"), SCOPE.build("all"))
        if own_kern
        else (t("search.button_kern", kern=user.kern), SCOPE.build("kern"))
    )
    words = [(t("search.button_words"), WORDS_ASK.build())]
    if not found:
        text = (
            t("search.none", query=query, scope=scope)
            if query
            else "\n\n".join((t("search.newest_none", scope=scope), t("search.words_hint")))
        )
        return text, keyboard([[toggle], words])
    shown = found[page * SEARCH_PAGE : (page + 1) * SEARCH_PAGE]
    if query:
        lines = [t.plural("search.header", len(found), query=query, scope=scope)]
    else:
        lines = [t("search.newest_header", scope=scope)]
    lines += [
        t.plural(
            "search.item",
            item.people,
            number=item.id,
            title=item.title,
            kern=item.kern,
            status=t(f"status.{item.status.value}"),
        )
        for item in shown
    ]
    if pages > 1:
        lines.append(t("search.page", page=page + 1, pages=pages))
    if not query:
        lines.append(t("search.words_hint"))
    nav = []
    if page > 0:
        nav.append((t("search.previous"), PAGE.build(page - 1)))
    if page < pages - 1:
        nav.append((t("search.next"), PAGE.build(page + 1)))
    actions = [_actions(t, user, item) for item in shown]
    report = [(t("search.button_report"), REPORT_CHOICE.build())]
    rows = [*actions, nav, [toggle], words, report]
    return "\n\n".join(lines), keyboard([row for row in rows if row])


async def _report_choice(context: BotContext, user: User, t: Translator) -> object:
    """Instead of the page's buttons: one per initiative on it, to report
    (handlers/residents/report.py), and the way back. Labels are plain text, not HTML: the
    title goes in as typed."""
    found, page, _ = await _results(context, user, context.user_data["search"].get("page", 0))
    shown = found[page * SEARCH_PAGE : (page + 1) * SEARCH_PAGE]
    rows = [[(f"#{i.id} {excerpt(i.title, LABEL_MAX)}", REPORT.build("ask", i.id))] for i in shown]
    rows.append([(t("search.report_back"), PAGE.build(page))])
    return keyboard(rows)


async def _show(update: Update, context: BotContext, user: User, t: Translator, query: str) -> int:
    """The first page for `query`; no words: the newest ideas in the resident's own kern."""
    context.user_data["search"] = {"q": query, "own_kern": not query}
    text, markup = await _page(context, user, t, 0)
    await update.effective_message.reply_text(text, reply_markup=markup)
    return ConversationHandler.END


@requires_resident
async def search(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """/zoek <woorden>: the first page of ideas like the words; /zoek alone: the newest."""
    return await _show(update, context, user, t, clean(" ".join(context.args or []))[:QUERY_MAX])


@requires_resident
async def ask_words(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """ "Zoek op woorden": the next typed line is the search."""
    await update.callback_query.answer()
    await update.effective_message.reply_text(t("search.usage"))
    return WORDS


@requires_resident
async def got_words(update: Update, context: BotContext, user: User, t: Translator) -> int:
    query = clean(update.effective_message.text or "")[:QUERY_MAX]
    if not query:
        await update.effective_message.reply_text(t("search.usage"))
        return WORDS
    return await _show(update, context, user, t, query)


# Not words (a photo, a sticker) while the search words are asked for.
words_expected = saying("search.words_expected")
cancel = closing("search.cancelled")


@requires_resident
async def join_found(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """ "Doe mee" under a found idea: join it as /idee's look-alikes do, then the note."""
    await update.callback_query.answer()
    initiative_id = JOIN.one(update.callback_query.data)
    if await join(update, context, user, t, initiative_id, "match.joined_found"):
        return NOTE
    return ConversationHandler.END


@requires_resident
async def meet_found(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """ "Stel me voor" under a found idea: ask its initiator to meet, as /idee does."""
    await update.callback_query.answer()
    await request_introduction(update, context, user, t, MEET.one(update.callback_query.data), None)


async def _search_kept(update: Update, context: BotContext) -> bool:
    """True when the search a button belongs to is still kept; else the stale answer."""
    if "search" in context.user_data:
        return True
    await refuse_press(update, context)
    return False


@requires_resident
async def turn(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """A page button or the kern toggle: the same message shows the new page."""
    query = update.callback_query
    if not await _search_kept(update, context):
        return
    page = PAGE.one(query.data)
    if page is None:
        scope = SCOPE.one(query.data)
        context.user_data["search"]["own_kern"] = scope == "kern"
        page = 0
    await query.answer()
    text, markup = await _page(context, user, t, page)
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        # A double press changes nothing; a message too old to edit gets a fresh one.
        if "not modified" not in str(exc).lower():
            await query.message.reply_text(text, reply_markup=markup)


@requires_resident
async def report_choice(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """The report button: the page's initiatives, one button each, instead of its buttons."""
    query = update.callback_query
    if not await _search_kept(update, context):
        return
    await query.answer()
    markup = await _report_choice(context, user, t)
    with contextlib.suppress(BadRequest):  # a double press: the choice is there already
        await query.edit_message_reply_markup(markup)


def search_conversation() -> ConversationHandler:
    return conversation(
        name="search",
        persistent=True,
        allow_reentry=True,
        entry_points=[
            CommandHandler(["zoek", "search"], search),
            WORDS_ASK.handler(ask_words),
            JOIN.handler(join_found),
        ],
        states={WORDS: [text_step(got_words)], NOTE: note_handlers()},
        fallbacks=[
            cancel_with(cancel),
            otherwise(words_expected),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            search_conversation(),
            MEET.handler(meet_found),
            PAGE.handler(turn),
            SCOPE.handler(turn),
            REPORT_CHOICE.handler(report_choice),
        ]
    )
