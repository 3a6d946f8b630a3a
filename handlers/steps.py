"""Scaffolding the conversations share: a draft kept in user_data with the steps it went
through, a press that picks one of a list, a typed kern, "terug" typed to go one step back, a
grid of buttons and the kern keyboard. Written once so each flow reads as its story."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from bot.i18n import Translator
from bot.kernen import match_kern
from handlers.callbacks import Button
from handlers.common import NEW_MESSAGE, keyboard, press_done, refuse_press, speaker, typed_answer
from handlers.context import BotContext
from handlers.menus import commands


class Storable(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


D = TypeVar("D", bound=Storable)
T = TypeVar("T")
# A step as a flow names it in its history: its state number, or a word ("follow:2").
Step = Any


class DraftSlot(Generic[D]):
    """A flow's draft in user_data under one key, and the flow's other keys, forgotten together
    (user_data is persisted, so a draft survives a restart halfway through)."""

    def __init__(self, key: str, load: Callable[[dict[str, Any] | None], D], *extra: str) -> None:
        self.key = key
        self._load = load
        self._steps = f"{key}_steps"
        self._keys = (key, self._steps, *extra)

    def get(self, context: BotContext) -> D:
        return self._load(context.user_data.get(self.key))

    def keep(self, context: BotContext, draft: D) -> None:
        context.user_data[self.key] = draft.to_dict()

    def forget(self, context: BotContext) -> None:
        for key in self._keys:
            context.user_data.pop(key, None)

    # The questions asked, in order, for "terug": a step asked again (going back, or after
    # /help) drops the ones after it.

    def asked(self, context: BotContext, step: Step) -> None:
        """Note that the question of `step` is the open one."""
        steps = list(context.user_data.get(self._steps, []))
        if step in steps:
            del steps[steps.index(step) + 1 :]
        else:
            steps.append(step)
        context.user_data[self._steps] = steps

    def current(self, context: BotContext, default: Step) -> Step:
        """The step whose question was asked last."""
        steps = context.user_data.get(self._steps) or [default]
        return steps[-1]

    def previous(self, context: BotContext, step: Step) -> Step | None:
        """The step asked before `step` (before the last one asked, when `step` is a question
        between them, such as a follow-up to a vague answer); None at the first."""
        steps = list(context.user_data.get(self._steps, []))
        if step not in steps:
            return steps[-1] if steps else None
        position = steps.index(step)
        return steps[position - 1] if position > 0 else None


# What someone types to go one step back: "terug", "vorige", "back", "previous".
_BACK = filters.Regex(r"(?i)^\s*(terug|vorige|ga terug|back|go back|previous)\s*[.!]*\s*$")


def back_step(callback: Callable[[Update, BotContext], Awaitable[Any]]) -> MessageHandler:
    """The handler for "terug" typed in a conversation: put it first in every state, so that a
    text step does not take it as the answer."""
    return MessageHandler(NEW_MESSAGE & filters.TEXT & _BACK, callback)


def with_back(
    states: dict[object, list[Any]], callback: Callable[[Update, BotContext], Awaitable[Any]]
) -> dict[object, list[Any]]:
    """`states` with back_step(callback) first in each."""
    back = back_step(callback)
    return {state: [back, *handlers] for state, handlers in states.items()}


async def back_to(
    update: Update,
    t: Translator,
    previous: Step | None,
    earlier: str | None,
) -> None:
    """Say where "terug" leads: nowhere at the first step; else the earlier answer, if any, before
    the flow asks that question again."""
    message = update.effective_message
    if previous is None:
        await message.reply_text(t("steps.back_none"))
    elif earlier:
        await message.reply_text(t("steps.back_had", answer=earlier))


async def picked(
    update: Update, context: BotContext, button: Button, options: Sequence[T]
) -> T | None:
    """The option a press of a one-number `button` points at; None (after the stale-button
    answer) when the number is not one of them — an old keyboard, or a forged press."""
    index = button.one(update.callback_query.data)
    if not isinstance(index, int) or index >= len(options):
        await refuse_press(update, context)
        return None
    return options[index]


async def take_text(
    update: Update,
    context: BotContext,
    slot: DraftSlot[D],
    field: str,
    limit: int,
    step: int,
    after: Callable[[Update, BotContext, Translator, int], Awaitable[int]],
    *,
    typed: Callable[[Update, Translator, int], Awaitable[str | None]] = typed_answer,
) -> int:
    """A text step: the typed answer goes into the draft's `field` and the flow goes on with
    `after(update, context, t, step)`; an answer that cannot be used (`typed` says why, in the
    flow's own words) keeps `step` open."""
    _, t = await speaker(update, context)
    text = await typed(update, t, limit)
    if text is None:
        return step
    draft = slot.get(context)
    setattr(draft, field, text)
    slot.keep(context, draft)
    return await after(update, context, t, step)


async def take_pick(
    update: Update,
    context: BotContext,
    slot: DraftSlot[D],
    field: str,
    button: Button,
    options: Sequence[str],
) -> str | None:
    """A press of `button` picks one of `options` (a kern, say) for the draft's `field`: stored,
    the press answered with its name and the buttons taken off. None (after the stale-button
    answer) when the press points at none of them."""
    choice = await picked(update, context, button, options)
    if choice is None:
        return None
    draft = slot.get(context)
    setattr(draft, field, choice)
    slot.keep(context, draft)
    await press_done(update, choice)
    return choice


async def typed_kern(
    update: Update,
    t: Translator,
    kernen: Sequence[str],
    button: Button,
    *,
    marked: Iterable[str] = (),
) -> str | None:
    """The kern a resident typed where its buttons were offered ("velserbroek", "Santpoort N.");
    None after asking again with the buttons, when the text names no kern or could be several."""
    found = match_kern(update.effective_message.text or "", kernen)
    if found.kern is not None:
        return found.kern
    if found.candidates:
        text = t("steps.kern_which", kernen=", ".join(found.candidates))
    else:
        text = t("steps.kern_unknown")
    await update.effective_message.reply_text(
        text, reply_markup=kern_keyboard(kernen, button, marked=marked)
    )
    return None


def grid(buttons: list[tuple[str, str]], columns: int = 2) -> list[list[tuple[str, str]]]:
    """Buttons in rows of `columns`: short labels side by side fit a phone better."""
    return [buttons[i : i + columns] for i in range(0, len(buttons), columns)]


def kern_keyboard(
    kernen: Sequence[str],
    button: Button,
    *,
    marked: Iterable[str] = (),
    mark: str = "📍 ",
    last: list[tuple[str, str]] | None = None,
) -> InlineKeyboardMarkup:
    """The kernen two a row, each pressing `button` with its index; the `marked` ones carry
    `mark` (the resident's own kern, or the ones already chosen); `last` is a closing row."""
    chosen = set(marked)
    buttons = [
        ((mark if name in chosen else "") + name, button.build(index))
        for index, name in enumerate(kernen)
    ]
    return keyboard([*grid(buttons), *([last] if last else [])])


def cancel_with(callback: Callable[[Update, BotContext], Awaitable[Any]]) -> CommandHandler:
    """/annuleer (or /cancel) as a way out, in a conversation's fallbacks or in one step."""
    return CommandHandler(commands("annuleer"), callback)


def otherwise(callback: Callable[[Update, BotContext], Awaitable[Any]]) -> MessageHandler:
    """Any new message that is not a command, where the open step takes something else (a
    sticker where text is asked, text where a button is): `callback` says what it takes."""
    return MessageHandler(NEW_MESSAGE & ~filters.COMMAND, callback)


def saying(message: str) -> Callable[[Update, BotContext], Awaitable[None]]:
    """A handler that answers with one fixed `message` (what a step expects, when it gets
    something else) and leaves the step open: every flow had its own copy of these lines."""

    async def say(update: Update, context: BotContext) -> None:
        _, t = await speaker(update, context)
        await update.effective_message.reply_text(t(message))

    return say


def closing(
    message: str, *forget: str | DraftSlot[Any]
) -> Callable[[Update, BotContext], Awaitable[int]]:
    """A way out (/annuleer, a "Annuleren", "Klaar" or "Nee" button): what the flow kept
    (user_data keys, a draft) forgotten, a press answered and its buttons taken off, `message`
    said, the conversation (if any) ended. One place for what every flow's cancel did alike."""

    async def close(update: Update, context: BotContext) -> int:
        _, t = await speaker(update, context)
        for kept in forget:
            if isinstance(kept, DraftSlot):
                kept.forget(context)
            else:
                context.user_data.pop(kept, None)
        if update.callback_query:
            await press_done(update)
        await update.effective_message.reply_text(t(message))
        return ConversationHandler.END

    return close


async def step_done(
    update: Update,
    context: BotContext,
    step: Step,
    after: Callable[[Update, BotContext, Translator, Step], Awaitable[int]],
) -> int:
    """A press that only closes `step` (a "Klaar" or "Wijzigen" button): answered, its buttons
    taken off, and the flow goes on with `after(update, context, t, step)`, as take_text does."""
    _, t = await speaker(update, context)
    await press_done(update)
    return await after(update, context, t, step)
