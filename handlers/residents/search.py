"""/zoek <tekst>: fuzzy search over initiatives, page by page, in all kernen or one's own; a
button under the page to report one of them (handlers/residents/report.py)."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot.i18n import Translator
from bot.services.matching import SEARCH_PAGE, SimilarInitiative
from bot.services.text_input import clean, excerpt
from handlers.callbacks import Button
from handlers.common import keyboard, refuse_press, requires_resident
from handlers.context import BotApplication, BotContext
from handlers.residents.report import REPORT
from models import User

QUERY_MAX = 200
LABEL_MAX = 40

PAGE = Button("zoek:page", int)
SCOPE = Button("zoek:scope", ("all", "kern"))
REPORT_CHOICE = Button("zoek:report")  # the page's initiatives, to report one


async def _results(
    context: BotContext, user: User, page: int
) -> tuple[list[SimilarInitiative], int, int]:
    """The stored search run again: everything found, the page (kept in range) and the count
    of pages."""
    search = context.user_data.get("search") or {}
    query, own_kern = search.get("q", ""), bool(search.get("own_kern"))
    found = await context.services.matching.search(query, kern=user.kern if own_kern else None)
    pages = max((len(found) + SEARCH_PAGE - 1) // SEARCH_PAGE, 1)
    return found, min(max(page, 0), pages - 1), pages


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
    if not found:
        return t("search.none", query=query, scope=scope), keyboard([[toggle]])
    shown = found[page * SEARCH_PAGE : (page + 1) * SEARCH_PAGE]
    lines = [t.plural("search.header", len(found), query=query, scope=scope)]
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
    nav = []
    if page > 0:
        nav.append((t("search.previous"), PAGE.build(page - 1)))
    if page < pages - 1:
        nav.append((t("search.next"), PAGE.build(page + 1)))
    report = [(t("search.button_report"), REPORT_CHOICE.build())]
    return "\n\n".join(lines), keyboard([row for row in (nav, [toggle], report) if row])


async def _report_choice(context: BotContext, user: User, t: Translator) -> object:
    """Instead of the page's buttons: one per initiative on it, to report
    (handlers/residents/report.py), and the way back. Labels are plain text, not HTML: the
    title goes in as typed."""
    found, page, _ = await _results(context, user, context.user_data["search"].get("page", 0))
    shown = found[page * SEARCH_PAGE : (page + 1) * SEARCH_PAGE]
    rows = [[(f"#{i.id} {excerpt(i.title, LABEL_MAX)}", REPORT.build("ask", i.id))] for i in shown]
    rows.append([(t("search.report_back"), PAGE.build(page))])
    return keyboard(rows)


@requires_resident
async def search(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """/zoek <tekst>: the first page of initiatives like the text."""
    query = clean(" ".join(context.args or []))[:QUERY_MAX]
    if not query:
        await update.effective_message.reply_text(t("search.usage"))
        return
    context.user_data["search"] = {"q": query, "own_kern": False}
    text, markup = await _page(context, user, t, 0)
    await update.effective_message.reply_text(text, reply_markup=markup)


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


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("zoek", search),
            PAGE.handler(turn),
            SCOPE.handler(turn),
            REPORT_CHOICE.handler(report_choice),
        ]
    )
