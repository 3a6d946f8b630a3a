"""/over (/about): who runs this Burgerbeest, who is responsible for the data, how long it is
kept, and where the municipality's own platform is — the bot is a connector, not the
municipality."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.config import Config
from bot.i18n import Translator
from handlers.common import speaker
from handlers.context import BotApplication, BotContext


def who_runs_this(t: Translator, config: Config) -> str:
    """The whole answer, for /over and the end of /privacy."""
    about = config.about
    lines = [
        t("about.title", municipality=config.municipality.name),
        t("about.independent"),
        t("about.controller", controller=about.controller)
        if about.controller
        else t("about.controller_unnamed"),
    ]
    if about.contact:
        lines.append(t("about.contact", contact=about.contact))
    lines.append(t("about.retention", days=config.retention_days))
    platform = platform_line(t, config)
    if platform:
        lines.append(platform)
    return "\n\n".join(lines)


def platform_line(t: Translator, config: Config) -> str | None:
    """Where the municipality's own platform is, when the config names one."""
    about = config.about
    if not about.platform_name:
        return None
    if about.platform_url:
        return t("about.platform_link", name=about.platform_name, url=about.platform_url)
    return t("about.platform", name=about.platform_name)


def independence_line(t: Translator, config: Config) -> str:
    """One line for the welcome: a connector, not the municipality; /over tells more."""
    return t("about.short", municipality=config.municipality.name)


async def about(update: Update, context: BotContext) -> None:
    _, t = await speaker(update, context)
    await update.effective_message.reply_text(
        who_runs_this(t, context.config), disable_web_page_preview=True
    )


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler(["over", "about"], about))
