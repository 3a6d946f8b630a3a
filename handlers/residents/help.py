"""/help: what this person can do here. Everyone gets the residents' commands; a civil servant
also theirs, a moderator also the moderators'. Made from the menus' lists (handlers/menus.py)
and their `command.<name>` descriptions, so the menu and the help say the same.

`help_command` (also `show_help`) is /help outside a flow and what every flow calls for /help
halfway.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.i18n import Translator
from bot.services import Services
from handlers.common import speaker
from handlers.context import BotApplication, BotContext
from handlers.menus import CIVIL_SERVANT_COMMANDS, MODERATOR_COMMANDS, RESIDENT_COMMANDS
from models import Role, User

# Commands that work but are kept out of the menus (they need a number or a name, or are seldom
# used): in the help all the same, after the menu's.
RESIDENT_MORE = ("meld", "vergeetmij")
MODERATOR_MORE = ("verberg", "ban", "unban")

# What a civil servant or moderator starts with, for their welcome.
FIRST_COMMANDS = {
    "civil_servant": ("vragen", "profiel", "afwezig"),
    "moderator": ("wachtrij", "mededeling", "stats"),
}


def roles(services: Services, user: User | None) -> list[str]:
    """The staff roles of `user`, as the help names its sections: none for a resident."""
    found = []
    if user is not None and user.role is Role.CIVIL_SERVANT:
        found.append("civil_servant")
    if user is not None and services.civil_servants.is_moderator(user):
        found.append("moderator")
    return found


def _lines(t: Translator, names: tuple[str, ...]) -> list[str]:
    return [t("help.line", command=name, description=t(f"command.{name}")) for name in names]


def resident_help(t: Translator) -> str:
    """The residents' commands, under the help's title."""
    lines = [t("help.title"), *_lines(t, (*RESIDENT_COMMANDS, *RESIDENT_MORE))]
    return "\n".join(lines)


def help_text(t: Translator, services: Services, user: User | None) -> str:
    """The whole help for `user`: their own role's commands first, then the residents'."""
    sections = []
    shown: set[str] = set()
    for role in roles(services, user):
        names = CIVIL_SERVANT_COMMANDS if role == "civil_servant" else MODERATOR_COMMANDS
        names = tuple(n for n in names if n not in shown)
        if role == "moderator":
            names = (*names, *MODERATOR_MORE)
        shown.update(names)
        sections.append("\n".join((t(f"help.title_{role}"), *_lines(t, names))))
    sections.append(resident_help(t))
    sections.append(t("help.halfway"))  # "terug" is typed, not in any menu
    return "\n\n".join(sections)


def role_line(t: Translator, services: Services, user: User | None) -> str | None:
    """For a welcome: which role this person has here and what to start with; None for a
    resident. A moderator who is also a civil servant hears of both."""
    found = roles(services, user)
    if not found:
        return None
    return "\n".join(
        t(
            f"help.role_{role}",
            commands=", ".join(f"/{name}" for name in FIRST_COMMANDS[role]),
        )
        for role in found
    )


async def help_command(update: Update, context: BotContext) -> None:
    """/help: the help for this person; one not signed up yet is pointed to /start."""
    user, t = await speaker(update, context)
    text = help_text(t, context.services, user)
    if user is None or not user.onboarded:
        text = "\n\n".join((text, t("common.need_start")))
    await update.effective_message.reply_text(text)


show_help = help_command


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("help", help_command))
