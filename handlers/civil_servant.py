"""Civil servants and moderators: /aanmelden with an invite code, /profiel, /afwezig, /vragen;
the buttons under a question (answer, ask for more, forward, close); the moderators' triage
(/triage, assigning by hand) and invites (/uitnodiging).

Every press is checked on the server: the question service says whether this person may act on
this question (its assignee, the assignee's backup, or a moderator); anything else gets the
common stale-button answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial, wraps

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import Translator
from bot.services.civil_servants import (
    DEPARTMENT_MAX,
    INTRODUCTION_MAX,
    NAME_MAX,
    ProfileDraft,
)
from bot.services.questions import MESSAGE_MAX, Outcome
from bot.services.users import Profile
from handlers.common import (
    NEW_MESSAGE,
    clear_buttons,
    conversation,
    is_number,
    keyboard,
    moderator,
    speaker,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.dispatch import card_buttons, card_text, send_now
from handlers.menus import set_staff_menu
from models import CivilServant, Role, User
from models.base import utcnow

# Free text in the questions flows: the one typed_answer(), in these flows' own words.
_typed = partial(typed_answer, empty="vraag.empty", too_long="vraag.too_long")


P_NAME, P_DEPARTMENT, P_TOPICS, P_KERNEN, P_INTRO, P_BACKUP = range(100, 106)
WRITING = 120
FIELDS = {
    "name": P_NAME,
    "department": P_DEPARTMENT,
    "topics": P_TOPICS,
    "kernen": P_KERNEN,
    "introduction": P_INTRO,
    "backup": P_BACKUP,
}
SHOWN = 10


async def _servant(context: BotContext, user: User | None) -> CivilServant | None:
    if user is None or user.role is not Role.CIVIL_SERVANT:
        return None
    return await context.services.civil_servants.of_user(user.id)


def _draft(context: BotContext) -> ProfileDraft:
    return ProfileDraft.from_dict(context.user_data.get("profiel"))


def _keep(context: BotContext, draft: ProfileDraft) -> None:
    context.user_data["profiel"] = draft.to_dict()


def _forget(context: BotContext) -> None:
    for key in ("profiel", "profiel_invite", "profiel_edit"):
        context.user_data.pop(key, None)


# --- joining and the profile -------------------------------------------------------------


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
    if await _servant(context, user) is not None:
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
    text = await _typed(update, t, NAME_MAX)
    if text is None:
        return P_NAME
    draft = _draft(context)
    draft.name = text
    _keep(context, draft)
    return await _next(update, context, t, P_NAME)


async def got_department(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    text = await _typed(update, t, DEPARTMENT_MAX)
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
    text = await _typed(update, t, INTRODUCTION_MAX)
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
    servant = await _servant(context, user)
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
    servant = await _servant(context, user)
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


async def profile_reprompt(update: Update, context: BotContext) -> None:
    _, t = await speaker(update, context)
    await update.effective_message.reply_text(t("cs.reprompt"))


async def profile_stale(update: Update, context: BotContext) -> None:
    _, t = await speaker(update, context)
    await update.callback_query.answer(t("common.stale_button"), show_alert=True)


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
        servant = await _servant(context, user)
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
            CallbackQueryHandler(profile_stale),
            MessageHandler(NEW_MESSAGE, profile_reprompt),
        ],
    )


# --- away ------------------------------------------------------------------------------------

_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$|^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(text: str) -> date | None:
    """dd-mm-jjjj or jjjj-mm-dd; None if neither or not a real date."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    d, m, y, y2, m2, d2 = match.groups()
    try:
        return date(int(y), int(m), int(d)) if y else date(int(y2), int(m2), int(d2))
    except ValueError:
        return None


async def away(update: Update, context: BotContext) -> None:
    """/afwezig <datum>: away up to and including that day; /afwezig terug: back."""
    user, t = await speaker(update, context)
    servant = await _servant(context, user)
    if servant is None:
        await update.effective_message.reply_text(t("cs.only_civil_servants"))
        return
    argument = " ".join(context.args or []).strip().lower()
    if argument in ("terug", "back", "uit", "off"):
        await context.services.civil_servants.set_away(servant.id, None)
        await update.effective_message.reply_text(t("cs.back"))
        return
    until = parse_date(argument)
    today = context.services.questions.calendar.local_date(update.effective_message.date)
    if until is None or until < today:
        await update.effective_message.reply_text(t("cs.away_usage"))
        return
    await context.services.civil_servants.set_away(servant.id, until)
    backup = (
        await context.services.civil_servants.get(servant.backup_id) if servant.backup_id else None
    )
    if backup is None:
        text = t("cs.away_set_no_backup", date=t.date(until))
    else:
        text = t("cs.away_set", date=t.date(until), backup=backup.name)
    await update.effective_message.reply_text(text)


async def my_questions(update: Update, context: BotContext) -> None:
    """/vragen: the open questions with this civil servant, each with its buttons."""
    user, t = await speaker(update, context)
    servant = await _servant(context, user)
    if servant is None:
        await update.effective_message.reply_text(t("cs.only_civil_servants"))
        return
    questions = await context.services.questions.open_for(servant.id)
    await update.effective_message.reply_text(t.plural("cs.open_questions", len(questions)))
    for question in questions[:SHOWN]:
        await update.effective_message.reply_text(
            card_text(context, t, question, False), reply_markup=card_buttons(t, question.id)
        )


# --- the buttons under a question --------------------------------------------------------


def _ids(data: str) -> list[int] | None:
    parts = data.split(":")[2:]
    return [int(p) for p in parts] if parts and all(is_number(p) for p in parts) else None


async def _report(update: Update, context: BotContext, t: Translator, outcome: Outcome, key: str):
    """Say what a move did; a refused one gets the stale-button answer."""
    query = update.callback_query
    if not outcome.ok:
        reason_key = f"cs.refused_{outcome.reason}"
        if outcome.reason in ("closed", "gone", "taken"):
            text = t(reason_key)
        else:
            text = t("common.stale_button")
        if query:
            await query.answer(text, show_alert=True)
        else:
            await update.effective_message.reply_text(text)
        return
    if query:
        await query.answer()
        await clear_buttons(update)
    report = await send_now(context, outcome.send_now)
    assert outcome.question is not None
    values: dict[str, object] = {"number": outcome.question.number}
    if outcome.assignee is not None:
        values["name"] = outcome.assignee.name
    text = t(key, **values)
    if report.blocked:
        text = "\n".join((text, t("cs.resident_blocked")))
    await update.effective_message.reply_text(text)


async def start_writing(update: Update, context: BotContext) -> int:
    """Answer or ask for more: check the right to, then wait for the text."""
    query = update.callback_query
    user, t = await speaker(update, context)
    ids = _ids(query.data)
    action = query.data.split(":")[1]
    question = await context.services.questions.get(ids[0]) if ids else None
    allowed = (
        user is not None
        and question is not None
        and await context.services.questions.may_handle(user, question.id)
    )
    if not allowed:
        await query.answer(t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    assert question is not None
    if not question.status.is_open or question.resident_id is None:
        reason = "gone" if question.resident_id is None else "closed"
        await query.answer(t(f"cs.refused_{reason}"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    context.user_data["cs_write"] = {"action": action, "question": question.id}
    key = "cs.write_answer" if action == "ans" else "cs.write_info"
    await query.message.reply_text(t(key, number=question.number))
    return WRITING


async def got_writing(update: Update, context: BotContext) -> int:
    user, t = await speaker(update, context)
    text = await _typed(update, t, MESSAGE_MAX)
    if text is None:
        return WRITING
    pending = context.user_data.pop("cs_write", None) or {}
    questions = context.services.questions
    if user is None or not pending:
        await update.effective_message.reply_text(t("common.stale_button"))
        return ConversationHandler.END
    if pending.get("action") == "ans":
        outcome = await questions.answer(pending["question"], user, text)
        await _report(update, context, t, outcome, "cs.answer_sent")
    else:
        outcome = await questions.request_info(pending["question"], user, text)
        await _report(update, context, t, outcome, "cs.info_sent")
    return ConversationHandler.END


async def writing_cancel(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    context.user_data.pop("cs_write", None)
    await update.effective_message.reply_text(t("cs.cancelled"))
    return ConversationHandler.END


def writing_conversation() -> ConversationHandler:
    return conversation(
        name="civil_servant_writing",
        persistent=True,
        entry_points=[CallbackQueryHandler(start_writing, pattern=r"^cs:(ans|info):\d+$")],
        states={WRITING: [text_step(got_writing)]},
        fallbacks=[
            CommandHandler("annuleer", writing_cancel),
            MessageHandler(NEW_MESSAGE & ~filters.COMMAND, profile_reprompt),
        ],
    )


async def _may(update: Update, context: BotContext, question_id: int) -> tuple[bool, Translator]:
    user, t = await speaker(update, context)
    ok = user is not None and await context.services.questions.may_handle(user, question_id)
    if not ok:
        await update.callback_query.answer(t("common.stale_button"), show_alert=True)
    return ok, t


async def choose_forward(update: Update, context: BotContext) -> None:
    """Forward: to a colleague, or to another topic."""
    query = update.callback_query
    ids = _ids(query.data)
    if ids is None or len(ids) != 1:
        await profile_stale(update, context)
        return
    ok, t = await _may(update, context, ids[0])
    if not ok:
        return
    question = await context.services.questions.get(ids[0])
    assert question is not None
    colleagues = [
        s for s in await context.services.civil_servants.all() if s.id != question.assignee_id
    ]
    rows = [[(f"{s.name} ({s.department})", f"cs:to:{ids[0]}:{s.id}")] for s in colleagues]
    rows.append([(t("cs.forward_topic"), f"cs:tt:{ids[0]}")])
    await query.answer()
    await query.message.reply_text(t("cs.forward_where"), reply_markup=keyboard(rows))


async def forward_to_colleague(update: Update, context: BotContext) -> None:
    ids = _ids(update.callback_query.data)
    if ids is None or len(ids) != 2:
        await profile_stale(update, context)
        return
    user, t = await speaker(update, context)
    outcome = await context.services.questions.forward(ids[0], user, servant_id=ids[1])
    await _report(update, context, t, outcome, "cs.forwarded")


async def browse_topics(update: Update, context: BotContext) -> None:
    """cs:tt:<q>: the main topics; cs:tt:<q>:<i>: a main topic and its subtopics."""
    query = update.callback_query
    ids = _ids(query.data)
    if ids is None or len(ids) not in (1, 2):
        await profile_stale(update, context)
        return
    ok, t = await _may(update, context, ids[0])
    if not ok:
        return
    topics = context.services.questions.taxonomy.topics
    if len(ids) == 1:
        rows = [
            [(topic.name(t.language), f"cs:tt:{ids[0]}:{i}")]
            for i, topic in enumerate(topics)
            if topic.is_main
        ]
    elif ids[1] < len(topics) and topics[ids[1]].is_main:
        main = topics[ids[1]]
        rows = [[(t("cs.topic_general", topic=main.name(t.language)), f"cs:tf:{ids[0]}:{ids[1]}")]]
        rows += [
            [(topic.name(t.language), f"cs:tf:{ids[0]}:{i}")]
            for i, topic in enumerate(topics)
            if topic.parent == main.key
        ]
    else:
        await profile_stale(update, context)
        return
    await query.answer()
    await query.message.reply_text(t("cs.forward_which_topic"), reply_markup=keyboard(rows))


async def forward_to_topic(update: Update, context: BotContext) -> None:
    ids = _ids(update.callback_query.data)
    topics = context.services.questions.taxonomy.topics
    if ids is None or len(ids) != 2 or ids[1] >= len(topics):
        await profile_stale(update, context)
        return
    user, t = await speaker(update, context)
    outcome = await context.services.questions.forward(ids[0], user, topic_key=topics[ids[1]].key)
    key = "cs.forwarded" if outcome.assignee is not None else "cs.forwarded_triage"
    await _report(update, context, t, outcome, key)


async def close(update: Update, context: BotContext) -> None:
    ids = _ids(update.callback_query.data)
    user, t = await speaker(update, context)
    if ids is None or len(ids) != 1 or user is None:
        await profile_stale(update, context)
        return
    outcome = await context.services.questions.close(ids[0], user)
    await _report(update, context, t, outcome, "cs.closed")


# --- moderators ----------------------------------------------------------------------------


async def invite(update: Update, context: BotContext) -> None:
    """/uitnodiging [handle]: an invite code for a civil servant, shown once."""
    user, t = await moderator(update, context)
    if user is None:
        return
    handle = " ".join(context.args or []).strip()[:64] or None
    code, row = await context.services.invites.create(
        Role.CIVIL_SERVANT, handle=handle, created_by_id=user.id
    )
    tz = context.config.municipality.tz
    await update.effective_message.reply_text(
        t("cs.invite_created", code=code, date=t.date(row.expires_at, tz))
    )


async def triage(update: Update, context: BotContext) -> None:
    """/triage: the questions no rule could route, each with its assign button."""
    user, t = await moderator(update, context)
    if user is None:
        return
    queue = await context.services.questions.triage_queue()
    await update.effective_message.reply_text(t.plural("cs.triage_queue", len(queue)))
    for question in queue[:SHOWN]:
        await update.effective_message.reply_text(
            card_text(context, t, question, False),
            reply_markup=keyboard([[(t("vraag.button_assign"), f"mod:assign:{question.id}")]]),
        )


async def choose_assignee(update: Update, context: BotContext) -> None:
    user, t = await moderator(update, context)
    if user is None:
        return
    ids = _ids(update.callback_query.data)
    if ids is None or len(ids) != 1:
        await profile_stale(update, context)
        return
    servants = await context.services.civil_servants.all()
    rows = [[(f"{s.name} ({s.department})", f"mod:to:{ids[0]}:{s.id}")] for s in servants]
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        t("cs.assign_to_whom") if rows else t("cs.no_civil_servants"),
        reply_markup=keyboard(rows) if rows else None,
    )


async def assign(update: Update, context: BotContext) -> None:
    user, t = await moderator(update, context)
    if user is None:
        return
    ids = _ids(update.callback_query.data)
    if ids is None or len(ids) != 2:
        await profile_stale(update, context)
        return
    outcome = await context.services.questions.assign_by_moderator(ids[0], user, ids[1])
    await _report(update, context, t, outcome, "cs.assigned")


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            profile_conversation(),
            writing_conversation(),
            CommandHandler("profiel", profile),
            CommandHandler("afwezig", away),
            CommandHandler("vragen", my_questions),
            CommandHandler("uitnodiging", invite),
            CommandHandler("triage", triage),
            CallbackQueryHandler(choose_forward, pattern=r"^cs:fwd:"),
            CallbackQueryHandler(forward_to_colleague, pattern=r"^cs:to:"),
            CallbackQueryHandler(browse_topics, pattern=r"^cs:tt:"),
            CallbackQueryHandler(forward_to_topic, pattern=r"^cs:tf:"),
            CallbackQueryHandler(close, pattern=r"^cs:close:"),
            CallbackQueryHandler(choose_assignee, pattern=r"^mod:assign:"),
            CallbackQueryHandler(assign, pattern=r"^mod:to:"),
        ]
    )
