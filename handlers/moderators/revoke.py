"""/intrekken <telegram id>: a moderator takes another civil servant's or moderator's role away,
after a confirmation (bot/services/staff.py; `burgerbeest revoke` does the same from the command
line). It lands in the audit log and the person is told. Not oneself, so that no moderator locks
the last one out by a slip; not a moderator from the config, which only config.toml can undo.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.i18n import Translator, translator
from bot.services.staff import StaffMember
from bot.services.text_input import parse_telegram_id
from handlers.callbacks import Button
from handlers.common import keyboard, moderator, press_done, send_to, stale_button
from handlers.context import BotApplication, BotContext
from handlers.menus import set_staff_menu
from models import Role, User

# Under the question whether to take someone's role away, with their Telegram id (a word, as it
# may be longer than a button's `int`; read with parse_telegram_id like a typed one).
REVOKE = Button("revoke:yes", str)
KEEP = Button("revoke:no", str)


async def _target(
    context: BotContext, t: Translator, me: User, telegram_id: int
) -> StaffMember | str:
    """Whose role may go, or why not (in words for the moderator)."""
    if telegram_id == me.telegram_id:
        return t("staff.revoke_self")
    if context.services.civil_servants.is_configured_moderator(telegram_id):
        return t("staff.revoke_configured", who=telegram_id)
    member = await context.services.staff.member(telegram_id)
    return member if member is not None else t("staff.revoke_no_role", who=telegram_id)


async def ask(update: Update, context: BotContext) -> None:
    """/intrekken <telegram id>: who it is and what happens, with a button to confirm."""
    user, t = await moderator(update, context)
    if user is None:
        return
    telegram_id = parse_telegram_id((context.args or [""])[0])
    if telegram_id is None:
        await update.effective_message.reply_text(t("staff.revoke_usage"))
        return
    target = await _target(context, t, user, telegram_id)
    if isinstance(target, str):
        await update.effective_message.reply_text(target)
        return
    key = (
        "staff.revoke_confirm_civil_servant"
        if target.user.role is Role.CIVIL_SERVANT
        else "staff.revoke_confirm_moderator"
    )
    await update.effective_message.reply_text(
        t(key, name=target.name, who=telegram_id),
        reply_markup=keyboard(
            [
                [
                    (t("staff.button_revoke_yes"), REVOKE.build(telegram_id)),
                    (t("staff.button_revoke_no"), KEEP.build(telegram_id)),
                ]
            ]
        ),
    )


async def confirm(update: Update, context: BotContext) -> None:
    """The answer: the rights and the target are checked again, as a press can be old or
    forged."""
    query = update.callback_query
    user, t = await moderator(update, context)
    if user is None:
        return
    telegram_id = parse_telegram_id(REVOKE.one(query.data))
    if telegram_id is None:
        await stale_button(update, context)
        return
    target = await _target(context, t, user, telegram_id)
    if isinstance(target, str):
        await query.answer(target, show_alert=True)
        return
    revoked = await context.services.staff.revoke(telegram_id, by=user.id)
    if revoked is None:  # another moderator was first
        await query.answer(t("staff.revoke_no_role", who=telegram_id), show_alert=True)
        return
    await press_done(update)
    theirs = translator(revoked.user.language)
    if revoked.offboarded is not None:
        count = revoked.offboarded.rerouted
        name = revoked.offboarded.name
        done = t.plural("staff.revoked_civil_servant", count, name=name, who=telegram_id)
        told = theirs("staff.told_civil_servant")
    else:
        done = t("staff.revoked_moderator", name=target.name, who=telegram_id)
        told = theirs("staff.told_moderator")
    await query.message.reply_text(done)
    await send_to(context, revoked.user, told)
    await set_staff_menu(context.bot, context.services, revoked.user)


async def keep(update: Update, context: BotContext) -> None:
    """No: nothing changes."""
    user, t = await moderator(update, context)
    if user is None:
        return
    await press_done(update)
    await update.effective_message.reply_text(t("staff.revoke_cancelled"))


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("intrekken", ask),
            REVOKE.handler(confirm),
            KEEP.handler(keep),
        ]
    )
