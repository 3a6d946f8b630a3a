"""/privacy: what the bot keeps and why, a copy of all of it as a file; /vergeetmij: erase it."""

from __future__ import annotations

import json

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.callbacks import Button
from handlers.common import keyboard, press_done, speaker
from handlers.context import BotApplication, BotContext
from handlers.menus import commands, set_staff_menu
from handlers.persistence import end_conversations
from handlers.residents.about import who_runs_this
from models import Role, User

EXPORT = Button("privacy:export")
ERASE = Button("privacy:erase")
ERASE_CONFIRM = Button("privacy:erase", ("yes", "no"))


async def privacy(update: Update, context: BotContext) -> None:
    """Say what is stored, why, for how long, and offer the download."""
    user, t = await speaker(update, context)
    markup = (
        keyboard(
            [
                [(t("privacy.button_export"), EXPORT.build())],
                [(t("privacy.button_erase"), ERASE.build())],
            ]
        )
        if user
        else None
    )
    text = "\n\n".join(
        (
            t("privacy.text", municipality=context.config.municipality.name),
            who_runs_this(t, context.config),
        )
    )
    await update.effective_message.reply_text(
        text, reply_markup=markup, disable_web_page_preview=True
    )


async def export(update: Update, context: BotContext) -> None:
    """Everything the bot keeps about the person who pressed, as a JSON file in the chat."""
    query = update.callback_query
    user, t = await speaker(update, context)
    data = await context.services.privacy.export(update.effective_user.id) if user else None
    if data is None:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await query.answer()
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await query.message.reply_document(
        InputFile(content, filename="burgerbeest-gegevens.json"),
        caption=t("privacy.export_caption"),
    )


async def ask_erase(update: Update, context: BotContext) -> None:
    """/vergeetmij or its button: say what erasing means and ask to confirm."""
    user, t = await speaker(update, context)
    if update.callback_query:
        await update.callback_query.answer()
    if user is None:
        await update.effective_message.reply_text(t("privacy.nothing_kept"))
        return
    notes = [t("privacy.erase_confirm")]
    if user.role is Role.CIVIL_SERVANT:
        notes.append(t("privacy.erase_confirm_civil_servant"))
    # A moderator from the config stays one as long as their Telegram id is there.
    if context.services.civil_servants.is_configured_moderator(user.telegram_id):
        notes.append(t("privacy.erase_confirm_config_moderator"))
    elif user.role is Role.MODERATOR:
        notes.append(t("privacy.erase_confirm_moderator"))
    await update.effective_message.reply_text(
        "\n\n".join(notes),
        reply_markup=keyboard(
            [
                [(t("privacy.button_erase_yes"), ERASE_CONFIRM.build("yes"))],
                [(t("privacy.button_erase_no"), ERASE_CONFIRM.build("no"))],
            ]
        ),
    )


async def erase(update: Update, context: BotContext) -> None:
    """Confirmed: forget the person; or not, if they changed their mind."""
    query = update.callback_query
    _, t = await speaker(update, context)
    await press_done(update)
    if ERASE_CONFIRM.one(query.data) == "no":
        await query.message.reply_text(t("privacy.erase_cancelled"))
        return
    erased = await context.services.privacy.erase(update.effective_user.id)
    if erased is None:
        await query.message.reply_text(t("privacy.nothing_kept"))
        return
    telegram_id = update.effective_user.id
    context.application.drop_user_data(telegram_id)
    end_conversations(context.application, update)
    notes: list[str] = []
    if erased.offboarded is not None:
        notes.append(t.plural("privacy.erased_civil_servant", erased.offboarded.rerouted))
    if context.services.civil_servants.is_configured_moderator(telegram_id):
        notes.append(t("privacy.erased_config_moderator"))
    elif erased.was_moderator:
        notes.append(t("privacy.erased_moderator"))
    await query.message.reply_text("\n\n".join((t("privacy.erased"), *notes)))
    if notes:  # staff no more: their chat gets the menu they have now
        await set_staff_menu(context.bot, context.services, User(telegram_id=telegram_id))


# Also run by the ban guard (handlers/moderators/moderation.py) for a banned person, before any open
# conversation could take the update: the AVG rights outlive a ban.
HANDLERS: list[BaseHandler[Update, BotContext, None]] = [
    CommandHandler("privacy", privacy),
    CommandHandler(commands("vergeetmij"), ask_erase),
    EXPORT.handler(export),
    ERASE.handler(ask_erase),
    ERASE_CONFIRM.handler(erase),
]


def register(application: BotApplication) -> None:
    application.add_handlers(HANDLERS)
