"""Onboarding: /start with the privacy notice and consent, then kern and contact; /taal. /help is
handlers/residents/help.py.

Before consent nothing but the Telegram id is stored: the language shown in the notice travels in
the buttons' callback data until the resident agrees.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.i18n import LANGUAGES, Translator, translator
from bot.kernen import match_kern
from bot.services.users import Profile
from handlers.callbacks import Button
from handlers.common import keyboard, press_done, requires_resident, speaker
from handlers.context import BotApplication, BotContext
from handlers.menus import commands
from handlers.residents.about import independence_line
from handlers.residents.help import help_command, help_text, resident_help, role_line
from handlers.steps import kern_keyboard, picked
from models import ContactMethod, User

# Flows import /help's handler from here too (it lives in handlers/residents/help.py).
__all__ = ["help_command"]

LANGUAGE_LABELS = {"nl": "🇳🇱 Nederlands", "en": "🇬🇧 English"}

# Before consent the language of the notice travels in its buttons.
CONSENT = Button("onb:consent", LANGUAGES)
DECLINE = Button("onb:decline", LANGUAGES)
NOTICE_LANGUAGE = Button("onb:lang", LANGUAGES)
CHANGE_KERN = Button("onb:changekern")
KERN_PICK = Button("onb:kern", int)
CONTACT = Button("onb:contact", tuple(method.value for method in ContactMethod))
# /taal
LANGUAGE = Button("taal", LANGUAGES)


def _privacy_notice(context: BotContext, t: Translator) -> tuple[str, object]:
    text = "\n\n".join(
        (
            t("start.welcome", municipality=context.config.municipality.name),
            independence_line(t, context.config),
            t("start.privacy"),
        )
    )
    other = next(lang for lang in LANGUAGES if lang != t.language)
    markup = keyboard(
        [
            [(t("start.consent_yes"), CONSENT.build(t.language))],
            [(t("start.consent_no"), DECLINE.build(t.language))],
            [(LANGUAGE_LABELS[other], NOTICE_LANGUAGE.build(other))],
        ]
    )
    return text, markup


def _kern_keyboard(context: BotContext) -> object:
    return kern_keyboard(context.config.municipality.kernen, KERN_PICK)


async def start(update: Update, context: BotContext) -> None:
    """Greet: a newcomer gets the privacy notice, a returning resident a short welcome."""
    user, t = await speaker(update, context)
    message = update.effective_message
    if user is not None and user.onboarded:
        lines = [
            t("start.welcome_back", name=user.display_name or ""),
            independence_line(t, context.config),
            role_line(t, context.services, user),
            help_text(t, context.services, user),
        ]
        await message.reply_text(
            "\n\n".join(line for line in lines if line),
            reply_markup=keyboard([[(t("start.change_kern"), CHANGE_KERN.build())]]),
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
    text, markup = _privacy_notice(context, translator(NOTICE_LANGUAGE.one(query.data)))
    await query.answer()
    await query.edit_message_text(text, reply_markup=markup)


async def consent(update: Update, context: BotContext) -> None:
    """Store the consent with the language the notice was read in; ask for the kern."""
    query = update.callback_query
    t = translator(CONSENT.one(query.data))
    tg_user = update.effective_user
    await context.services.users.give_consent(
        Profile(tg_user.id, tg_user.full_name, tg_user.username), t.language
    )
    await press_done(update, t("start.consent_given"))
    await query.message.reply_text(
        t("start.choose_kern", municipality=context.config.municipality.name),
        reply_markup=_kern_keyboard(context),
    )


async def decline(update: Update, context: BotContext) -> None:
    """No consent: say so kindly; the stored Telegram id is all there is."""
    query = update.callback_query
    t = translator(DECLINE.one(query.data))
    await press_done(update)
    await query.message.reply_text(t("start.declined"))


@requires_resident
async def change_kern(update: Update, context: BotContext, user: User, t: Translator) -> None:
    await press_done(update)
    await update.effective_message.reply_text(
        t("start.choose_kern", municipality=context.config.municipality.name),
        reply_markup=_kern_keyboard(context),
    )


async def choose_kern(update: Update, context: BotContext) -> None:
    """Store the kern; ask how others may reach them, unless there is only one way."""
    query = update.callback_query
    user, t = await speaker(update, context)
    if user is None or user.consent_at is None:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    kern = await picked(update, context, KERN_PICK, context.config.municipality.kernen)
    if kern is None:
        return
    await press_done(update, kern)
    await _kern_chosen(update, context, user, t, kern)


async def kern_first(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """Consent given, kern not chosen yet (handlers/common.py sends everything else here): a
    typed kern ("velserbroek") is the answer; anything else gets the kern question again."""
    message = update.effective_message
    kernen = context.config.municipality.kernen
    if update.callback_query:
        await update.callback_query.answer(t("start.kern_first_short"))
    text = message.text if message and not update.callback_query else None
    found = match_kern(text or "", kernen) if text and not text.startswith("/") else None
    if found is not None and found.kern is not None:
        await _kern_chosen(update, context, user, t, found.kern)
        return
    if found is not None and found.candidates:
        question = t("steps.kern_which", kernen=", ".join(found.candidates))
    else:
        question = t("start.kern_first")
    await message.reply_text(question, reply_markup=_kern_keyboard(context))


async def _kern_chosen(
    update: Update, context: BotContext, user: User, t: Translator, kern: str
) -> None:
    """Store the kern; the first time, ask how others may reach them, unless there is only
    one way."""
    message = update.effective_message
    first_time = user.kern is None
    await context.services.users.update(user.telegram_id, kern=kern)
    if not first_time:
        await message.reply_text(t("start.kern_changed", kern=kern))
        return
    username = update.effective_user.username
    if username:
        await message.reply_text(
            t("start.choose_contact"),
            reply_markup=keyboard(
                [
                    [
                        (
                            t("start.contact_username", username=username),
                            CONTACT.build(ContactMethod.USERNAME.value),
                        )
                    ],
                    [(t("start.contact_link"), CONTACT.build(ContactMethod.PROFILE_LINK.value))],
                ]
            ),
        )
        return
    await context.services.users.choose_contact(user.telegram_id, ContactMethod.PROFILE_LINK)
    await message.reply_text(_done_text(t, user.display_name, kern))


async def choose_contact(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user, t = await speaker(update, context)
    method = CONTACT.one(query.data)
    if user is None or user.kern is None:
        await query.answer(t("common.stale_button"), show_alert=True)
        return
    await context.services.users.choose_contact(user.telegram_id, ContactMethod(method))
    await press_done(update)
    await query.message.reply_text(_done_text(t, user.display_name, user.kern))


def _done_text(t: Translator, name: str | None, kern: str) -> str:
    return "\n\n".join((t("start.done", name=name or "", kern=kern), resident_help(t)))


# What may follow /taal to switch at once: "/taal en", "/language nl", "/taal English".
_LANGUAGE_NAMES = {
    "nl": "nl",
    "nederlands": "nl",
    "dutch": "nl",
    "ned": "nl",
    "en": "en",
    "english": "en",
    "engels": "en",
    "eng": "en",
}


@requires_resident
async def language_command(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """/taal with a language switches at once; /taal alone offers the buttons."""
    named = _LANGUAGE_NAMES.get(" ".join(context.args or []).strip().casefold())
    if named is not None:
        await context.services.users.update(user.telegram_id, language=named)
        await update.effective_message.reply_text(translator(named)("taal.set"))
        return
    await update.effective_message.reply_text(
        t("taal.choose"),
        reply_markup=keyboard(
            [[(LANGUAGE_LABELS[lang], LANGUAGE.build(lang)) for lang in LANGUAGES]]
        ),
    )


@requires_resident
async def set_language(update: Update, context: BotContext, user: User, t: Translator) -> None:
    query = update.callback_query
    language = LANGUAGE.one(query.data)
    await context.services.users.update(user.telegram_id, language=language)
    t = translator(language)
    await press_done(update)
    await query.message.reply_text(t("taal.set"))


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("start", start),
            CommandHandler(commands("taal"), language_command),
            NOTICE_LANGUAGE.handler(switch_language),
            CONSENT.handler(consent),
            DECLINE.handler(decline),
            CHANGE_KERN.handler(change_kern),
            KERN_PICK.handler(choose_kern),
            CONTACT.handler(choose_contact),
            LANGUAGE.handler(set_language),
        ]
    )
