"""Tools to try and test the bot without Telegram: a stand-in of the Bot API (`fake_telegram`)
and the terminal sandbox built on it (`burgerbeest sandbox`). Installed with the bot, since the
sandbox is how a newcomer first meets it, but no part of the bot depends on it."""
