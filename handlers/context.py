"""The types every handler is written against: the application and its context.

Kept apart from the assembly (handlers/app.py), which imports every flow: a flow imports these
and never the assembly, so there is no cycle between the application and its handlers.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Config
from bot.services import Services


class BotContext(CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], dict[str, Any]]):
    """The handler context, with typed access to what the application was built with."""

    @property
    def services(self) -> Services:
        return self.bot_data["services"]

    @property
    def config(self) -> Config:
        return self.bot_data["config"]


BotApplication = Application[
    ExtBot[None], BotContext, dict[str, Any], dict[str, Any], dict[str, Any], Any
]
