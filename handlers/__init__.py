"""The Telegram side: one module per flow, grouped by who uses it (residents/, civil_servants/,
moderators/), registered here in the order they are tried."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from handlers import common, dispatch
from handlers.civil_servants import away, posts, profile, questions
from handlers.context import BotApplication, BotContext
from handlers.menus import commands
from handlers.moderators import (
    announce,
    audit,
    invites,
    learned,
    moderation,
    revoke,
    scheduled,
    stats,
    status,
    triage,
)
from handlers.moderators import polls as poll_authors
from handlers.persistence import persist_update
from handlers.residents import (
    about,
    following,
    help,
    initiative,
    introductions,
    meeting,
    mine,
    onboarding,
    privacy,
    question,
    report,
    search,
    who,
)
from handlers.residents import polls as poll_answers

# First groups: count every update, keep to private chats, then flood control, before any
# work is done for it.
COUNT_GROUP = -4
PRIVATE_GROUP = -3
GUARD_GROUP = -2
# Then bans: a banned person gets one answer and no other handler runs.
BAN_GROUP = -1
# Last group: write conversation state and user_data after every update, not once a minute,
# so a crash loses no answer a resident already gave.
PERSIST_GROUP = 100


async def _persist(update: Update, context: BotContext) -> None:
    await persist_update(context.application, update)


def register(application: BotApplication) -> None:
    application.add_handler(TypeHandler(Update, common.count_update), group=COUNT_GROUP)
    application.add_handler(TypeHandler(Update, common.private_only), group=PRIVATE_GROUP)
    application.add_handler(TypeHandler(Update, common.flood_guard), group=GUARD_GROUP)
    application.add_handler(TypeHandler(Update, moderation.ban_guard), group=BAN_GROUP)
    # The conversation goes first: while /idee is open it answers everything, commands included.
    initiative.register(application)
    introductions.register(application)
    meeting.register(application)
    question.register(application)
    profile.register(application)
    away.register(application)
    questions.register(application)
    invites.register(application)
    triage.register(application)
    learned.register(application)
    dispatch.register(application)
    announce.register(application)
    scheduled.register(application)
    poll_authors.register(application)
    poll_answers.register(application)
    report.register(application)
    moderation.register(application)
    revoke.register(application)
    posts.register(application)
    search.register(application)
    onboarding.register(application)
    help.register(application)
    mine.register(application)
    status.register(application)
    following.register(application)
    privacy.register(application)
    stats.register(application)
    audit.register(application)
    who.register(application)
    about.register(application)
    application.add_handlers(
        [
            CommandHandler(commands("annuleer"), common.nothing_to_cancel),
            MessageHandler(common.NEW_MESSAGE & filters.COMMAND, common.unknown_command),
            CallbackQueryHandler(common.stale_button),
            MessageHandler(common.NEW_MESSAGE, common.not_understood),
        ]
    )
    application.add_handler(TypeHandler(Update, _persist), group=PERSIST_GROUP)
    application.add_error_handler(common.on_error)
