"""Scaffolding the conversations share: a draft kept in user_data, a press that picks one of a
list, a grid of buttons and the kern keyboard. Written once so each flow reads as its story."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from telegram import InlineKeyboardMarkup, Update

from bot.i18n import Translator
from handlers.callbacks import Button
from handlers.common import keyboard, press_done, refuse_press, speaker, typed_answer
from handlers.context import BotContext


class Storable(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


D = TypeVar("D", bound=Storable)
T = TypeVar("T")


class DraftSlot(Generic[D]):
    """A flow's draft in user_data under one key, and the flow's other keys, forgotten together
    (user_data is persisted, so a draft survives a restart halfway through)."""

    def __init__(self, key: str, load: Callable[[dict[str, Any] | None], D], *extra: str) -> None:
        self.key = key
        self._load = load
        self._keys = (key, *extra)

    def get(self, context: BotContext) -> D:
        return self._load(context.user_data.get(self.key))

    def keep(self, context: BotContext, draft: D) -> None:
        context.user_data[self.key] = draft.to_dict()

    def forget(self, context: BotContext) -> None:
        for key in self._keys:
            context.user_data.pop(key, None)


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
