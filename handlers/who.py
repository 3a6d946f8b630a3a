"""/wie: the civil servants who work on a topic or in a kern, with their own introduction —
residents "hardly know what the municipality does"; this is who does it."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.app import BotApplication, BotContext
from bot.i18n import Translator
from handlers.common import is_number, keyboard, requires_resident
from models import CivilServant, User

SHOWN = 10


def _choices(context: BotContext, t: Translator) -> object:
    topics = context.services.questions.taxonomy.main_topics
    kernen = context.config.municipality.kernen
    rows = [[(topic.name(t.language), f"wie:t:{n}")] for n, topic in enumerate(topics)]
    kern_buttons = [(kern, f"wie:k:{n}") for n, kern in enumerate(kernen)]
    rows += [kern_buttons[i : i + 2] for i in range(0, len(kern_buttons), 2)]
    return keyboard(rows)


def _listing(t: Translator, scope: str, servants: list[CivilServant]) -> str:
    if not servants:
        return t("wie.nobody", scope=scope)
    lines = [t("wie.header", scope=scope)]
    lines += [
        t(
            "wie.item",
            name=s.name,
            department=s.department,
            introduction=s.introduction or t("wie.no_introduction"),
        )
        for s in servants[:SHOWN]
    ]
    return "\n\n".join(lines)


@requires_resident
async def who(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """/wie: pick a topic or a kern."""
    await update.effective_message.reply_text(t("wie.choose"), reply_markup=_choices(context, t))


@requires_resident
async def show(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """The civil servants of the chosen topic or kern (not those who left)."""
    query = update.callback_query
    _, kind, value = [*query.data.split(":"), "", ""][:3]
    topics = context.services.questions.taxonomy.main_topics
    kernen = context.config.municipality.kernen
    limit = {"t": len(topics), "k": len(kernen)}.get(kind, 0)
    if not is_number(value) or int(value) >= limit:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    servants = [s for s in await context.services.civil_servants.all() if s.topics or s.kernen]
    if kind == "t":
        topic = topics[int(value)]
        scope = topic.name(t.language)
        # Profiles hold main topics; a subtopic key would count for its main topic too.
        chosen = [s for s in servants if any(f"{k}/".startswith(f"{topic.key}/") for k in s.topics)]
    else:
        scope = kernen[int(value)]
        chosen = [s for s in servants if not s.kernen or scope in s.kernen]
    await query.answer()
    try:
        await query.edit_message_text(_listing(t, scope, chosen), reply_markup=_choices(context, t))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def register(application: BotApplication) -> None:
    application.add_handlers(
        [CommandHandler("wie", who), CallbackQueryHandler(show, pattern=r"^wie:")]
    )
