"""/wie: the civil servants who work on a topic or in a kern, with their own introduction —
residents "hardly know what the municipality does"; this is who does it."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot.i18n import Translator
from bot.routing.keys import within
from handlers.callbacks import Button
from handlers.common import keyboard, refuse_press, requires_resident
from handlers.context import BotApplication, BotContext
from handlers.fitting import TEXT_MAX, fits
from handlers.menus import commands
from handlers.steps import grid
from models import CivilServant, User

# Room for a page's people; the rest of a message's 4,096 is for "Pagina 2 van 3".
PAGE_ROOM = TEXT_MAX - 100

# A main topic ("t") or a kern ("k") by its place in its list; with a page number, ◀️/▶️.
CHOOSE = Button("wie", ("t", "k"), int)
PAGE = Button("wie", ("t", "k"), int, int)


def _choices(
    context: BotContext, t: Translator, nav: list[tuple[str, str]] | None = None
) -> object:
    topics = context.services.questions.taxonomy.main_topics
    kernen = context.config.municipality.kernen
    rows = [nav] if nav else []
    rows += [[(topic.name(t.language), CHOOSE.build("t", n))] for n, topic in enumerate(topics)]
    rows += grid([(kern, CHOOSE.build("k", n)) for n, kern in enumerate(kernen)])
    return keyboard(rows)


def _pages(t: Translator, scope: str, servants: list[CivilServant]) -> list[str]:
    """The listing in pages that each fit one message: introductions are long, and a list cut
    off or split over messages would drop people or lose its buttons."""
    header = t("wie.header", scope=scope)
    items = [
        t(
            "wie.item",
            name=s.name,
            department=s.department,
            introduction=s.introduction or t("wie.no_introduction"),
        )
        for s in servants
    ]
    pages: list[list[str]] = [[]]
    for item in items:
        if pages[-1] and not fits("\n\n".join([header, *pages[-1], item]), PAGE_ROOM):
            pages.append([])
        pages[-1].append(item)
    return ["\n\n".join([header, *page]) for page in pages]


def _page(
    t: Translator, scope: str, servants: list[CivilServant], page: int, chosen: tuple[str, int]
) -> tuple[str, list[tuple[str, str]]]:
    """Page `page` (kept in range) of the listing and its ◀️/▶️ buttons; `chosen` (the kind
    and place of the topic or kern) goes in the buttons."""
    if not servants:
        return t("wie.nobody", scope=scope), []
    pages = _pages(t, scope, servants)
    page = min(page, len(pages) - 1)
    if len(pages) == 1:
        return pages[0], []
    nav = []
    if page > 0:
        nav.append((t("wie.previous"), PAGE.build(*chosen, page - 1)))
    if page < len(pages) - 1:
        nav.append((t("wie.next"), PAGE.build(*chosen, page + 1)))
    return f"{pages[page]}\n\n{t('wie.page', page=page + 1, pages=len(pages))}", nav


@requires_resident
async def who(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """/wie: pick a topic or a kern."""
    await update.effective_message.reply_text(t("wie.choose"), reply_markup=_choices(context, t))


@requires_resident
async def show(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """The civil servants of the chosen topic or kern (not those who left)."""
    query = update.callback_query
    kind, value, page = PAGE.parse(query.data) or (*CHOOSE.parse(query.data), 0)
    topics = context.services.questions.taxonomy.main_topics
    kernen = context.config.municipality.kernen
    if value >= (len(topics) if kind == "t" else len(kernen)):
        await refuse_press(update, context)
        return
    servants = [s for s in await context.services.civil_servants.all() if s.topics or s.kernen]
    if kind == "t":
        topic = topics[value]
        scope = topic.name(t.language)
        # Profiles hold main topics; a subtopic key would count for its main topic too.
        chosen = [s for s in servants if any(within(k, topic.key) for k in s.topics)]
    else:
        scope = kernen[value]
        chosen = [s for s in servants if not s.kernen or scope in s.kernen]
    text, nav = _page(t, scope, chosen, page, (kind, value))
    await query.answer()
    try:
        await query.edit_message_text(text, reply_markup=_choices(context, t, nav))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def register(application: BotApplication) -> None:
    application.add_handlers(
        [CommandHandler(commands("wie"), who), CHOOSE.handler(show), PAGE.handler(show)]
    )
