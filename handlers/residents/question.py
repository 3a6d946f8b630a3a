"""/vraag: a resident's question to the municipality; their reply to a request for more
information; feedback and reopening after the question was closed.

TEXT → (TOPIC: the best candidates or "iets anders" → MAIN: the main topics, or "weet ik niet")
→ KERN → FOLLOW (the topic's follow-up questions from the config) → CONFIRM → a ticket number.
A confident classification skips TOPIC: the resident is asked only when the bot is unsure, and
"Klopt het onderwerp niet?" under the recognised topic leads to TOPIC after all. A topic the
resident picked teaches routing an example when the question is sent.
What the text already says (a kern, a date, a place, a number of people) is not asked: it is
filled in, and the summary marks it, with a button to be asked after all.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.i18n import Markup, Translator, escape
from bot.services.initiatives import new_draft_key
from bot.services.question_facts import Fact, read_facts
from bot.services.questions import (
    DETAIL_MAX,
    FEEDBACK_MAX,
    MESSAGE_MAX,
    QUESTION_MAX,
    QuestionDraft,
)
from bot.services.text_input import Problem, check
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
from handlers.dispatch import detail_lines, question_values, send_now
from handlers.menus import commands
from handlers.residents.help import help_command
from handlers.steps import (
    DraftSlot,
    Step,
    back_to,
    cancel_with,
    closing,
    kern_keyboard,
    otherwise,
    picked,
    saying,
    take_pick,
    typed_kern,
    with_back,
)
from models import ExampleSource, QuestionStatus, User

# Free text in the questions flows: the one typed_answer(), in these flows' own words.
_typed = partial(typed_answer, empty="vraag.empty", too_long="vraag.too_long")


TEXT, TOPIC, MAIN, KERN, FOLLOW, CONFIRM = range(6)
REPLY_WRITING = 10
FEEDBACK_COMMENT = 20


# --- the buttons ---------------------------------------------------------------------------

# Asking: the topic among the candidates (by place) or "iets anders", a main topic (by place)
# or "weet ik niet", the kern (by place), and the rest.
WRONG_TOPIC = Button("vraag:wrong")
TOPIC_PICK = Button("vraag:topic", (int, "other"))
MAIN_PICK = Button("vraag:main", (int, "none"))
KERN_PICK = Button("vraag:kern", int)
SKIP = Button("vraag:skip")
SEND = Button("vraag:send")
CANCEL = Button("vraag:cancel")
CORRECT = Button("vraag:correct")
# The check-in's "ask the municipality" (handlers/dispatch.py sends it): the initiative's id.
CHECK_IN_ASK = Button("checkin", int, ("ask",))
# Under a request for more information, and after an answer (the question's id; a score).
REPLY = Button("vq:reply", int)
SCORE = Button("fb:score", int, ("1", "2", "3", "4", "5"))
REOPEN = Button("fb:reopen", int)
FEEDBACK_DONE = Button("fb:done")
# A text typed while the municipality waits for more information, offered as the reply: send it
# (the question's id) or not.
OFFER_SEND = Button("vq:offer", int)
OFFER_NO = Button("vq:offer:no")

DRAFT = DraftSlot("vraag", QuestionDraft.from_dict, "vraag_follow")
_draft, _keep, _forget = DRAFT.get, DRAFT.keep, DRAFT.forget
# The steps as the draft's history names them; a follow-up is [FOLLOW_STEP, its index].
TEXT_STEP, TOPIC_STEP, MAIN_STEP, KERN_STEP, FOLLOW_STEP, CONFIRM_STEP = (
    "text",
    "topic",
    "main",
    "kern",
    "follow",
    "confirm",
)


# --- asking ------------------------------------------------------------------------------


@requires_resident
async def begin(update: Update, context: BotContext, user: User, t: Translator) -> int:
    _forget(context)
    _keep(context, QuestionDraft(kern=user.kern or "", key=new_draft_key()))
    DRAFT.asked(context, TEXT_STEP)
    await update.effective_message.reply_text(t("vraag.ask_text"))
    return TEXT


@requires_resident
async def begin_about_initiative(
    update: Update, context: BotContext, user: User, t: Translator
) -> int | None:
    """The check-in's "ask the municipality": /vraag, about the initiator's own initiative,
    which travels with the question so the civil servant knows what it is about."""
    query = update.callback_query
    number, _ = CHECK_IN_ASK.parse(query.data)
    initiative = await context.services.initiatives.get(number)
    if initiative is None or initiative.author_id != user.id:
        await query.answer(t("common.stale_button"), show_alert=True)
        return None
    await press_done(update)
    _forget(context)
    about = f"#{initiative.id} {initiative.title}"
    _keep(
        context,
        QuestionDraft(
            kern=initiative.kern or user.kern or "",
            details={"initiative": about},
            key=new_draft_key(),
        ),
    )
    DRAFT.asked(context, TEXT_STEP)
    await query.message.reply_text(t("vraag.ask_text_about", title=initiative.title))
    return TEXT


async def got_text(update: Update, context: BotContext) -> int:
    """Classify; sure → on to the kern, unsure → a follow-up question about the topic."""
    _, t = await speaker(update, context)
    text = await _typed(update, t, QUESTION_MAX)
    if text is None:
        return TEXT
    questions = context.services.questions
    scores, confident = await questions.classify(text)
    draft = _draft(context)
    draft.text = text
    draft.candidates = [s.key for s in scores]
    if confident:
        draft.topic_key, draft.confidence = scores[0].key, scores[0].confidence
        _keep(context, draft)
        await update.effective_message.reply_text(
            t("vraag.topic_found", topic=questions.topic_name(draft.topic_key, t.language)),
            reply_markup=keyboard([[(t("vraag.wrong_topic"), WRONG_TOPIC.build())]]),
        )
        return await _ask_kern(update, context, t)
    _keep(context, draft)
    return await _ask_topic(update, context, t, "vraag.ask_topic")


async def _ask_topic(update: Update, context: BotContext, t: Translator, prompt: str) -> int:
    """The candidates and "iets anders"; the main topics when there are none."""
    draft = _draft(context)
    if not draft.candidates:
        return await _ask_main(update, context, t)
    questions = context.services.questions
    rows = [
        [(questions.topic_name(key, t.language) or key, TOPIC_PICK.build(i))]
        for i, key in enumerate(draft.candidates)
    ]
    rows.append([(t("vraag.topic_other"), TOPIC_PICK.build("other"))])
    DRAFT.asked(context, TOPIC_STEP)
    await update.effective_message.reply_text(t(prompt), reply_markup=keyboard(rows))
    return TOPIC


async def wrong_topic(update: Update, context: BotContext) -> int | None:
    """ "Klopt het onderwerp niet?" under a topic the bot was sure of: the resident picks one
    as when the bot is unsure, and routing learns from that pick when the question is sent."""
    query = update.callback_query
    _, t = await speaker(update, context)
    draft = _draft(context)
    if draft.topic_key is None or draft.confidence is None or draft.picked:
        await query.answer(t("common.stale_button"), show_alert=True)
        return None
    await press_done(update)
    questions = context.services.questions
    for follow_up in questions.config.follow_ups_for(draft.topic_key):
        draft.details.pop(follow_up.key, None)  # answers to the wrong topic's questions
    draft.candidates = [key for key in draft.candidates if key != draft.topic_key]
    draft.topic_key, draft.confidence, draft.picked = None, None, ExampleSource.CORRECTED
    _keep(context, draft)
    return await _ask_topic(update, context, t, "vraag.which_topic")


async def choose_topic(update: Update, context: BotContext) -> int:
    query = update.callback_query
    _, t = await speaker(update, context)
    draft = _draft(context)
    if TOPIC_PICK.one(query.data) == "other":
        await press_done(update)
        return await _ask_main(update, context, t)
    key = await picked(update, context, TOPIC_PICK, draft.candidates)
    if key is None:
        return TOPIC
    draft.topic_key = key
    draft.picked = draft.picked or ExampleSource.ASKED
    _keep(context, draft)
    await press_done(update)
    return await _ask_kern(update, context, t)


async def _ask_main(update: Update, context: BotContext, t: Translator) -> int:
    mains = context.services.questions.taxonomy.main_topics
    rows = [[(topic.name(t.language), MAIN_PICK.build(i))] for i, topic in enumerate(mains)]
    rows.append([(t("vraag.topic_unknown"), MAIN_PICK.build("none"))])
    DRAFT.asked(context, MAIN_STEP)
    await update.effective_message.reply_text(t("vraag.ask_main"), reply_markup=keyboard(rows))
    return MAIN


async def choose_main(update: Update, context: BotContext) -> int:
    query = update.callback_query
    _, t = await speaker(update, context)
    mains = context.services.questions.taxonomy.main_topics
    draft = _draft(context)
    if MAIN_PICK.one(query.data) == "none":
        draft.topic_key = None
    else:
        main = await picked(update, context, MAIN_PICK, mains)
        if main is None:
            return MAIN
        draft.topic_key = main.key
        draft.picked = draft.picked or ExampleSource.ASKED
    draft.confidence = None
    _keep(context, draft)
    await press_done(update)
    return await _ask_kern(update, context, t)


# The kern's name among the prefilled answers (the others are follow-up keys).
_KERN = "kern"


async def _ask_kern(update: Update, context: BotContext, t: Translator) -> int:
    """The kern question, unless the text names the kern."""
    draft = _draft(context)
    _read_text(context, t, draft)
    _keep(context, draft)
    if _KERN in draft.prefilled:
        context.user_data["vraag_follow"] = 0
        return await _ask_follow_up(update, context, t)
    return await _kern_question(update, context, t)


def _read_text(context: BotContext, t: Translator, draft: QuestionDraft) -> None:
    """Fill in the kern and the topic's follow-ups that the text answers. Read again when the
    topic changed: what was read for the old topic goes first."""
    for key in draft.prefilled:
        draft.details.pop(key, None)
    draft.prefilled = []
    municipality = context.config.municipality
    facts = read_facts(draft.text, municipality.kernen, datetime.now(municipality.tz).date())
    if facts.kern is not None:
        draft.kern = facts.kern.value
        draft.prefilled.append(_KERN)
    for follow_up in context.services.questions.config.follow_ups_for(draft.topic_key):
        fact = facts.for_follow_up(follow_up.key)
        if fact is not None and follow_up.key not in draft.details:
            draft.details[follow_up.key] = _answer(fact, t)
            draft.prefilled.append(follow_up.key)


def _answer(fact: Fact[date] | Fact[str] | Fact[int], t: Translator) -> str:
    """A fact as an answer: a date written out in the resident's language, else their words."""
    if isinstance(fact.value, date):
        return t.date(fact.value, weekday=True)
    return fact.said


async def _kern_question(update: Update, context: BotContext, t: Translator) -> int:
    kernen = context.config.municipality.kernen
    DRAFT.asked(context, KERN_STEP)
    await update.effective_message.reply_text(
        t("vraag.ask_kern"),
        reply_markup=kern_keyboard(kernen, KERN_PICK, marked=[_draft(context).kern]),
    )
    return KERN


async def choose_kern(update: Update, context: BotContext) -> int:
    kernen = context.config.municipality.kernen
    if await take_pick(update, context, DRAFT, "kern", KERN_PICK, kernen) is None:
        return KERN
    _, t = await speaker(update, context)
    context.user_data["vraag_follow"] = 0
    return await _ask_follow_up(update, context, t)


async def typed_kern_answer(update: Update, context: BotContext) -> int:
    """The kern typed instead of pressed ("velserbroek"); asked again when it names none."""
    _, t = await speaker(update, context)
    draft = _draft(context)
    kernen = context.config.municipality.kernen
    kern = await typed_kern(update, t, kernen, KERN_PICK, marked=[draft.kern])
    if kern is None:
        return KERN
    draft.kern = kern
    _keep(context, draft)
    context.user_data["vraag_follow"] = 0
    return await _ask_follow_up(update, context, t)


async def _ask_follow_up(
    update: Update, context: BotContext, t: Translator, *, again: bool = False
) -> int:
    """The next of the topic's follow-up questions (not those already answered, unless asked
    `again` after "terug"), or the summary when none is left."""
    draft = _draft(context)
    follow_ups = context.services.questions.config.follow_ups_for(draft.topic_key)
    index = context.user_data.get("vraag_follow", 0)
    while not again and index < len(follow_ups) and follow_ups[index].key in draft.details:
        index += 1  # read from the text, or answered before going back
    context.user_data["vraag_follow"] = index
    if index >= len(follow_ups):
        return await _summary(update, context, t)
    follow_up = follow_ups[index]
    DRAFT.asked(context, [FOLLOW_STEP, index])
    await update.effective_message.reply_text(
        t("vraag.follow_up", question=follow_up.text.get(t.language, follow_up.text["nl"])),
        reply_markup=keyboard([[(t("vraag.skip"), SKIP.build())]]),
    )
    return FOLLOW


async def got_follow_up(update: Update, context: BotContext) -> int:
    _, t = await speaker(update, context)
    draft = _draft(context)
    follow_ups = context.services.questions.config.follow_ups_for(draft.topic_key)
    index = context.user_data.get("vraag_follow", 0)
    if update.callback_query:
        await press_done(update)
        if index < len(follow_ups):  # skipped, perhaps after going back to it
            draft.details.pop(follow_ups[index].key, None)
            _keep(context, draft)
    else:
        text = await _typed(update, t, DETAIL_MAX)
        if text is None:
            return FOLLOW
        if index < len(follow_ups):
            draft.details[follow_ups[index].key] = text
            _keep(context, draft)
    context.user_data["vraag_follow"] = index + 1
    return await _ask_follow_up(update, context, t)


async def _summary(update: Update, context: BotContext, t: Translator) -> int:
    draft = _draft(context)
    questions = context.services.questions
    # The answers in the order of the questions, wherever they came from.
    order = [f.key for f in questions.config.follow_ups_for(draft.topic_key)]
    draft.details = dict(sorted(draft.details.items(), key=lambda kv: _position(order, kv[0])))
    _keep(context, draft)
    from_text = Markup(" ") + Markup(t("vraag.from_text"))
    text = t(
        "vraag.summary",
        text=draft.text,
        topic=questions.topic_name(draft.topic_key, t.language) or t("vraag.topic_none"),
        kern=escape(draft.kern) + from_text if _KERN in draft.prefilled else draft.kern,
        details=detail_lines(context, t, draft.topic_key, draft.details, draft.prefilled),
    )
    rows = [[(t("vraag.button_send"), SEND.build()), (t("vraag.button_cancel"), CANCEL.build())]]
    if draft.prefilled:
        text += "\n\n" + t("vraag.summary_from_text")
        rows.append([(t("vraag.button_correct"), CORRECT.build())])
    DRAFT.asked(context, CONFIRM_STEP)
    await update.effective_message.reply_text(text, reply_markup=keyboard(rows))
    return CONFIRM


def _position(order: list[str], key: str) -> int:
    return order.index(key) if key in order else -1


async def correct(update: Update, context: BotContext) -> int:
    """ "Klopt niet, vraag het me": forget what was read from the text and ask it after all."""
    query = update.callback_query
    user, t = await speaker(update, context)
    draft = _draft(context)
    if not draft.prefilled:
        await query.answer(t("common.stale_button"), show_alert=True)
        return CONFIRM
    await press_done(update)
    ask_kern = _KERN in draft.prefilled
    for key in draft.prefilled:
        draft.details.pop(key, None)
    draft.prefilled = []
    if ask_kern:
        draft.kern = (user.kern if user else None) or ""  # 📍 marks where they live again
    _keep(context, draft)
    await query.message.reply_text(t("vraag.ask_again"))
    if ask_kern:
        return await _kern_question(update, context, t)
    context.user_data["vraag_follow"] = 0
    return await _ask_follow_up(update, context, t)


@requires_resident
async def send(update: Update, context: BotContext, user: User, t: Translator) -> int:
    query = update.callback_query
    draft = _draft(context)
    if not draft.text:
        await query.answer(t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    await press_done(update)
    # Sent once: pressed again after a crash lost the step, it says it was sent before.
    outcome = await context.services.questions.submit(user, draft)
    _forget(context)
    question = outcome.question
    assert question is not None
    values = question_values(context, t, question)
    if outcome.reason == "already_sent":
        text = t("vraag.already_sent", **values)
    elif outcome.assignee is None:
        text = t("vraag.submitted_triage", **values)
    else:
        text = t("vraag.submitted", **values)
    # Not sent now (the reply failed): the dispatch job sends it on its next tick.
    async with after_storing(update, context):
        await query.message.reply_text(text)
        if outcome.send_now:
            await send_now(context, outcome.send_now)
    return ConversationHandler.END


cancel = closing("vraag.cancelled", DRAFT)
reprompt = saying("vraag.reprompt")


async def _ask_again(update: Update, context: BotContext, t: Translator, step: Step) -> int:
    """The question of `step` once more (after "terug" or /help)."""
    if step == TOPIC_STEP:
        return await _ask_topic(update, context, t, "vraag.ask_topic")
    if step == MAIN_STEP:
        return await _ask_main(update, context, t)
    if step == KERN_STEP:
        return await _kern_question(update, context, t)
    if step == CONFIRM_STEP:
        return await _summary(update, context, t)
    if isinstance(step, list) and step[:1] == [FOLLOW_STEP]:
        context.user_data["vraag_follow"] = step[1]
        return await _ask_follow_up(update, context, t, again=True)
    DRAFT.asked(context, TEXT_STEP)
    await update.effective_message.reply_text(t("vraag.ask_text"))
    return TEXT


def _earlier_answer(context: BotContext, t: Translator, step: Step) -> str | None:
    """What the resident answered at `step` before, if anything."""
    draft = _draft(context)
    questions = context.services.questions
    if step == TEXT_STEP:
        return draft.text or None
    if step in (TOPIC_STEP, MAIN_STEP):
        return questions.topic_name(draft.topic_key, t.language)
    if step == KERN_STEP:
        return draft.kern or None
    if isinstance(step, list) and step[:1] == [FOLLOW_STEP]:
        follow_ups = questions.config.follow_ups_for(draft.topic_key)
        index = step[1]
        return draft.details.get(follow_ups[index].key) if index < len(follow_ups) else None
    return None


async def go_back(update: Update, context: BotContext) -> int:
    """ "terug" typed: the question before the open one again, with the earlier answer."""
    _, t = await speaker(update, context)
    current = DRAFT.current(context, TEXT_STEP)
    previous = DRAFT.previous(context, current)
    earlier = _earlier_answer(context, t, previous) if previous is not None else None
    await back_to(update, t, previous, earlier)
    return await _ask_again(update, context, t, current if previous is None else previous)


async def help_in_flow(update: Update, context: BotContext) -> int:
    """/help halfway: the help, then the open question again; the question stays where it was."""
    await help_command(update, context)
    _, t = await speaker(update, context)
    return await _ask_again(update, context, t, DRAFT.current(context, TEXT_STEP))


def question_conversation() -> ConversationHandler:
    return conversation(
        name="question",
        persistent=True,
        entry_points=[
            CommandHandler(commands("vraag"), begin),
            CHECK_IN_ASK.handler(begin_about_initiative),
        ],
        states=with_back(
            {
                TEXT: [text_step(got_text)],
                TOPIC: [TOPIC_PICK.handler(choose_topic)],
                MAIN: [MAIN_PICK.handler(choose_main)],
                KERN: [KERN_PICK.handler(choose_kern), text_step(typed_kern_answer)],
                FOLLOW: [text_step(got_follow_up), SKIP.handler(got_follow_up)],
                CONFIRM: [SEND.handler(send), CORRECT.handler(correct)],
            },
            go_back,
        ),
        fallbacks=[
            cancel_with(cancel),
            CommandHandler("help", help_in_flow),
            CANCEL.handler(cancel),
            # In whichever step the resident is when they notice (kern, follow-ups, summary).
            WRONG_TOPIC.handler(wrong_topic),
            # Only this flow's own buttons: a poll or a meeting place pressed halfway goes to
            # its own handler; an old /vraag button gets the stale-button answer.
            CallbackQueryHandler(refuse_press, pattern=any_press("vraag")),
            MessageHandler(NEW_MESSAGE, reprompt),
        ],
    )


# --- the resident replies to a request for more information --------------------------------


@requires_resident
async def start_reply(update: Update, context: BotContext, user: User, t: Translator) -> int:
    query = update.callback_query
    question = await context.services.questions.get(REPLY.one(query.data))
    if (
        question is None
        or question.resident_id != user.id
        or question.status is not QuestionStatus.INFO_REQUESTED
    ):
        await query.answer(t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    context.user_data["vraag_reply"] = question.id
    await query.message.reply_text(t("vraag.write_reply", number=question.number))
    return REPLY_WRITING


@requires_resident
async def got_reply(update: Update, context: BotContext, user: User, t: Translator) -> int:
    text = await _typed(update, t, MESSAGE_MAX)
    if text is None:
        return REPLY_WRITING
    question_id = context.user_data.pop("vraag_reply", None)
    outcome = await context.services.questions.resident_reply(question_id or 0, user, text)
    async with after_storing(update, context):
        if outcome.ok:
            await update.effective_message.reply_text(t("vraag.reply_sent"))
            await send_now(context, outcome.send_now)
        else:
            await update.effective_message.reply_text(t("vraag.reply_not_possible"))
    return ConversationHandler.END


reply_cancel = closing("vraag.cancelled", "vraag_reply")


async def reply_help(update: Update, context: BotContext) -> None:
    """/help while writing the reply: the help, then what is still asked."""
    await help_command(update, context)
    _, t = await speaker(update, context)
    question = await context.services.questions.get(context.user_data.get("vraag_reply") or 0)
    if question is not None:
        await update.effective_message.reply_text(t("vraag.write_reply", number=question.number))


def reply_conversation() -> ConversationHandler:
    return conversation(
        name="question_reply",
        persistent=True,
        entry_points=[REPLY.handler(start_reply)],
        states={REPLY_WRITING: [text_step(got_reply)]},
        fallbacks=[
            cancel_with(reply_cancel),
            CommandHandler("help", reply_help),
            otherwise(reprompt),
        ],
    )


# --- a text typed instead of pressing "Antwoord geven" ---------------------------------------

_OFFERED = "vraag_offer"


async def offer_as_reply(update: Update, context: BotContext, user: User, t: Translator) -> bool:
    """A text the bot has no flow for, while the municipality waits for more information from
    this resident: offer to send it as the reply (to which question, when several wait).
    False when nobody waits (handlers/common.py not_understood answers then)."""
    waiting = await context.services.questions.awaiting_reply(user.id)
    if not waiting:
        return False
    message = update.effective_message
    checked = check(message.text, MESSAGE_MAX)
    if checked.problem is Problem.EMPTY:
        return False
    if checked.problem is Problem.TOO_LONG:
        await message.reply_text(t("vraag.too_long", length=checked.length, limit=checked.limit))
        return True
    context.user_data[_OFFERED] = checked.text
    no = (t("vraag.offer_no"), OFFER_NO.build())
    if len(waiting) == 1:
        question = waiting[0]
        await message.reply_text(
            t("vraag.offer_reply", number=question.number),
            reply_markup=keyboard([[(t("vraag.button_send"), OFFER_SEND.build(question.id)), no]]),
        )
        return True
    rows = [[(question.number, OFFER_SEND.build(question.id))] for question in waiting]
    await message.reply_text(t("vraag.offer_which"), reply_markup=keyboard([*rows, [no]]))
    return True


@requires_resident
async def send_offered(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """ "Versturen": the offered text goes as the reply (refused like a stale button when there
    is no text kept, or the question is not theirs or waits no more)."""
    text = context.user_data.get(_OFFERED)
    if not text:
        await refuse_press(update, context)
        return
    outcome = await context.services.questions.resident_reply(
        OFFER_SEND.one(update.callback_query.data), user, text
    )
    if not outcome.ok and outcome.reason != "not_waiting":
        await refuse_press(update, context)
        return
    context.user_data.pop(_OFFERED, None)
    await press_done(update)
    if not outcome.ok:  # answered or closed in the meantime
        await update.effective_message.reply_text(t("vraag.reply_not_possible"))
        return
    async with after_storing(update, context):
        await update.effective_message.reply_text(t("vraag.reply_sent"))
        await send_now(context, outcome.send_now)


# "Nee": the text is not sent, and not kept.
drop_offered = closing("vraag.offer_dropped", _OFFERED)


# --- feedback and reopening ------------------------------------------------------------------


@requires_resident
async def score(update: Update, context: BotContext, user: User, t: Translator) -> int:
    query = update.callback_query
    question_id, stars = SCORE.parse(query.data)
    outcome = await context.services.questions.feedback(question_id, user, score=int(stars))
    if not outcome.ok:
        await query.answer(t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    await press_done(update)
    context.user_data["vraag_feedback"] = question_id
    buttons = [[(t("vraag.feedback_done"), FEEDBACK_DONE.build())]]
    assert outcome.question is not None
    if outcome.question.closed_at is not None:
        buttons.insert(0, [(t("vraag.button_reopen"), REOPEN.build(outcome.question.id))])
    await query.message.reply_text(t("vraag.feedback_thanks"), reply_markup=keyboard(buttons))
    return FEEDBACK_COMMENT


@requires_resident
async def comment(update: Update, context: BotContext, user: User, t: Translator) -> int:
    text = await _typed(update, t, FEEDBACK_MAX)
    if text is None:
        return FEEDBACK_COMMENT
    question_id = context.user_data.pop("vraag_feedback", 0)
    await context.services.questions.feedback(question_id, user, text=text)
    async with after_storing(update, context):
        await update.effective_message.reply_text(t("vraag.feedback_saved"))
    return ConversationHandler.END


feedback_done = closing("vraag.feedback_saved", "vraag_feedback")


@requires_resident
async def reopen(update: Update, context: BotContext, user: User, t: Translator) -> int:
    query = update.callback_query
    outcome = await context.services.questions.reopen(REOPEN.one(query.data), user)
    context.user_data.pop("vraag_feedback", None)
    if not outcome.ok:
        key = "vraag.reopen_too_late" if outcome.reason == "too_late" else "common.stale_button"
        await query.answer(t(key), show_alert=True)
        return ConversationHandler.END
    assert outcome.question is not None
    async with after_storing(update, context):
        await press_done(update)
        await query.message.reply_text(
            t("vraag.reopened", **question_values(context, t, outcome.question))
        )
        if outcome.send_now:
            await send_now(context, outcome.send_now)
    return ConversationHandler.END


def feedback_conversation() -> ConversationHandler:
    return conversation(
        name="question_feedback",
        persistent=True,
        entry_points=[
            SCORE.handler(score),
            REOPEN.handler(reopen),
        ],
        states={FEEDBACK_COMMENT: [text_step(comment), FEEDBACK_DONE.handler(feedback_done)]},
        fallbacks=[
            REOPEN.handler(reopen),
            # The stars are kept: /annuleer only skips the comment.
            cancel_with(feedback_done),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            question_conversation(),
            reply_conversation(),
            feedback_conversation(),
            OFFER_SEND.handler(send_offered),
            OFFER_NO.handler(drop_offered),
        ]
    )
