"""Shared by the civil servants' flows (not a flow itself): who is a civil servant, their free
text in the questions flows' own words, and the reprompt while a conversation waits."""

from __future__ import annotations

from functools import partial

from telegram import Update

from bot.i18n import Translator
from handlers.common import speaker, typed_answer
from handlers.context import BotContext
from handlers.steps import saying
from models import CivilServant, Role, User

# Free text in the questions flows: the one typed_answer(), in these flows' own words.
typed = partial(typed_answer, empty="vraag.empty", too_long="vraag.too_long")


async def servant_of(context: BotContext, user: User | None) -> CivilServant | None:
    if user is None or user.role is not Role.CIVIL_SERVANT:
        return None
    return await context.services.civil_servants.of_user(user.id)


async def serving(update: Update, context: BotContext) -> tuple[CivilServant | None, Translator]:
    """The civil servant behind a command, or None after telling anyone else it is theirs only."""
    user, t = await speaker(update, context)
    servant = await servant_of(context, user)
    if servant is None:
        await update.effective_message.reply_text(t("cs.only_civil_servants"))
    return servant, t


# Anything else while a civil servant's conversation waits for an answer or a button.
reprompt = saying("cs.reprompt")
