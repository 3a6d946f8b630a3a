"""Onboarding: /start with the privacy notice and consent, then kern and contact; /taal, /help.

Before consent nothing but the Telegram id is stored: the language shown in the notice travels in
the buttons' callback data until the resident agrees.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.i18n import LANGUAGES, Translator, translator
from bot.services.users import Profile
from handlers.common import clear_buttons, is_number, keyboard, requires_resident, speaker
from handlers.context import BotApplication, BotContext
from models import ContactMethod, User

LANGUAGE_LABELS = {"nl": "🇳🇱 Nederlands", "en": "🇬🇧 English"}


def _privacy_notice(context: BotContext, t: Translator) -> tuple[str, object]:
    text = "\n\n".join(
        (t("start.welcome", municipality=context.config.municipality.name), t("start.privacy"))
    )
    other = next(lang for lang in LANGUAGES if lang != t.language)
    markup = keyboard(
        [
            [(t("start.consent_yes"), f"onb:consent:{t.language}")],
            [(t("start.consent_no"), f"onb:decline:{t.language}")],
            [(LANGUAGE_LABELS[other], f"onb:lang:{other}")],
        ]
    )
    return text, markup


def _kern_keyboard(context: BotContext) -> object:
    kernen = context.config.municipality.kernen
    buttons = [(name, f"onb:kern:{index}") for index, name in enumerate(kernen)]
    return keyboard([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def start(update: Update, context: BotContext) -> None:
    """Greet: a newcomer gets the privacy notice, a returning resident a short welcome."""
    user, t = await speaker(update, context)
    message = update.effective_message
    if user is not None and user.onboarded:
        await message.reply_text(
            "\n\n".join((t("start.welcome_back", name=user.display_name or ""), t("help.text"))),
            reply_markup=keyboard([[(t("start.change_kern"), "onb:changekern")]]),
        )
        return
    if user is not None and user.consent_at is not None:
        await message.reply_text(
            t("start.choose_kern", municipality=context.config.municipality.name),
            reply_markup=_kern_keyboard(context),
        )
        return
    await context.services.users.register(update.effective_user.id)
    text, markup = _privacy_notice(context, t)
    await message.reply_text(text, reply_markup=markup)


async def switch_language(update: Update, context: BotContext) -> None:
    """Show the privacy notice in the other language; nothing is stored yet."""
    query = update.callback_query
    language = query.data.rsplit(":", 1)[1]
    if language not in LANGUAGES:
        await query.answer()
        return
    text, markup = _privacy_notice(context, translator(language))
    await query.answer()
    await query.edit_message_text(text, reply_markup=markup)


async def consent(update: Update, context: BotContext) -> None:
    """Store the consent with the language the notice was read in; ask for the kern."""
    query = update.callback_query
    language = query.data.rsplit(":", 1)[1]
    t = translator(language)
    tg_user = update.effective_user
    await context.services.users.give_consent(
        Profile(tg_user.id, tg_user.full_name, tg_user.username), t.language
    )
    await query.answer(t("start.consent_given"))
    await clear_buttons(update)
    await query.message.reply_text(
        t("start.choose_kern", municipality=context.config.municipality.name),
        reply_markup=_kern_keyboard(context),
    )


async def decline(update: Update, context: BotContext) -> None:
    """No consent: say so kindly; the stored Telegram id is all there is."""
    query = update.callback_query
    t = translator(query.data.rsplit(":", 1)[1])
    await query.answer()
    await clear_buttons(update)
    await query.message.reply_text(t("start.declined"))


@requires_resident
async def change_kern(update: Update, context: BotContext, user: User, t: Translator) -> None:
    await update.callback_query.answer()
    await clear_buttons(update)
    await update.effective_message.reply_text(
        t("start.choose_kern", municipality=context.config.municipality.name),
        reply_markup=_kern_keyboard(context),
    )


async def choose_kern(update: Update, context: BotContext) -> None:
    """Store the kern; ask how others may reach them, unless there is only one way."""
    query = update.callback_query
    user, t = await speaker(update, context)
    kernen = context.config.municipality.kernen
    index = query.data.rsplit(":", 1)[1]
    if user is None or user.consent_at is None or not is_number(index) or int(index) >= len(kernen):
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    kern = kernen[int(index)]
    first_time = user.kern is None
    await context.services.users.update(user.telegram_id, kern=kern)
    await query.answer(kern)
    await clear_buttons(update)
    if not first_time:
        await query.message.reply_text(t("start.kern_changed", kern=kern))
        return
    username = update.effective_user.username
    if username:
        await query.message.reply_text(
            t("start.choose_contact"),
            reply_markup=keyboard(
                [
                    [(t("start.contact_username", username=username), "onb:contact:username")],
                    [(t("start.contact_link"), "onb:contact:profile_link")],
                ]
            ),
        )
        return
    await context.services.users.choose_contact(user.telegram_id, ContactMethod.PROFILE_LINK)
    await query.message.reply_text(_done_text(t, user.display_name, kern))


async def choose_contact(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user, t = await speaker(update, context)
    method = query.data.rsplit(":", 1)[1]
    if user is None or user.kern is None or method not in set(ContactMethod):
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await context.services.users.choose_contact(user.telegram_id, ContactMethod(method))
    await query.answer()
    await clear_buttons(update)
    await query.message.reply_text(_done_text(t, user.display_name, user.kern))


def _done_text(t: Translator, name: str | None, kern: str) -> str:
    return "\n\n".join((t("start.done", name=name or "", kern=kern), t("help.text")))


async def help_command(update: Update, context: BotContext) -> None:
    user, t = await speaker(update, context)
    text = t("help.text")
    if user is None or not user.onboarded:
        text = "\n\n".join((text, t("common.need_start")))
    await update.effective_message.reply_text(text)


@requires_resident
async def language_command(update: Update, context: BotContext, user: User, t: Translator) -> None:
    await update.effective_message.reply_text(
        t("taal.choose"),
        reply_markup=keyboard([[(LANGUAGE_LABELS[lang], f"taal:{lang}") for lang in LANGUAGES]]),
    )


@requires_resident
async def set_language(update: Update, context: BotContext, user: User, t: Translator) -> None:
    query = update.callback_query
    language = query.data.rsplit(":", 1)[1]
    if language not in LANGUAGES:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await context.services.users.update(user.telegram_id, language=language)
    t = translator(language)
    await query.answer()
    await clear_buttons(update)
    await query.message.reply_text(t("taal.set"))


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("start", start),
            CommandHandler("help", help_command),
            CommandHandler("taal", language_command),
            CallbackQueryHandler(switch_language, pattern=r"^onb:lang:"),
            CallbackQueryHandler(consent, pattern=r"^onb:consent:(nl|en)$"),
            CallbackQueryHandler(decline, pattern=r"^onb:decline:(nl|en)$"),
            CallbackQueryHandler(change_kern, pattern=r"^onb:changekern$"),
            CallbackQueryHandler(choose_kern, pattern=r"^onb:kern:"),
            CallbackQueryHandler(choose_contact, pattern=r"^onb:contact:"),
            CallbackQueryHandler(set_language, pattern=r"^taal:"),
        ]
    )
