"""The command menus: the residents' for everyone (per language), staff's in their own chat."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.i18n import LANGUAGES, translator
from bot.services import Services
from handlers.context import BotApplication
from models import Role, User

log = logging.getLogger(__name__)

# Commands in the menu, in the order shown; each has a description key "command.<name>".
RESIDENT_COMMANDS = (
    "idee",
    "vraag",
    "wie",
    "zoek",
    "mijn",
    "groep",
    "volgen",
    "stil",
    "taal",
    "help",
    "privacy",
    "over",
    "annuleer",
    "start",
)

# English names that work as well, kept out of the menus (which show the language's own).
ALIASES = {
    "idee": ("idea",),
    "vraag": ("question",),
    "taal": ("language",),
    "annuleer": ("cancel",),
    "vergeetmij": ("forgetme",),
    "volgen": ("follow",),
    "wie": ("who",),
    "over": ("about",),
}


def commands(name: str) -> list[str]:
    """A command's name and its aliases, for a CommandHandler: commands("idee") → idee, idea."""
    return [name, *ALIASES.get(name, ())]


# What civil servants and moderators see on top of the residents' menu, in their own chat only.
CIVIL_SERVANT_COMMANDS = ("vragen", "profiel", "afwezig", "wistjedat", "peiling", "peilingen")
MODERATOR_COMMANDS = (
    "mededeling",
    "gepland",
    "triage",
    "uitnodiging",
    "stats",
    "wachtrij",
    "logboek",
    "status",
    "intrekken",
    "geleerd",
    "peiling",
    "peilingen",
)


def command_menu(language: str, *extra: str) -> list[BotCommand]:
    t = translator(language)
    return [BotCommand(name, t(f"command.{name}")) for name in (*extra, *RESIDENT_COMMANDS)]


def staff_commands(services: Services, user: User | None) -> tuple[str, ...]:
    """What `user` has on top of the residents' menu: nothing for a resident."""
    extra: tuple[str, ...] = ()
    if user is None:
        return extra
    if user.role is Role.CIVIL_SERVANT:
        extra = CIVIL_SERVANT_COMMANDS
    if services.civil_servants.is_moderator(user):
        extra = tuple(dict.fromkeys((*MODERATOR_COMMANDS, *extra)))  # both have /peiling
    return extra


async def set_staff_menu(bot: ExtBot[None], services: Services, user: User) -> None:
    """The menu of one civil servant or moderator, scoped to their chat; residents keep the
    default, and a former one's scoped menu goes. A chat Telegram does not know yet (a
    configured moderator who never pressed Start) is skipped: the menu follows at their first
    /aanmelden or the next start."""
    extra = staff_commands(services, user)
    scope = BotCommandScopeChat(user.telegram_id)
    try:
        if extra:
            await bot.set_my_commands(command_menu(user.language or "nl", *extra), scope=scope)
        else:  # no role (any more): the residents' menu, which needs no scope of its own
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:
        log.info("no staff menu for %s: %s", user.telegram_id, exc)


async def set_menus(application: BotApplication) -> None:
    # The menu without a language is the default language's, for clients in any other language.
    default = application.bot_data["config"].default_language
    await application.bot.set_my_commands(command_menu(default))
    for language in LANGUAGES:
        await application.bot.set_my_commands(command_menu(language), language_code=language)
    services: Services = application.bot_data["services"]
    for user in await services.users.staff():
        await set_staff_menu(application.bot, services, user)
