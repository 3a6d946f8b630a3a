"""/idee: a resident's initiative, asked step by step, summarised, confirmed and saved.

TITLE → DESCRIPTION (→ MORE when vague) → MOTIVATION (→ TOPIC when the texts leave it unclear)
→ KERN → PLACE → NEEDS → INTRODUCTIONS → CONFIRM (save / edit one answer / cancel) → SIMILAR
when others want the same (join theirs, be introduced, or save one's own anyway: never
blocked). The draft and the step live in user_data, which the database persistence keeps, so a
conversation survives a restart of the bot.
"""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.i18n import Translator
from bot.services.initiatives import (
    DESCRIPTION_MAX,
    MOTIVATION_MAX,
    PLACE_MAX,
    TITLE_MAX,
    InitiativeDraft,
    new_draft_key,
)
from bot.services.intake import description_follow_up
from handlers.common import (
    NEW_MESSAGE,
    after_storing,
    clear_buttons,
    conversation,
    is_number,
    keyboard,
    requires_resident,
    speaker,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.residents.introductions import (
    notify_joined,
    request_introduction,
    similar_keyboard,
    similar_text,
)
from models import Initiative, Need, User, Visibility

(
    TITLE,
    DESCRIPTION,
    MORE,
    MOTIVATION,
    KERN,
    PLACE,
    NEEDS,
    INTRODUCTIONS,
    CONFIRM,
    EDIT,
    SIMILAR,
    TOPIC,  # last, so the numbers of conversations stored before it still mean the same
) = range(12)
TEXT_STEPS = {TITLE, DESCRIPTION, MORE, MOTIVATION, PLACE}
EDITABLE = {
    "title": TITLE,
    "description": DESCRIPTION,
    "motivation": MOTIVATION,
    "where": KERN,
    "needs": NEEDS,
    "intro": INTRODUCTIONS,
}

# --- the draft in user_data --------------------------------------------------------------


def _draft(context: BotContext) -> InitiativeDraft:
    return InitiativeDraft.from_dict(context.user_data.get("draft"))


def _keep(context: BotContext, draft: InitiativeDraft) -> None:
    context.user_data["draft"] = draft.to_dict()


def _forget(context: BotContext) -> None:
    for key in ("draft", "step", "editing", "similar", "topics"):
        context.user_data.pop(key, None)


# --- the questions -----------------------------------------------------------------------


def _needs_keyboard(t: Translator, draft: InitiativeDraft) -> object:
    rows = [
        [
            (
                ("✅ " if need.value in draft.needs else "") + t(f"need.{need.value}"),
                f"idee:need:{need.value}",
            )
        ]
        for need in Need
    ]
    return keyboard([*rows, [(t("idee.needs_done"), "idee:needs:done")]])


def _summary(t: Translator, draft: InitiativeDraft) -> str:
    where = f"{draft.kern} — {draft.place}" if draft.place else draft.kern
    needs = ", ".join(t(f"need.{n}") for n in draft.needs) or t("idee.needs_nothing")
    intro = t("idee.intro_yes" if draft.allow_introductions else "idee.intro_no")
    return t(
        "idee.summary",
        title=draft.title,
        description=draft.description,
        motivation=draft.motivation,
        where=where,
        needs=needs,
        intro=intro,
    )


async def _ask(update: Update, context: BotContext, t: Translator, step: int) -> int:
    """Ask the question of `step` and remember that it is the open one."""
    message = update.effective_message
    draft = _draft(context)
    if step == TITLE:
        await message.reply_text(t("idee.ask_title"))
    elif step == DESCRIPTION:
        await message.reply_text(t("idee.ask_description"))
    elif step == MOTIVATION:
        await message.reply_text(t("idee.ask_motivation"))
    elif step == TOPIC:
        await message.reply_text(t("idee.ask_topic"), reply_markup=_topics_keyboard(context, t))
    elif step == KERN:
        kernen = context.config.municipality.kernen
        buttons = [(name, f"idee:kern:{i}") for i, name in enumerate(kernen)]
        await message.reply_text(
            t("idee.ask_kern"),
            reply_markup=keyboard([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
        )
    elif step == PLACE:
        await message.reply_text(
            t("idee.ask_place", kern=draft.kern),
            reply_markup=keyboard([[(t("idee.place_skip"), "idee:place:skip")]]),
        )
    elif step == NEEDS:
        await message.reply_text(t("idee.ask_needs"), reply_markup=_needs_keyboard(t, draft))
    elif step == INTRODUCTIONS:
        await message.reply_text(
            t("idee.ask_introductions"),
            reply_markup=keyboard(
                [
                    [
                        (t("idee.intro_button_yes"), "idee:intro:yes"),
                        (t("idee.intro_button_no"), "idee:intro:no"),
                    ]
                ]
            ),
        )
    elif step == CONFIRM:
        await message.reply_text(
            _summary(t, draft),
            reply_markup=keyboard(
                [
                    [(t("idee.button_save"), "idee:save")],
                    [
                        (t("idee.button_edit"), "idee:edit"),
                        (t("idee.button_cancel"), "idee:cancel"),
                    ],
                ]
            ),
        )
    elif step == EDIT:
        fields = [(t(f"idee.edit_{name}"), f"idee:edit:{name}") for name in EDITABLE]
        rows = [fields[i : i + 2] for i in range(0, len(fields), 2)]
        await message.reply_text(
            t("idee.edit_which"),
            reply_markup=keyboard([*rows, [(t("idee.edit_back"), "idee:edit:back")]]),
        )
    context.user_data["step"] = step
    return step


_ORDER = [TITLE, DESCRIPTION, MOTIVATION, TOPIC, KERN, PLACE, NEEDS, INTRODUCTIONS, CONFIRM]


async def _after(update: Update, context: BotContext, t: Translator, done: int) -> int:
    """Ask what comes after step `done`: the next question, or the summary when editing."""
    # "Where" is kern and place together, so editing it asks both.
    if context.user_data.get("editing") and done != KERN:
        return await _ask(update, context, t, CONFIRM)
    position = _ORDER.index(DESCRIPTION if done == MORE else done)
    following = _ORDER[position + 1]
    if following == TOPIC and not _topic_unclear(context):
        following = KERN
    return await _ask(update, context, t, following)


def _topic_unclear(context: BotContext) -> bool:
    """True when the texts leave the topic open: then the resident picks one, among the
    likeliest first (remembered, so a pressed button means what it showed)."""
    guess = context.services.initiatives.guess_topic(_draft(context))
    if guess is None or guess.key is not None:
        return False
    context.user_data["topics"] = list(guess.candidates) or _all_topics(context)
    return True


def _all_topics(context: BotContext) -> list[str]:
    return [topic.key for topic in context.services.questions.taxonomy.main_topics]


def _topics_keyboard(context: BotContext, t: Translator) -> object:
    """The offered topics; a button carries the topic's place in the taxonomy, so it means the
    same before and after "another topic" redraws the buttons."""
    taxonomy = context.services.questions.taxonomy
    every = _all_topics(context)
    offered = context.user_data.get("topics") or every
    rows = [
        [(taxonomy[key].name(t.language), f"idee:topic:{every.index(key)}")]
        for key in offered
        if key in every
    ]
    if len(offered) < len(every):
        rows.append([(t("idee.topic_more"), "idee:topic:more")])
    rows.append([(t("idee.topic_none"), "idee:topic:none")])
    return keyboard(rows)


async def _take_text(update: Update, context: BotContext, field: str, limit: int, step: int) -> int:
    """Store a typed answer in the draft's `field` and ask what comes after `step`; a text that
    cannot be used is explained and the same step stays open."""
    _, t = await speaker(update, context)
    text = await typed_answer(update, t, limit)
    if text is None:
        return step
    draft = _draft(context)
    setattr(draft, field, text)
    _keep(context, draft)
    return await _after(update, context, t, step)


# --- the steps ---------------------------------------------------------------------------


@requires_resident
async def begin(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """/idee: start a fresh draft; ask for the title."""
    _forget(context)
    _keep(context, InitiativeDraft(kern=user.kern or "", key=new_draft_key()))
    await update.effective_message.reply_text(t("idee.intro"))
    return await _ask(update, context, t, TITLE)


async def got_title(update: Update, context: BotContext) -> int:
    """Store the title; ask what the idea is."""
    return await _take_text(update, context, "title", TITLE_MAX, TITLE)


async def got_description(update: Update, context: BotContext) -> int:
    """Store the description; a short or vague one gets one pointed follow-up question."""
    _, t = await speaker(update, context)
    text = await typed_answer(update, t, DESCRIPTION_MAX)
    if text is None:
        return DESCRIPTION
    draft = _draft(context)
    draft.description = text
    _keep(context, draft)
    follow_up = description_follow_up(text)
    if follow_up is not None:
        await update.effective_message.reply_text(t(f"idee.follow_up_{follow_up.value}"))
        context.user_data["step"] = MORE
        return MORE
    return await _after(update, context, t, DESCRIPTION)


async def got_more(update: Update, context: BotContext) -> int:
    """Add the answer to the follow-up to the description; ask why and for whom."""
    _, t = await speaker(update, context)
    draft = _draft(context)
    text = await typed_answer(update, t, max(1, DESCRIPTION_MAX - len(draft.description) - 2))
    if text is None:
        return MORE
    draft.description = f"{draft.description}\n\n{text}"
    _keep(context, draft)
    return await _after(update, context, t, MORE)


async def got_motivation(update: Update, context: BotContext) -> int:
    """Store why and for whom; ask where."""
    return await _take_text(update, context, "motivation", MOTIVATION_MAX, MOTIVATION)


async def got_topic(update: Update, context: BotContext) -> int:
    """Store the picked topic (or "don't know"); "another topic" shows them all."""
    query = update.callback_query
    _, t = await speaker(update, context)
    value = query.data.rsplit(":", 1)[1]
    every = _all_topics(context)
    if value == "more":
        context.user_data["topics"] = every
        await query.answer()
        with contextlib.suppress(BadRequest):  # a double tap: "message is not modified"
            await query.edit_message_reply_markup(reply_markup=_topics_keyboard(context, t))
        return TOPIC
    offered = context.user_data.get("topics") or []
    picked = every[int(value)] if is_number(value) and int(value) < len(every) else None
    if value != "none" and picked not in offered:
        await query.answer(t("common.stale_button"), show_alert=True)
        return TOPIC
    draft = _draft(context)
    draft.topic = picked
    draft.topic_chosen = True
    _keep(context, draft)
    await query.answer()
    await clear_buttons(update)
    return await _after(update, context, t, TOPIC)


async def got_kern(update: Update, context: BotContext) -> int:
    """Store the kern from its button; ask for a place within it."""
    query = update.callback_query
    _, t = await speaker(update, context)
    kernen = context.config.municipality.kernen
    index = query.data.rsplit(":", 1)[1]
    if not is_number(index) or int(index) >= len(kernen):
        await query.answer(t("common.stale_button"), show_alert=True)
        return KERN
    draft = _draft(context)
    draft.kern = kernen[int(index)]
    _keep(context, draft)
    await query.answer(draft.kern)
    await clear_buttons(update)
    return await _after(update, context, t, KERN)


async def got_place(update: Update, context: BotContext) -> int:
    """Store the place (typed) or none (skip button); ask what is needed."""
    _, t = await speaker(update, context)
    draft = _draft(context)
    if update.callback_query:
        await update.callback_query.answer()
        await clear_buttons(update)
        draft.place = None
    else:
        text = await typed_answer(update, t, PLACE_MAX)
        if text is None:
            return PLACE
        draft.place = text
    _keep(context, draft)
    return await _after(update, context, t, PLACE)


async def toggle_need(update: Update, context: BotContext) -> int:
    """Switch one need on or off and show the buttons again with their new marks."""
    query = update.callback_query
    _, t = await speaker(update, context)
    value = query.data.rsplit(":", 1)[1]
    if value not in set(Need):
        await query.answer(t("common.stale_button"), show_alert=True)
        return NEEDS
    draft = _draft(context)
    draft.toggle_need(Need(value))
    _keep(context, draft)
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=_needs_keyboard(t, draft))
    return NEEDS


async def needs_done(update: Update, context: BotContext) -> int:
    """The needs are chosen; ask about introductions."""
    _, t = await speaker(update, context)
    await update.callback_query.answer()
    await clear_buttons(update)
    return await _after(update, context, t, NEEDS)


async def got_introductions(update: Update, context: BotContext) -> int:
    """Store whether similar initiators may be introduced; show the summary."""
    query = update.callback_query
    _, t = await speaker(update, context)
    draft = _draft(context)
    draft.allow_introductions = query.data.endswith(":yes")
    _keep(context, draft)
    await query.answer()
    await clear_buttons(update)
    return await _after(update, context, t, INTRODUCTIONS)


async def choose_edit(update: Update, context: BotContext) -> int:
    """From the summary: ask which answer to change."""
    _, t = await speaker(update, context)
    await update.callback_query.answer()
    await clear_buttons(update)
    return await _ask(update, context, t, EDIT)


async def edit_field(update: Update, context: BotContext) -> int:
    """Ask the question of the chosen answer again; afterwards back to the summary."""
    query = update.callback_query
    _, t = await speaker(update, context)
    name = query.data.rsplit(":", 1)[1]
    await query.answer()
    await clear_buttons(update)
    if name not in EDITABLE:
        return await _ask(update, context, t, CONFIRM)
    context.user_data["editing"] = True
    return await _ask(update, context, t, EDITABLE[name])


@requires_resident
async def save(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """Confirmed: show similar initiatives of others first, if there are any; else save."""
    query = update.callback_query
    draft = _draft(context)
    if not draft.complete:
        # Only a forged or replayed press can get here; ask the first question again.
        await query.answer(t("common.stale_button"), show_alert=True)
        return await _ask(update, context, t, TITLE)
    await query.answer()
    await clear_buttons(update)
    similar = await context.services.matching.similar_to_draft(
        user.id, draft.title, draft.kern, description=draft.description
    )
    if not similar:
        return await _store(update, context, user, t, draft)
    context.user_data["similar"] = [s.id for s in similar]
    context.user_data["step"] = SIMILAR
    await update.effective_message.reply_text(
        similar_text(t, similar), reply_markup=similar_keyboard(t, similar)
    )
    return SIMILAR


async def _store(
    update: Update, context: BotContext, user: User, t: Translator, draft: InitiativeDraft
) -> int:
    """Save the draft, queue late-match notices for older look-alikes, and end."""
    await _save_draft(update, context, user, t, draft)
    return ConversationHandler.END


async def _save_draft(
    update: Update, context: BotContext, user: User, t: Translator, draft: InitiativeDraft
) -> Initiative:
    """Save the draft, once (pressed again after a crash lost the step, it says the idea was
    saved before), drop it and say so; the conversation ends with the save, whatever becomes
    of the saying."""
    initiative, new = await context.services.initiatives.create(user.id, draft)
    if new:
        await context.services.matching.record_late_matches(initiative)
    _forget(context)
    message = update.effective_message
    values = {"title": initiative.title, "number": initiative.id}
    async with after_storing(update, context):
        if new:
            await message.reply_text(t("idee.saved", **values))
            if initiative.visibility is Visibility.PENDING:
                await message.reply_text(t("mod.idea_pending"))
        else:
            await message.reply_text(t("idee.saved_before", **values))
    return initiative


def _offered(update: Update, context: BotContext) -> int | None:
    """The initiative id in the pressed button, if it was one of those offered."""
    value = update.callback_query.data.rsplit(":", 1)[1]
    if is_number(value) and int(value) in context.user_data.get("similar", []):
        return int(value)
    return None


@requires_resident
async def join_similar(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """ "This is the same — I'll join": become a supporter; the draft is not saved."""
    query = update.callback_query
    initiative_id = _offered(update, context)
    if initiative_id is None:
        await query.answer(t("common.stale_button"), show_alert=True)
        return SIMILAR
    await query.answer()
    await clear_buttons(update)
    outcome = await context.services.matching.join(user.id, initiative_id)
    _forget(context)
    async with after_storing(update, context):
        if outcome.ok:
            await query.message.reply_text(t("match.joined"))
            await notify_joined(context, initiative_id)
        else:
            await query.message.reply_text(t(f"match.join_{outcome.reason}"))
    return ConversationHandler.END


@requires_resident
async def meet_similar(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """ "Introduce me to the initiator": save one's own idea and ask the other to meet."""
    query = update.callback_query
    initiative_id = _offered(update, context)
    if initiative_id is None:
        await query.answer(t("common.stale_button"), show_alert=True)
        return SIMILAR
    await query.answer()
    await clear_buttons(update)
    initiative = await _save_draft(update, context, user, t, _draft(context))
    async with after_storing(update, context):
        await request_introduction(update, context, user, t, initiative_id, initiative.id)
    return ConversationHandler.END


@requires_resident
async def save_anyway(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """ "Mine is different": save it."""
    await update.callback_query.answer()
    await clear_buttons(update)
    return await _store(update, context, user, t, _draft(context))


async def cancel(update: Update, context: BotContext) -> int:
    """/annuleer or the cancel button: drop the draft."""
    _, t = await speaker(update, context)
    if update.callback_query:
        await update.callback_query.answer()
        await clear_buttons(update)
    _forget(context)
    await update.effective_message.reply_text(t("idee.cancelled"))
    return ConversationHandler.END


async def reprompt(update: Update, context: BotContext) -> None:
    """Something that does not answer the open question: say what is expected and ask again."""
    _, t = await speaker(update, context)
    step = context.user_data.get("step", TITLE)
    message = update.effective_message
    if message.text and message.text.startswith("/"):
        hint = "idee.in_progress"
    elif step in TEXT_STEPS:
        hint = "idee.text_expected"
    else:
        hint = "idee.use_buttons"
    await message.reply_text(t(hint))
    if step in (MORE, SIMILAR):
        return None
    await _ask(update, context, t, step)
    return None


async def stale_in_conversation(update: Update, context: BotContext) -> None:
    """A button that belongs to an earlier question, or was never offered."""
    _, t = await speaker(update, context)
    await update.callback_query.answer(t("common.stale_button"), show_alert=True)


def initiative_conversation() -> ConversationHandler:
    return conversation(
        name="initiative",
        persistent=True,
        entry_points=[CommandHandler("idee", begin)],
        states={
            TITLE: [text_step(got_title)],
            DESCRIPTION: [text_step(got_description)],
            MORE: [text_step(got_more)],
            MOTIVATION: [text_step(got_motivation)],
            TOPIC: [CallbackQueryHandler(got_topic, pattern=r"^idee:topic:")],
            KERN: [CallbackQueryHandler(got_kern, pattern=r"^idee:kern:")],
            PLACE: [
                text_step(got_place),
                CallbackQueryHandler(got_place, pattern=r"^idee:place:skip$"),
            ],
            NEEDS: [
                CallbackQueryHandler(toggle_need, pattern=r"^idee:need:"),
                CallbackQueryHandler(needs_done, pattern=r"^idee:needs:done$"),
            ],
            INTRODUCTIONS: [
                CallbackQueryHandler(got_introductions, pattern=r"^idee:intro:(yes|no)$")
            ],
            CONFIRM: [
                CallbackQueryHandler(save, pattern=r"^idee:save$"),
                CallbackQueryHandler(choose_edit, pattern=r"^idee:edit$"),
            ],
            SIMILAR: [
                CallbackQueryHandler(join_similar, pattern=r"^idee:join:"),
                CallbackQueryHandler(meet_similar, pattern=r"^idee:meet:"),
                CallbackQueryHandler(save_anyway, pattern=r"^idee:different$"),
            ],
            EDIT: [CallbackQueryHandler(edit_field, pattern=r"^idee:edit:")],
        },
        fallbacks=[
            CommandHandler("annuleer", cancel),
            CallbackQueryHandler(cancel, pattern=r"^idee:cancel$"),
            # Only this conversation's own buttons: an introduction or a download pressed while
            # an idea is half-written goes to its own handler.
            CallbackQueryHandler(stale_in_conversation, pattern=r"^idee:"),
            MessageHandler(NEW_MESSAGE, reprompt),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handler(initiative_conversation())
