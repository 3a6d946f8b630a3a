"""/volgen: the kernen and topics a resident follows, toggled with buttons; /stil: announcements
off and on again. The resident's own kern always counts as followed (bot/services/following.py).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.i18n import Translator
from bot.routing import Topic
from bot.services.following import Following
from handlers.callbacks import Button
from handlers.common import keyboard, press_done, refuse_press, requires_resident
from handlers.context import BotApplication, BotContext
from handlers.menus import commands
from handlers.steps import grid
from models import FollowKind, User

FOLLOWED, OWN = "✅", "📍"

# Follow or unfollow a kern ("k") or a main topic ("t"), by its place in its list.
TOGGLE = Button("volg", ("k", "t"), int)
DONE = Button("volg:klaar")


def main_topics(context: BotContext) -> tuple[Topic, ...]:
    """The topics one can follow: the main topics of the taxonomy questions are routed with
    (the config may name its own file), in its order."""
    return context.services.questions.taxonomy.main_topics


def follow_keyboard(
    context: BotContext, user: User, t: Translator, following: Following
) -> InlineKeyboardMarkup:
    kernen = []
    for index, kern in enumerate(context.config.municipality.kernen):
        mark = OWN if kern == user.kern else FOLLOWED if kern in following.kernen else ""
        kernen.append((f"{mark} {kern}".strip(), TOGGLE.build("k", index)))
    rows = grid(kernen)
    for index, topic in enumerate(main_topics(context)):
        mark = FOLLOWED if topic.key in following.topics else ""
        rows.append([(f"{mark} {topic.name(t.language)}".strip(), TOGGLE.build("t", index))])
    rows.append([(t("volg.button_done"), DONE.build())])
    return keyboard(rows)


def _intro(t: Translator, user: User, following: Following) -> str:
    text = t("volg.intro", kern=user.kern)
    return "\n\n".join((text, t("volg.muted_note"))) if following.muted else text


@requires_resident
async def follow(update: Update, context: BotContext, user: User, t: Translator) -> None:
    following = await context.services.following.of(user.id)
    await update.effective_message.reply_text(
        _intro(t, user, following), reply_markup=follow_keyboard(context, user, t, following)
    )


@requires_resident
async def toggle(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """A press on a kern or topic: follow or unfollow it, and redraw the buttons."""
    query = update.callback_query
    kind, index = TOGGLE.parse(query.data)
    choices = (
        context.config.municipality.kernen if kind == "k" else [m.key for m in main_topics(context)]
    )
    if index >= len(choices):
        await refuse_press(update, context)
        return
    value = choices[index]
    if kind == "k" and value == user.kern:
        await query.answer(t("volg.own_kern"))
        return
    follow_kind = FollowKind.KERN if kind == "k" else FollowKind.TOPIC
    now_following = await context.services.following.toggle(user.id, follow_kind, value)
    name = value if kind == "k" else main_topics(context)[index].name(t.language)
    await query.answer(t("volg.on" if now_following else "volg.off", name=name))
    following = await context.services.following.of(user.id)
    await query.edit_message_reply_markup(reply_markup=follow_keyboard(context, user, t, following))


@requires_resident
async def done(update: Update, context: BotContext, user: User, t: Translator) -> None:
    await press_done(update)
    following = await context.services.following.of(user.id)
    names = [user.kern or ""]
    names += [k for k in context.config.municipality.kernen if k in following.kernen]
    names += [m.name(t.language) for m in main_topics(context) if m.key in following.topics]
    text = t("volg.summary", followed=", ".join(names))
    if following.muted:
        text = "\n\n".join((text, t("volg.muted_note")))
    await update.effective_message.reply_text(text)


@requires_resident
async def mute(update: Update, context: BotContext, user: User, t: Translator) -> None:
    """/stil switches announcements off, and on again the next time."""
    muted = not (await context.services.following.of(user.id)).muted
    await context.services.following.set_muted(user.id, muted)
    await update.effective_message.reply_text(t("stil.on" if muted else "stil.off"))


def register(application: BotApplication) -> None:
    application.add_handlers(
        [
            CommandHandler(commands("volgen"), follow),
            CommandHandler("stil", mute),
            TOGGLE.handler(toggle),
            DONE.handler(done),
        ]
    )
