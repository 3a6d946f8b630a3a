"""/idee: a resident's initiative, asked step by step, summarised, confirmed and saved.

TITLE → DESCRIPTION (→ MORE when vague) → MOTIVATION (→ TOPIC when the texts leave it unclear)
→ KERN → PLACE → NEEDS → INTRODUCTIONS → CONFIRM (save / edit one answer / cancel) → SIMILAR
when others want the same (join theirs, be introduced, or save one's own anyway: never
blocked). The draft and the step live in user_data, which the database persistence keeps, so a
conversation survives a restart of the bot.
"""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler

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
from bot.services.matching import SimilarInitiative
from handlers.callbacks import Button, any_press
from handlers.common import (
    NEW_MESSAGE,
    after_storing,
    conversation,
    keyboard,
    press_done,
    refuse_press,
    requires_resident,
    speaker,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.menus import commands
from handlers.residents.help import help_command
from handlers.residents.introductions import join, note_handlers, request_introduction
from handlers.steps import (
    DraftSlot,
    back_to,
    cancel_with,
    closing,
    grid,
    kern_keyboard,
    step_done,
    take_pick,
    take_text,
    typed_kern,
    with_back,
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
# After joining a look-alike: a few words for its initiator (introductions.note_handlers). A
# name, not a number: it stands apart from the idea's numbered steps.
JOIN_NOTE = "join_note"
TEXT_STEPS = {TITLE, DESCRIPTION, MORE, MOTIVATION, PLACE}
EDITABLE = {
    "title": TITLE,
    "description": DESCRIPTION,
    "motivation": MOTIVATION,
    "where": KERN,
    "needs": NEEDS,
    "intro": INTRODUCTIONS,
}

# --- the buttons ---------------------------------------------------------------------------

# A topic by its place in the taxonomy, "another topic" or "don't know".
TOPIC_PICK = Button("idee:topic", (int, "more", "none"))
KERN_PICK = Button("idee:kern", int)  # the kern's place in the config's list
PLACE_SKIP = Button("idee:place:skip")
NEED = Button("idee:need", tuple(need.value for need in Need))
NEEDS_DONE = Button("idee:needs:done")
INTRO = Button("idee:intro", ("yes", "no"))
SAVE = Button("idee:save")
CHANGE = Button("idee:edit")  # from the summary: which answer to change?
CHANGE_FIELD = Button("idee:edit", (*EDITABLE, "back"))
CANCEL = Button("idee:cancel")
# Others want the same (an initiative's id): join theirs, be introduced, or save one's own.
JOIN = Button("idee:join", int)
MEET = Button("idee:meet", int)
DIFFERENT = Button("idee:different")

# --- the draft in user_data --------------------------------------------------------------

DRAFT = DraftSlot("draft", InitiativeDraft.from_dict, "step", "editing", "similar", "topics")
_draft, _keep, _forget = DRAFT.get, DRAFT.keep, DRAFT.forget


# --- the questions -----------------------------------------------------------------------


def _needs_keyboard(t: Translator, draft: InitiativeDraft) -> object:
    rows = [
        [
            (
                ("✅ " if need.value in draft.needs else "") + t(f"need.{need.value}"),
                NEED.build(need.value),
            )
        ]
        for need in Need
    ]
    return keyboard([*rows, [(t("idee.needs_done"), NEEDS_DONE.build())]])


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
        await message.reply_text(t("idee.ask_kern"), reply_markup=kern_keyboard(kernen, KERN_PICK))
    elif step == PLACE:
        await message.reply_text(
            t("idee.ask_place", kern=draft.kern),
            reply_markup=keyboard([[(t("idee.place_skip"), PLACE_SKIP.build())]]),
        )
    elif step == NEEDS:
        await message.reply_text(t("idee.ask_needs"), reply_markup=_needs_keyboard(t, draft))
    elif step == INTRODUCTIONS:
        await message.reply_text(
            t("idee.ask_introductions"),
            reply_markup=keyboard(
                [
                    [
                        (t("idee.intro_button_yes"), INTRO.build("yes")),
                        (t("idee.intro_button_no"), INTRO.build("no")),
                    ]
                ]
            ),
        )
    elif step == CONFIRM:
        await message.reply_text(
            _summary(t, draft),
            reply_markup=keyboard(
                [
                    [(t("idee.button_save"), SAVE.build())],
                    [
                        (t("idee.button_edit"), CHANGE.build()),
                        (t("idee.button_cancel"), CANCEL.build()),
                    ],
                ]
            ),
        )
    elif step == EDIT:
        fields = [(t(f"idee.edit_{name}"), CHANGE_FIELD.build(name)) for name in EDITABLE]
        await message.reply_text(
            t("idee.edit_which"),
            reply_markup=keyboard(
                [*grid(fields), [(t("idee.edit_back"), CHANGE_FIELD.build("back"))]]
            ),
        )
    context.user_data["step"] = step
    DRAFT.asked(context, step)
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
        [(taxonomy[key].name(t.language), TOPIC_PICK.build(every.index(key)))]
        for key in offered
        if key in every
    ]
    if len(offered) < len(every):
        rows.append([(t("idee.topic_more"), TOPIC_PICK.build("more"))])
    rows.append([(t("idee.topic_none"), TOPIC_PICK.build("none"))])
    return keyboard(rows)


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
    return await take_text(update, context, DRAFT, "title", TITLE_MAX, TITLE, _after)


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
    return await take_text(update, context, DRAFT, "motivation", MOTIVATION_MAX, MOTIVATION, _after)


async def got_topic(update: Update, context: BotContext) -> int:
    """Store the picked topic (or "don't know"); "another topic" shows them all."""
    query = update.callback_query
    _, t = await speaker(update, context)
    value = TOPIC_PICK.one(query.data)
    every = _all_topics(context)
    if value == "more":
        context.user_data["topics"] = every
        await query.answer()
        with contextlib.suppress(BadRequest):  # a double tap: "message is not modified"
            await query.edit_message_reply_markup(reply_markup=_topics_keyboard(context, t))
        return TOPIC
    offered = context.user_data.get("topics") or []
    chosen = every[value] if isinstance(value, int) and value < len(every) else None
    if value != "none" and chosen not in offered:
        await refuse_press(update, context)
        return TOPIC
    draft = _draft(context)
    draft.topic = chosen
    draft.topic_chosen = True
    _keep(context, draft)
    await press_done(update)
    return await _after(update, context, t, TOPIC)


async def got_kern(update: Update, context: BotContext) -> int:
    """Store the kern from its button; ask for a place within it."""
    kernen = context.config.municipality.kernen
    if await take_pick(update, context, DRAFT, "kern", KERN_PICK, kernen) is None:
        return KERN
    _, t = await speaker(update, context)
    return await _after(update, context, t, KERN)


async def typed_kern_answer(update: Update, context: BotContext) -> int:
    """The kern typed instead of pressed ("velserbroek"); asked again when it names none."""
    _, t = await speaker(update, context)
    kern = await typed_kern(update, t, context.config.municipality.kernen, KERN_PICK)
    if kern is None:
        return KERN
    draft = _draft(context)
    draft.kern = kern
    _keep(context, draft)
    return await _after(update, context, t, KERN)


async def got_place(update: Update, context: BotContext) -> int:
    """Store the place (typed) or none (skip button); ask what is needed."""
    _, t = await speaker(update, context)
    draft = _draft(context)
    if update.callback_query:
        await press_done(update)
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
    draft = _draft(context)
    draft.toggle_need(Need(NEED.one(query.data)))
    _keep(context, draft)
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=_needs_keyboard(t, draft))
    return NEEDS


async def needs_done(update: Update, context: BotContext) -> int:
    """The needs are chosen; ask about introductions."""
    return await step_done(update, context, NEEDS, _after)


async def got_introductions(update: Update, context: BotContext) -> int:
    """Store whether similar initiators may be introduced; show the summary."""
    query = update.callback_query
    _, t = await speaker(update, context)
    draft = _draft(context)
    draft.allow_introductions = INTRO.one(query.data) == "yes"
    _keep(context, draft)
    await press_done(update)
    return await _after(update, context, t, INTRODUCTIONS)


async def choose_edit(update: Update, context: BotContext) -> int:
    """From the summary: ask which answer to change."""
    return await step_done(update, context, EDIT, _ask)


async def edit_field(update: Update, context: BotContext) -> int:
    """Ask the question of the chosen answer again; afterwards back to the summary."""
    query = update.callback_query
    _, t = await speaker(update, context)
    name = CHANGE_FIELD.one(query.data)
    await press_done(update)
    if name == "back":
        return await _ask(update, context, t, CONFIRM)
    context.user_data["editing"] = True
    return await _ask(update, context, t, EDITABLE[name])


@requires_resident
async def save(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """Confirmed: show similar initiatives of others first, if there are any; else save."""
    draft = _draft(context)
    if not draft.complete:
        # Only a forged or replayed press can get here; ask the first question again.
        await refuse_press(update, context)
        return await _ask(update, context, t, TITLE)
    await press_done(update)
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


def similar_text(t: Translator, similar: list[SimilarInitiative]) -> str:
    lines = [t("match.similar_intro")]
    lines += [
        t.plural("match.similar_item", s.people, number=n, title=s.title, kern=s.kern)
        for n, s in enumerate(similar, 1)
    ]
    lines.append(t("match.similar_choose"))
    return "\n\n".join(lines)


def similar_keyboard(t: Translator, similar: list[SimilarInitiative]) -> InlineKeyboardMarkup:
    rows = []
    for n, s in enumerate(similar, 1):
        row = [(t("match.button_join", number=n), JOIN.build(s.id))]
        if s.allow_introductions and s.author_id is not None:
            row.append((t("match.button_meet", number=n), MEET.build(s.id)))
        rows.append(row)
    rows.append([(t("match.button_different"), DIFFERENT.build())])
    return keyboard(rows)


async def _offered(update: Update, context: BotContext, button: Button) -> int | None:
    """The initiative id in the pressed button, if it was one of those offered (the press
    answered, its buttons taken off); None after the stale-button answer if not."""
    initiative_id = button.one(update.callback_query.data)
    if initiative_id not in context.user_data.get("similar", []):
        await refuse_press(update, context)
        return None
    await press_done(update)
    return initiative_id


@requires_resident
async def join_similar(update: Update, context: BotContext, user: User, t: Translator) -> object:
    """ "This is the same — I'll join": become a supporter (the draft is not saved), then a
    few words for the initiator, who hears of the join with them."""
    initiative_id = await _offered(update, context, JOIN)
    if initiative_id is None:
        return SIMILAR
    _forget(context)
    async with after_storing(update, context):
        if await join(update, context, user, t, initiative_id, "match.joined"):
            return JOIN_NOTE
    return ConversationHandler.END


@requires_resident
async def meet_similar(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """ "Introduce me to the initiator": save one's own idea and ask the other to meet."""
    initiative_id = await _offered(update, context, MEET)
    if initiative_id is None:
        return SIMILAR
    initiative = await _save_draft(update, context, user, t, _draft(context))
    async with after_storing(update, context):
        await request_introduction(update, context, user, t, initiative_id, initiative.id)
    return ConversationHandler.END


@requires_resident
async def save_anyway(update: Update, context: BotContext, user: User, t: Translator) -> int:
    """ "Mine is different": save it."""
    await press_done(update)
    return await _store(update, context, user, t, _draft(context))


# /annuleer or the cancel button: drop the draft.
cancel = closing("idee.cancelled", DRAFT)


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


def _earlier_answer(context: BotContext, t: Translator, step: int) -> str | None:
    """What the resident answered at `step` before, as the summary says it."""
    draft = _draft(context)
    if step == TOPIC:
        topic = context.services.questions.taxonomy.get(draft.topic) if draft.topic else None
        return topic.name(t.language) if topic else None
    if step == NEEDS:
        return ", ".join(t(f"need.{n}") for n in draft.needs) or t("idee.needs_nothing")
    if step == INTRODUCTIONS:
        return t("idee.intro_yes" if draft.allow_introductions else "idee.intro_no")
    answers = {
        TITLE: draft.title,
        DESCRIPTION: draft.description,
        MOTIVATION: draft.motivation,
        KERN: draft.kern,
        PLACE: draft.place,
    }
    return answers.get(step) or None


async def go_back(update: Update, context: BotContext) -> int:
    """ "terug" typed: the question before the open one again, with the earlier answer."""
    _, t = await speaker(update, context)
    step = context.user_data.get("step", TITLE)
    previous = DRAFT.previous(context, step)
    await back_to(
        update, t, previous, _earlier_answer(context, t, previous) if previous is not None else None
    )
    if previous is None:
        return await _ask(update, context, t, step)
    return await _ask(update, context, t, previous)


async def help_in_flow(update: Update, context: BotContext) -> None:
    """/help halfway: the help, then the open question again; the idea stays where it was."""
    await help_command(update, context)
    _, t = await speaker(update, context)
    step = context.user_data.get("step")
    if step is not None and step not in (MORE, SIMILAR):  # None: the idea is saved or joined
        await _ask(update, context, t, step)


def initiative_conversation() -> ConversationHandler:
    return conversation(
        name="initiative",
        persistent=True,
        entry_points=[CommandHandler(commands("idee"), begin)],
        states=with_back(
            {
                TITLE: [text_step(got_title)],
                DESCRIPTION: [text_step(got_description)],
                MORE: [text_step(got_more)],
                MOTIVATION: [text_step(got_motivation)],
                TOPIC: [TOPIC_PICK.handler(got_topic)],
                KERN: [KERN_PICK.handler(got_kern), text_step(typed_kern_answer)],
                PLACE: [text_step(got_place), PLACE_SKIP.handler(got_place)],
                NEEDS: [NEED.handler(toggle_need), NEEDS_DONE.handler(needs_done)],
                INTRODUCTIONS: [INTRO.handler(got_introductions)],
                CONFIRM: [SAVE.handler(save), CHANGE.handler(choose_edit)],
                SIMILAR: [
                    JOIN.handler(join_similar),
                    MEET.handler(meet_similar),
                    DIFFERENT.handler(save_anyway),
                ],
                EDIT: [CHANGE_FIELD.handler(edit_field)],
            },
            go_back,
        )
        # Not under "terug": the idea is gone once joined, its note is a text of its own.
        | {JOIN_NOTE: note_handlers()},
        fallbacks=[
            cancel_with(cancel),
            CommandHandler("help", help_in_flow),
            CANCEL.handler(cancel),
            # Only this conversation's own buttons: an introduction or a download pressed while
            # an idea is half-written goes to its own handler. A button of an earlier question,
            # or one never offered, gets the stale-button answer.
            CallbackQueryHandler(refuse_press, pattern=any_press("idee")),
            MessageHandler(NEW_MESSAGE, reprompt),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handler(initiative_conversation())
