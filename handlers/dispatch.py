"""The Telegram side of scheduled work: rendering a delivery, sending it, the periodic tick.

The dispatch service decides what is due and records what happened; this module only turns a
`Delivery` into a message and sends it; handlers/delivery.py reads Telegram's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from bot.i18n import Markup, Translator, escape, translator
from bot.metrics import Metrics
from bot.services.delivery import Result
from bot.services.dispatch import Delivery, DispatchReport, count_by_state
from bot.services.questions import Outcome
from handlers.civil_servants.posts import news_text
from handlers.common import clear_buttons, keyboard
from handlers.context import BotApplication, BotContext
from handlers.delivery import attempt
from models import Question, WorkKind

log = logging.getLogger(__name__)

# Due rows are looked for this often; digests go at configured times, urgent questions and
# the messages of a civil servant's move at once (those are sent by the move itself).
TICK_S = 60
# A run stops starting sends after this, so runs never overlap and skip a tick.
RUN_BUDGET_S = 0.75 * TICK_S
# Question cards listed at once by /vragen and /triage.
CARDS_SHOWN = 10
# The buttons under a notice about something else than a question, by its payload's "buttons":
# each flow whose buttons they are puts its own here when it registers.
NOTICE_BUTTONS: dict[str, Callable[[Translator, dict[str, Any]], InlineKeyboardMarkup]] = {}


def detail_lines(
    context: BotContext,
    t: Translator,
    topic_key: str | None,
    details: dict[str, str],
    marked: Collection[str] = (),
) -> Markup:
    """A question's extra details, one "• label answer" line each: the label is the topic's
    follow-up question from the config, or one of the bot's own (`vraag.detail.<key>`).
    Answers in `marked` were read from the question and say so."""
    follow_ups = {f.key: f for f in context.services.questions.config.follow_ups_for(topic_key)}
    lines = []
    for key, answer in details.items():
        if key in follow_ups:
            label = follow_ups[key].text.get(t.language, key)
        else:
            label = t(f"vraag.detail.{key}") if t.has(f"vraag.detail.{key}") else key
        line = escape(f"• {label} ") + Markup("<b>") + escape(answer) + Markup("</b>")
        lines.append(line + Markup(" ") + Markup(t("vraag.from_text")) if key in marked else line)
    return Markup("\n").join(lines)


def question_values(context: BotContext, t: Translator, question: Question) -> dict[str, object]:
    """What every text about a question may mention."""
    tz = context.config.municipality.tz
    questions = context.services.questions
    return {
        "number": question.number,
        "topic": questions.topic_name(question.topic_key, t.language) or t("vraag.topic_none"),
        "kern": question.kern or "—",
        "text": question.text or t("vraag.text_erased"),
        "details": detail_lines(context, t, question.topic_key, question.details),
        "deadline": t.date(question.deadline_at, tz, weekday=True) if question.deadline_at else "—",
        "status": t(f"vraag.status.{question.status.value}"),
    }


def card_buttons(t: Translator, question_id: int) -> InlineKeyboardMarkup:
    # Answered by the civil servants' question flows, which import this module: imported here.
    from handlers.civil_servants.questions import ANSWER, CLOSE, FORWARD, INFO

    return keyboard(
        [
            [
                (t("vraag.button_answer"), ANSWER.build(question_id)),
                (t("vraag.button_info"), INFO.build(question_id)),
            ],
            [
                (t("vraag.button_forward"), FORWARD.build(question_id)),
                (t("vraag.button_close"), CLOSE.build(question_id)),
            ],
        ]
    )


def assign_button(t: Translator, question_id: int) -> InlineKeyboardMarkup:
    """Under a question no rule could route: a moderator assigns it (/triage)."""
    # Answered by /triage's flow, which imports this module: imported here.
    from handlers.moderators.triage import ASSIGN

    return keyboard([[(t("vraag.button_assign"), ASSIGN.build(question_id))]])


def card_text(context: BotContext, t: Translator, question: Question, urgent: bool) -> str:
    text = t("vraag.card", **question_values(context, t, question))
    return "\n".join((t("vraag.card_urgent"), text)) if urgent else text


def _buttons(kind: str | None, t: Translator, question: Question | None) -> object:
    if question is None or kind is None:
        return None
    # Answered by the resident's question flows, which import this module: imported here.
    from handlers.residents.question import REOPEN, REPLY, SCORE

    qid = question.id
    if kind == "card":
        return card_buttons(t, qid)
    if kind == "triage":
        return assign_button(t, qid)
    if kind == "reply":
        return keyboard([[(t("vraag.button_reply"), REPLY.build(qid))]])
    if kind == "feedback":
        # Stars, not digits: one to three on the first row, four and five on the second,
        # so every label stays whole on a phone.
        stars = [("⭐" * n, SCORE.build(qid, str(n))) for n in range(1, 6)]
        return keyboard([stars[:3], stars[3:], [(t("vraag.button_reopen"), REOPEN.build(qid))]])
    return None


def check_in_buttons(t: Translator, initiative_id: int) -> object:
    # Answered by /mijn's and /vraag's flows, which import this module: imported here.
    from handlers.residents.mine import CHECK_IN
    from handlers.residents.question import CHECK_IN_ASK

    return keyboard(
        [
            [(t("idee.check_in_good"), CHECK_IN.build(initiative_id, "good"))],
            [(t("idee.check_in_stuck"), CHECK_IN.build(initiative_id, "stuck"))],
            [(t("idee.check_in_ask"), CHECK_IN_ASK.build(initiative_id, "ask"))],
        ]
    )


def render(context: BotContext, delivery: Delivery) -> tuple[str, object]:
    t = translator(delivery.recipient.language)
    question = delivery.question
    payload = delivery.payload
    if delivery.kind is WorkKind.DIGEST:
        name = delivery.servant.name if delivery.servant else ""
        return t.plural("vraag.digest", int(payload.get("count", 0)), name=name), None
    if delivery.kind is WorkKind.NEWS and delivery.news is not None:
        return news_text(t, delivery.news, context.config.municipality.name), None
    if question is None:
        # A notice about something else than a question (the check-in on an initiative).
        text = t(payload["key"], **payload.get("values", {}))
        if payload.get("buttons") == "check_in":
            return text, check_in_buttons(t, int(payload["initiative_id"]))
        if payload.get("buttons") in NOTICE_BUTTONS:
            return text, NOTICE_BUTTONS[payload["buttons"]](t, payload)
        return text, None
    if delivery.kind is WorkKind.DELIVER:
        return card_text(context, t, question, bool(payload.get("urgent"))), card_buttons(
            t, question.id
        )
    if delivery.kind is WorkKind.REMINDER:
        text = "\n\n".join((t("vraag.reminder"), card_text(context, t, question, False)))
        return text, card_buttons(t, question.id)
    values = {**question_values(context, t, question), **payload.get("values", {})}
    text = t(payload["key"], **values)
    if payload.get("buttons") in ("card", "triage"):
        text = "\n\n".join((text, card_text(context, t, question, False)))
    return text, _buttons(payload.get("buttons"), t, question)


class TelegramSender:
    """Sends a delivery with the application's bot and says what became of it."""

    def __init__(self, context: BotContext) -> None:
        self._context = context

    async def __call__(self, delivery: Delivery) -> Result:
        text, markup = render(self._context, delivery)
        bot = self._context.bot
        return await attempt(
            bot.send_message(delivery.recipient.telegram_id, text, reply_markup=markup)
        )


async def send_now(context: BotContext, ids: Iterable[int]) -> DispatchReport:
    """Send the messages a move in a chat just wrote (and what they lead to) right away."""
    return await context.services.dispatch.send_now(ids, TelegramSender(context))


async def report_move(
    update: Update, context: BotContext, t: Translator, outcome: Outcome, key: str
):
    """Say what a civil servant's or moderator's move on a question did, after sending what it
    wrote at once; a refused one gets the stale-button answer."""
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


async def dispatch_tick(context: BotContext) -> DispatchReport:
    """The periodic job: send everything due, within most of a tick (the rest next tick)."""
    report = await context.services.dispatch.run_due(TelegramSender(context), budget=RUN_BUDGET_S)
    if report.sent or report.failed or report.blocked or report.unknown:
        log.info("dispatch: %s", report)
    return report


def register(application: BotApplication) -> None:
    metrics: Metrics = application.bot_data["metrics"]
    scheduled = metrics.gauge(
        "burgerbeest_scheduled_messages",
        "Messages owed later (digests, questions, reminders, notices), by state; unknown = "
        "maybe sent, never sent again.",
        ("state",),
    )

    async def read_states(session: AsyncSession) -> None:
        for state, count in (await count_by_state(session)).items():
            scheduled.labels(state.value).set(count)

    metrics.add_source(read_states)
