"""The civil servant's profile, one form for two ways in: /aanmelden <code> fills it the first
time (a moderator's code makes a moderator at once, without a profile) and a button under
/profiel changes one answer. One persistent conversation, so a restart keeps the half-filled form;
the invite is used only when the profile is saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler

from bot.i18n import Translator
from bot.services.civil_servants import DEPARTMENT_MAX, INTRODUCTION_MAX, NAME_MAX, ProfileDraft
from bot.services.users import Profile
from handlers.civil_servants.shared import reprompt, servant_of, typed
from handlers.common import (
    NEW_MESSAGE,
    clear_buttons,
    conversation,
    is_number,
    keyboard,
    refuse_press,
    speaker,
    text_step,
)
from handlers.context import BotApplication, BotContext
from handlers.menus import set_staff_menu
from models import CivilServant, Role
from models.base import utcnow

P_NAME, P_DEPARTMENT, P_TOPICS, P_KERNEN, P_INTRO, P_BACKUP = range(100, 106)


FIELDS = {
    "name": P_NAME,
    "department": P_DEPARTMENT,
    "topics": P_TOPICS,
    "kernen": P_KERNEN,
    "introduction": P_INTRO,
    "backup": P_BACKUP,
}


def _draft(context: BotContext) -> ProfileDraft:
    return ProfileDraft.from_dict(context.user_data.get("profiel"))


def _keep(context: BotContext, draft: ProfileDraft) -> None:
    context.user_data["profiel"] = draft.to_dict()


def _forget(context: BotContext) -> None:
    for key in ("profiel", "profiel_invite", "profiel_edit"):
        context.user_data.pop(key, None)


async def join(update: Update, context: BotContext) -> int:
    """/aanmelden <code>: a moderator's code makes a moderator at once; a civil servant's code
    starts the profile, and is used only when the profile is saved."""
    user, t = await speaker(update, context)
    code = " ".join(context.args or [])
    invite = await context.services.invites.check(code) if code else None
    if invite is None:
        await update.effective_message.reply_text(t("cs.code_invalid"))
        return ConversationHandler.END
    tg_user = update.effective_user
    profile = Profile(tg_user.id, tg_user.full_name, tg_user.username)
    if invite.role is Role.MODERATOR:
        joined = await context.services.civil_servants.join(invite.id, profile, t.language, None)
        key = "cs.moderator_welcome" if joined else "cs.code_invalid"
        await update.effective_message.reply_text(t(key))
        staff = await context.services.users.get(tg_user.id) if joined else None
        if staff is not None:
            await set_staff_menu(context.bot, context.services, staff)
        return ConversationHandler.END
    if await servant_of(context, user) is not None:
        await update.effective_message.reply_text(t("cs.already"))
        return ConversationHandler.END
    _forget(context)
    context.user_data["profiel_invite"] = invite.id  # not the code: state is kept in the database
    _keep(context, ProfileDraft())
    await update.effective_message.reply_text(t("cs.intro"))
    return await _ask(update, context, t, P_NAME)


async def _ask(update: Update, context: BotContext, t: Translator, step: int) -> int:
    message = update.effective_message
    if step == P_NAME:
        await message.reply_text(t("cs.ask_name"))
    elif step == P_DEPARTMENT:
        await message.reply_text(t("cs.ask_department"))
    elif step == P_TOPICS:
        await message.reply_text(t("cs.ask_topics"), reply_markup=_topics_keyboard(context, t))
    elif step == P_KERNEN:
        await message.reply_text(t("cs.ask_kernen"), reply_markup=_kernen_keyboard(context, t))
    elif step == P_INTRO:
        await message.reply_text(t("cs.ask_introduction"))
    elif step == P_BACKUP:
        colleagues = [
            s for s in await context.services.civil_servants.all() if s.user_id != _me(context)
        ]
        rows = [[(f"{s.name} ({s.department})", f"prof:backup:{s.id}")] for s in colleagues]
        rows.append([(t("cs.backup_none"), "prof:backup:none")])
        await message.reply_text(t("cs.ask_backup"), reply_markup=keyboard(rows))
    return step


def _me(context: BotContext) -> int | None:
    return context.user_data.get("profiel_user_id")


def _topics_keyboard(context: BotContext, t: Translator) -> object:
    draft = _draft(context)
    mains = context.services.questions.taxonomy.main_topics
    rows = [
        [(("✅ " if m.key in draft.topics else "") + m.name(t.language), f"prof:topic:{i}")]
        for i, m in enumerate(mains)
    ]
    return keyboard([*rows, [(t("cs.done"), "prof:topics:done")]])


def _kernen_keyboard(context: BotContext, t: Translator) -> object:
    draft = _draft(context)
    kernen = context.config.municipality.kernen
    buttons = [
        (("✅ " if k in draft.kernen else "") + k, f"prof:kern:{i}") for i, k in enumerate(kernen)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return keyboard([*rows, [(t("cs.done"), "prof:kernen:done")]])


async def _next(update: Update, context: BotContext, t: Translator, done: int) -> int:
    if context.user_data.get("profiel_edit"):
        return await _save_edit(update, context, t)
    order = list(FIELDS.values())
    return await _ask(update, context, t, order[order.index(done) + 1])


async def got_name(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    text = await typed(update, t, NAME_MAX)
    if text is None:
        return P_NAME
    draft = _draft(context)
    draft.name = text
    _keep(context, draft)
    return await _next(update, context, t, P_NAME)


async def got_department(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    text = await typed(update, t, DEPARTMENT_MAX)
    if text is None:
        return P_DEPARTMENT
    draft = _draft(context)
    draft.department = text
    _keep(context, draft)
    return await _next(update, context, t, P_DEPARTMENT)


def _toggled(values: list[str], value: str) -> list[str]:
    return [v for v in values if v != value] if value in values else [*values, value]


async def toggle_topic(update: Update, context: BotContext) -> int:
    query = update.callback_query
    _, t = await speaker(update, context)
    mains = context.services.questions.taxonomy.main_topics
    value = query.data.rsplit(":", 1)[1]
    if not is_number(value) or int(value) >= len(mains):
        await query.answer(t("common.stale_button"), show_alert=True)
        return P_TOPICS
    draft = _draft(context)
    key = mains[int(value)].key
    draft.topics = _toggled(draft.topics, key)
    _keep(context, draft)
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=_topics_keyboard(context, t))
    return P_TOPICS


async def topics_done(update: Update, context: BotContext) -> int:
    query = update.callback_query
    _, t = await speaker(update, context)
    if not _draft(context).topics:
        await query.answer(t("cs.topics_needed"), show_alert=True)
        return P_TOPICS
    await query.answer()
    await clear_buttons(update)
    return await _next(update, context, t, P_TOPICS)


async def toggle_kern(update: Update, context: BotContext) -> int:
    query = update.callback_query
    _, t = await speaker(update, context)
    kernen = context.config.municipality.kernen
    value = query.data.rsplit(":", 1)[1]
    if not is_number(value) or int(value) >= len(kernen):
        await query.answer(t("common.stale_button"), show_alert=True)
        return P_KERNEN
    draft = _draft(context)
    kern = kernen[int(value)]
    draft.kernen = _toggled(draft.kernen, kern)
    _keep(context, draft)
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=_kernen_keyboard(context, t))
    return P_KERNEN


async def kernen_done(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    await update.callback_query.answer()
    await clear_buttons(update)
    return await _next(update, context, t, P_KERNEN)


async def got_introduction(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    text = await typed(update, t, INTRODUCTION_MAX)
    if text is None:
        return P_INTRO
    draft = _draft(context)
    draft.introduction = text
    _keep(context, draft)
    return await _next(update, context, t, P_INTRO)


async def got_backup(update: Update, context: BotContext) -> int:
    """The last answer: save the profile (and use the invite, when joining)."""
    query = update.callback_query
    _, t = await speaker(update, context)
    value = query.data.rsplit(":", 1)[1]
    draft = _draft(context)
    if value == "none":
        draft.backup_id = None
    elif is_number(value) and await context.services.civil_servants.get(int(value)):
        draft.backup_id = int(value)
    else:
        await query.answer(t("common.stale_button"), show_alert=True)
        return P_BACKUP
    _keep(context, draft)
    await query.answer()
    await clear_buttons(update)
    if context.user_data.get("profiel_edit"):
        return await _save_edit(update, context, t)
    tg_user = update.effective_user
    joined = await context.services.civil_servants.join(
        context.user_data.get("profiel_invite", 0),
        Profile(tg_user.id, tg_user.full_name, tg_user.username),
        t.language,
        draft,
    )
    _forget(context)
    if joined is None or joined.servant is None:
        await query.message.reply_text(t("cs.code_invalid"))
        return ConversationHandler.END
    await query.message.reply_text(
        "\n\n".join((t("cs.welcome"), await _profile_text(context, t, joined.servant)))
    )
    staff = await context.services.users.get(tg_user.id)
    if staff is not None:
        await set_staff_menu(context.bot, context.services, staff)
    return ConversationHandler.END


async def _profile_text(context: BotContext, t: Translator, servant: CivilServant) -> str:
    taxonomy = context.services.questions.taxonomy
    services = context.services
    backup = await services.civil_servants.get(servant.backup_id) if servant.backup_id else None
    today = services.questions.calendar.local_date(utcnow())
    topics = ", ".join(taxonomy[k].name(t.language) if k in taxonomy else k for k in servant.topics)
    away = (
        t("cs.away_until", date=t.date(servant.away_until))
        if servant.is_away(today) and servant.away_until
        else t("cs.present")
    )
    return t(
        "cs.profile",
        name=servant.name,
        department=servant.department,
        topics=topics,
        kernen=", ".join(servant.kernen) or t("cs.all_kernen"),
        introduction=servant.introduction,
        backup=backup.name if backup else t("cs.backup_none"),
        away=away,
    )


async def profile(update: Update, context: BotContext) -> None:
    """/profiel: the profile as residents see it, with a button per answer to change."""
    user, t = await speaker(update, context)
    servant = await servant_of(context, user)
    if servant is None:
        await update.effective_message.reply_text(t("cs.only_civil_servants"))
        return
    buttons = [(t(f"cs.edit_{name}"), f"prof:edit:{name}") for name in FIELDS]
    await update.effective_message.reply_text(
        await _profile_text(context, t, servant),
        reply_markup=keyboard([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
    )


async def edit(update: Update, context: BotContext) -> int:
    query = update.callback_query
    user, t = await speaker(update, context)
    servant = await servant_of(context, user)
    name = query.data.rsplit(":", 1)[1]
    if servant is None or name not in FIELDS:
        await query.answer(t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    await clear_buttons(update)
    _forget(context)
    _keep(context, ProfileDraft.of(servant))
    context.user_data["profiel_edit"] = servant.id
    context.user_data["profiel_user_id"] = servant.user_id
    return await _ask(update, context, t, FIELDS[name])


async def _save_edit(update: Update, context: BotContext, t: Translator) -> int:
    servant_id = context.user_data.get("profiel_edit")
    saved = await context.services.civil_servants.save_profile(servant_id or 0, _draft(context))
    _forget(context)
    context.user_data.pop("profiel_user_id", None)
    if saved is None:
        await update.effective_message.reply_text(t("common.stale_button"))
        return ConversationHandler.END
    await update.effective_message.reply_text(
        "\n\n".join((t("cs.saved"), await _profile_text(context, t, saved)))
    )
    return ConversationHandler.END


async def profile_cancel(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    _forget(context)
    await update.effective_message.reply_text(t("cs.cancelled"))
    return ConversationHandler.END


def _still_theirs(step: Callable[[Update, BotContext], Awaitable[int]]):
    """A step of a /profiel edit runs only while the profile is still the person's: another
    process (`burgerbeest offboard` or `revoke`) may have taken it away mid-edit, and a bot
    polling for updates still holds the edit in memory, which would write the old profile
    back."""

    @wraps(step)
    async def guarded(update: Update, context: BotContext) -> int:
        editing = context.user_data.get("profiel_edit")
        if editing is None:  # joining: there is no profile yet
            return await step(update, context)
        user, t = await speaker(update, context)
        servant = await servant_of(context, user)
        if servant is not None and servant.id == editing:
            return await step(update, context)
        _forget(context)
        context.user_data.pop("profiel_user_id", None)
        if update.callback_query:
            await update.callback_query.answer()
        await update.effective_message.reply_text(t("staff.profile_gone"))
        return ConversationHandler.END

    return guarded


def profile_conversation() -> ConversationHandler:
    return conversation(
        name="civil_servant_profile",
        persistent=True,
        entry_points=[
            CommandHandler("aanmelden", join),
            CallbackQueryHandler(edit, pattern=r"^prof:edit:"),
        ],
        states={
            P_NAME: [text_step(_still_theirs(got_name))],
            P_DEPARTMENT: [text_step(_still_theirs(got_department))],
            P_TOPICS: [
                CallbackQueryHandler(_still_theirs(toggle_topic), pattern=r"^prof:topic:"),
                CallbackQueryHandler(_still_theirs(topics_done), pattern=r"^prof:topics:done$"),
            ],
            P_KERNEN: [
                CallbackQueryHandler(_still_theirs(toggle_kern), pattern=r"^prof:kern:"),
                CallbackQueryHandler(_still_theirs(kernen_done), pattern=r"^prof:kernen:done$"),
            ],
            P_INTRO: [text_step(_still_theirs(got_introduction))],
            P_BACKUP: [CallbackQueryHandler(_still_theirs(got_backup), pattern=r"^prof:backup:")],
        },
        fallbacks=[
            CommandHandler("annuleer", profile_cancel),
            CallbackQueryHandler(refuse_press),
            MessageHandler(NEW_MESSAGE, reprompt),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handlers([profile_conversation(), CommandHandler("profiel", profile)])
