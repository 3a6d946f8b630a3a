"""The civil servant's profile, one form for two ways in: /aanmelden <code> fills it the first
time (a moderator's code makes a moderator at once, without a profile) and a button under
/profiel changes one answer. One persistent conversation, so a restart keeps the half-filled form;
the invite is used only when the profile is saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import wraps

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler

from bot.i18n import Translator
from bot.services.civil_servants import DEPARTMENT_MAX, INTRODUCTION_MAX, NAME_MAX, ProfileDraft
from bot.services.users import Profile
from handlers.callbacks import Button, any_press
from handlers.civil_servants.shared import reprompt, servant_of, serving, typed
from handlers.common import (
    NEW_MESSAGE,
    conversation,
    keyboard,
    press_done,
    refuse_press,
    speaker,
    text_step,
)
from handlers.context import BotApplication, BotContext
from handlers.menus import set_staff_menu
from handlers.steps import (
    DraftSlot,
    cancel_with,
    closing,
    grid,
    kern_keyboard,
    picked,
    step_done,
    take_text,
)
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


EDIT = Button("prof:edit", tuple(FIELDS))  # under /profiel: change one answer
TOPIC = Button("prof:topic", int)  # a main topic's place in the taxonomy, on or off
TOPICS_DONE = Button("prof:topics:done")
KERN = Button("prof:kern", int)  # a kern's place in the config's list, on or off
KERNEN_DONE = Button("prof:kernen:done")
BACKUP = Button("prof:backup", (int, "none"))  # a colleague's id, or nobody

# The form being filled, and with it the invite used at the end (joining) or the profile being
# changed (an edit).
DRAFT = DraftSlot("profiel", ProfileDraft.from_dict, "profiel_invite", "profiel_edit")


def _draft(context: BotContext) -> ProfileDraft:
    return DRAFT.get(context)


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
    DRAFT.forget(context)
    context.user_data["profiel_invite"] = invite.id  # not the code: state is kept in the database
    DRAFT.keep(context, ProfileDraft())
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
        rows = [[(f"{s.name} ({s.department})", BACKUP.build(s.id))] for s in colleagues]
        rows.append([(t("cs.backup_none"), BACKUP.build("none"))])
        await message.reply_text(t("cs.ask_backup"), reply_markup=keyboard(rows))
    return step


def _me(context: BotContext) -> int | None:
    return context.user_data.get("profiel_user_id")


def _topics_keyboard(context: BotContext, t: Translator) -> InlineKeyboardMarkup:
    draft = _draft(context)
    mains = context.services.questions.taxonomy.main_topics
    rows = [
        [(("✅ " if m.key in draft.topics else "") + m.name(t.language), TOPIC.build(i))]
        for i, m in enumerate(mains)
    ]
    return keyboard([*rows, [(t("cs.done"), TOPICS_DONE.build())]])


def _kernen_keyboard(context: BotContext, t: Translator) -> InlineKeyboardMarkup:
    return kern_keyboard(
        context.config.municipality.kernen,
        KERN,
        marked=_draft(context).kernen,
        mark="✅ ",
        last=[(t("cs.done"), KERNEN_DONE.build())],
    )


async def _next(update: Update, context: BotContext, t: Translator, done: int) -> int:
    if context.user_data.get("profiel_edit"):
        return await _save_edit(update, context, t)
    order = list(FIELDS.values())
    return await _ask(update, context, t, order[order.index(done) + 1])


async def got_name(update: Update, context: BotContext) -> int:
    return await take_text(update, context, DRAFT, "name", NAME_MAX, P_NAME, _next, typed=typed)


async def got_department(update: Update, context: BotContext) -> int:
    return await take_text(
        update, context, DRAFT, "department", DEPARTMENT_MAX, P_DEPARTMENT, _next, typed=typed
    )


async def _toggle(
    update: Update,
    context: BotContext,
    button: Button,
    options: Sequence[str],
    field: str,
    markup: Callable[[BotContext, Translator], InlineKeyboardMarkup],
) -> None:
    """A press turns one of `options` on or off in the draft's list `field`; the keyboard
    shows it."""
    value = await picked(update, context, button, options)
    if value is None:
        return
    _, t = await speaker(update, context)
    draft = _draft(context)
    chosen: list[str] = getattr(draft, field)
    setattr(
        draft, field, [v for v in chosen if v != value] if value in chosen else [*chosen, value]
    )
    DRAFT.keep(context, draft)
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(reply_markup=markup(context, t))


async def toggle_topic(update: Update, context: BotContext) -> int:
    mains = context.services.questions.taxonomy.main_topics
    await _toggle(update, context, TOPIC, [m.key for m in mains], "topics", _topics_keyboard)
    return P_TOPICS


async def topics_done(update: Update, context: BotContext) -> int:
    query = update.callback_query
    _, t = await speaker(update, context)
    if not _draft(context).topics:
        await query.answer(t("cs.topics_needed"), show_alert=True)
        return P_TOPICS
    return await step_done(update, context, P_TOPICS, _next)


async def toggle_kern(update: Update, context: BotContext) -> int:
    kernen = context.config.municipality.kernen
    await _toggle(update, context, KERN, kernen, "kernen", _kernen_keyboard)
    return P_KERNEN


async def kernen_done(update: Update, context: BotContext) -> int:
    return await step_done(update, context, P_KERNEN, _next)


async def got_introduction(update: Update, context: BotContext) -> int:
    return await take_text(
        update, context, DRAFT, "introduction", INTRODUCTION_MAX, P_INTRO, _next, typed=typed
    )


async def got_backup(update: Update, context: BotContext) -> int:
    """The last answer: save the profile (and use the invite, when joining)."""
    query = update.callback_query
    _, t = await speaker(update, context)
    value = BACKUP.one(query.data)
    draft = _draft(context)
    if value == "none":
        draft.backup_id = None
    elif await context.services.civil_servants.get(value):
        draft.backup_id = value
    else:
        await refuse_press(update, context)
        return P_BACKUP
    DRAFT.keep(context, draft)
    await press_done(update)
    if context.user_data.get("profiel_edit"):
        return await _save_edit(update, context, t)
    tg_user = update.effective_user
    joined = await context.services.civil_servants.join(
        context.user_data.get("profiel_invite", 0),
        Profile(tg_user.id, tg_user.full_name, tg_user.username),
        t.language,
        draft,
    )
    DRAFT.forget(context)
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
    servant, t = await serving(update, context)
    if servant is None:
        return
    buttons = [(t(f"cs.edit_{name}"), EDIT.build(name)) for name in FIELDS]
    await update.effective_message.reply_text(
        await _profile_text(context, t, servant), reply_markup=keyboard(grid(buttons))
    )


async def edit(update: Update, context: BotContext) -> int:
    query = update.callback_query
    user, t = await speaker(update, context)
    servant = await servant_of(context, user)
    name = EDIT.one(query.data)
    if servant is None:
        await refuse_press(update, context)
        return ConversationHandler.END
    await press_done(update)
    DRAFT.forget(context)
    DRAFT.keep(context, ProfileDraft.of(servant))
    context.user_data["profiel_edit"] = servant.id
    context.user_data["profiel_user_id"] = servant.user_id
    return await _ask(update, context, t, FIELDS[name])


async def _save_edit(update: Update, context: BotContext, t: Translator) -> int:
    servant_id = context.user_data.get("profiel_edit")
    saved = await context.services.civil_servants.save_profile(servant_id or 0, _draft(context))
    DRAFT.forget(context)
    context.user_data.pop("profiel_user_id", None)
    if saved is None:
        await update.effective_message.reply_text(t("common.stale_button"))
        return ConversationHandler.END
    await update.effective_message.reply_text(
        "\n\n".join((t("cs.saved"), await _profile_text(context, t, saved)))
    )
    return ConversationHandler.END


profile_cancel = closing("cs.cancelled", DRAFT)


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
        DRAFT.forget(context)
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
            EDIT.handler(edit),
        ],
        states={
            P_NAME: [text_step(_still_theirs(got_name))],
            P_DEPARTMENT: [text_step(_still_theirs(got_department))],
            P_TOPICS: [
                TOPIC.handler(_still_theirs(toggle_topic)),
                TOPICS_DONE.handler(_still_theirs(topics_done)),
            ],
            P_KERNEN: [
                KERN.handler(_still_theirs(toggle_kern)),
                KERNEN_DONE.handler(_still_theirs(kernen_done)),
            ],
            P_INTRO: [text_step(_still_theirs(got_introduction))],
            P_BACKUP: [BACKUP.handler(_still_theirs(got_backup))],
        },
        fallbacks=[
            cancel_with(profile_cancel),
            CallbackQueryHandler(refuse_press, pattern=any_press("prof")),  # its own only
            MessageHandler(NEW_MESSAGE, reprompt),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handlers([profile_conversation(), CommandHandler("profiel", profile)])
