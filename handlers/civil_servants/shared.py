"""Shared by the civil servants' flows (not a flow itself): who is a civil servant, their free
text in the questions flows' own words, and the reprompt while a conversation waits."""

from __future__ import annotations

from functools import partial

from telegram import Update

from handlers.common import speaker, typed_answer
from handlers.context import BotContext
from models import CivilServant, Role, User

# Free text in the questions flows: the one typed_answer(), in these flows' own words.
typed = partial(typed_answer, empty="vraag.empty", too_long="vraag.too_long")


async def servant_of(context: BotContext, user: User | None) -> CivilServant | None:
    if user is None or user.role is not Role.CIVIL_SERVANT:
        return None
    return await context.services.civil_servants.of_user(user.id)


async def reprompt(update: Update, context: BotContext) -> None:
    _, t = await speaker(update, context)
    await update.effective_message.reply_text(t("cs.reprompt"))
