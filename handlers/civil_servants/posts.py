"""/wistjedat: a civil servant writes a "Wist je dat…" post, picks the topic and/or kern it is
for, sees it exactly as residents will, and submits it for review; and the weekly news as a
resident reads it (rendered by handlers/dispatch.py at send time).

What is stored and decided is bot/services/posts.py; moderators review in /wachtrij
(handlers/moderators/moderation.py). Every step checks that the person is still a civil servant.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ConversationHandler

from bot.i18n import Markup, Translator, translator
from bot.routing import Topic
from bot.routing.keys import main_topic
from bot.services.posts import TEXT_MAX, News
from handlers.callbacks import Button
from handlers.common import (
    after_storing,
    conversation,
    keyboard,
    press_done,
    refuse_outsider,
    send_to,
    speaker,
    stale_button,
    text_step,
    typed_answer,
)
from handlers.context import BotApplication, BotContext
from handlers.residents.following import main_topics
from handlers.steps import cancel_with, closing, grid, otherwise, saying
from models import Role, User

TEXT, TOPIC, KERN, PREVIEW = range(4)
DRAFT = "post_draft"  # user_data: {"text", "topic", "kern"} while the post is written
# Telegram allows 4,096 characters; measured on the HTML, which is never shorter than the text.
NEWS_MAX = 3900

TOPIC_PICK = Button("post:t", (int, "none"))  # a main topic's place in the taxonomy, or none
KERN_PICK = Button("post:k", (int, "all"))  # a kern's place in the config's list, or all of them
SUBMIT = Button("post:send")
REWRITE = Button("post:again")
DROP = Button("post:drop")


# --- what residents read ----------------------------------------------------------------


def post_text(
    t: Translator, text: str, author: str | None, department: str | None, municipality: str
) -> str:
    """One post as it stands in a resident's weekly news."""
    if author:
        return t("post.item", text=text, author=author, department=department or "")
    return t("post.item_unsigned", text=text, municipality=municipality)


def news_text(t: Translator, news: News, municipality: str) -> str:
    """A resident's weekly news: posts first, then what happened to initiatives; whatever
    does not fit in one message is counted in the last line."""
    head = t("news.header", week=news.week)
    footer = t("news.footer")
    reserve = len(footer) + 200  # room for the "and N more" line
    parts = [head]
    size = len(head)
    left_out = news.more
    for post in news.posts:
        block = post_text(t, post.text, post.author, post.department, municipality)
        if size + len(block) + 2 > NEWS_MAX - reserve:
            left_out += 1
            continue
        parts.append(block)
        size += len(block) + 2
    lines: list[str] = []
    for change in news.changes:
        if change.new:
            line = t("news.new", title=change.title, kern=change.kern, number=change.number)
        else:
            status = t(f"status.{change.status.value}")
            line = t(
                "news.change",
                title=change.title,
                kern=change.kern,
                status=status,
                number=change.number,
            )
        if size + len(line) + 1 > NEWS_MAX - reserve:
            left_out += 1
            continue
        lines.append(line)
        size += len(line) + 1
    if lines:
        parts.append("\n".join([t("news.changes_header"), *lines]))
    if left_out:
        parts.append(t.plural("news.more", left_out))
    parts.append(footer)
    return "\n\n".join(parts)


# --- writing a post ----------------------------------------------------------------------


async def _author(update: Update, context: BotContext) -> tuple[User | None, Translator]:
    """The civil servant behind the update, or None after a clear refusal."""
    user, t = await speaker(update, context)
    if user is not None and user.role is Role.CIVIL_SERVANT:
        return user, t
    await refuse_outsider(update, context, t("post.only_civil_servants"))
    return None, t


def _draft(context: BotContext) -> dict[str, Any]:
    return context.user_data.setdefault(DRAFT, {})


def _audience(context: BotContext, t: Translator, topic: str | None, kern: str | None) -> str:
    names = {topic.key: topic.name(t.language) for topic in main_topics(context)}
    if topic and kern:
        return t("post.for_both", topic=names.get(topic, topic), kern=kern)
    if topic:
        return t("post.for_topic", topic=names.get(topic, topic))
    return t("post.for_kern", kern=kern)


async def start(update: Update, context: BotContext) -> int:
    """/wistjedat: ask for the text."""
    user, t = await _author(update, context)
    if user is None:
        return ConversationHandler.END
    context.user_data[DRAFT] = {}
    await update.effective_message.reply_text(t("post.ask_text", limit=TEXT_MAX))
    return TEXT


async def take_text(update: Update, context: BotContext) -> int:
    """The text; ask which topic it is about, the civil servant's own topics first."""
    user, t = await _author(update, context)
    if user is None:
        return ConversationHandler.END
    text = await typed_answer(update, t, TEXT_MAX, too_long="post.too_long")
    if text is None:
        return TEXT
    _draft(context)["text"] = text
    profile = await context.services.posts.author_profile(user.id)
    own = {main_topic(key) for key in (profile.topics if profile else [])}
    topics: list[tuple[int, Topic]] = list(enumerate(main_topics(context)))
    topics.sort(key=lambda pair: pair[1].key not in own)  # stable: the taxonomy's order
    rows = [[(topic.name(t.language), TOPIC_PICK.build(n))] for n, topic in topics]
    rows.append([(t("post.no_topic"), TOPIC_PICK.build("none"))])
    await update.effective_message.reply_text(t("post.ask_topic"), reply_markup=keyboard(rows))
    return TOPIC


async def take_topic(update: Update, context: BotContext) -> int | None:
    """The topic (or none); ask for the kern."""
    user, t = await _author(update, context)
    if user is None:
        return ConversationHandler.END
    value = TOPIC_PICK.one(update.callback_query.data)
    topics = main_topics(context)
    if value != "none" and value >= len(topics):
        await stale_button(update, context)
        return None
    topic = None if value == "none" else topics[value].key
    _draft(context)["topic"] = topic
    await press_done(update)
    rows = grid(
        [(kern, KERN_PICK.build(n)) for n, kern in enumerate(context.config.municipality.kernen)]
    )
    # Without a topic the post needs a kern: otherwise it is for nobody in particular.
    if topic is not None:
        rows.insert(0, [(t("post.all_kernen"), KERN_PICK.build("all"))])
    await update.effective_message.reply_text(
        t("post.ask_kern" if topic else "post.ask_kern_required"), reply_markup=keyboard(rows)
    )
    return KERN


async def take_kern(update: Update, context: BotContext) -> int | None:
    """The kern (or all of them); show the post exactly as residents will read it."""
    user, t = await _author(update, context)
    if user is None:
        return ConversationHandler.END
    draft = _draft(context)
    value = KERN_PICK.one(update.callback_query.data)
    kernen = context.config.municipality.kernen
    one = value != "all" and value < len(kernen)
    valid = one or (value == "all" and draft.get("topic"))
    if not valid or not draft.get("text"):
        await stale_button(update, context)
        return None
    draft["kern"] = None if value == "all" else kernen[value]
    await press_done(update)
    await _preview(update, context, user, t)
    return PREVIEW


async def _preview(update: Update, context: BotContext, user: User, t: Translator) -> None:
    draft = _draft(context)
    profile = await context.services.posts.author_profile(user.id)
    municipality = context.config.municipality.name
    name, department = (profile.name, profile.department) if profile else (None, None)
    message = update.effective_message
    await message.reply_text(t("post.preview_intro"))
    await message.reply_text(post_text(t, draft["text"], name, department, municipality))
    buttons = keyboard(
        [
            [(t("post.button_submit"), SUBMIT.build())],
            [(t("post.button_rewrite"), REWRITE.build()), (t("post.button_drop"), DROP.build())],
        ]
    )
    audience = _audience(context, t, draft.get("topic"), draft.get("kern"))
    await message.reply_text(t("post.confirm", audience=Markup(audience)), reply_markup=buttons)


async def submit(update: Update, context: BotContext) -> int | None:
    """Store it for review; the moderators hear that a post waits in /wachtrij."""
    user, t = await _author(update, context)
    if user is None:
        return ConversationHandler.END
    draft = context.user_data.get(DRAFT) or {}
    post = await context.services.posts.submit(
        user.id, draft.get("text", ""), draft.get("topic"), draft.get("kern")
    )
    if post is None:
        await stale_button(update, context)
        return None
    context.user_data.pop(DRAFT, None)
    async with after_storing(update, context):
        await press_done(update)
        await update.effective_message.reply_text(t("post.submitted"))
    async with after_storing(update, context):  # whatever became of that answer
        for reviewer in await context.services.civil_servants.moderators():
            notice = translator(reviewer.language)("post.moderator_notice")
            await send_to(context, reviewer, notice)
    return ConversationHandler.END


async def rewrite(update: Update, context: BotContext) -> int:
    user, t = await _author(update, context)
    if user is None:
        return ConversationHandler.END
    await press_done(update)
    context.user_data[DRAFT] = {}
    await update.effective_message.reply_text(t("post.ask_text", limit=TEXT_MAX))
    return TEXT


# /annuleer, or Weggooien under the preview: the post is not submitted.
drop = closing("post.cancelled", DRAFT)
use_buttons = saying("post.use_buttons")


def post_conversation() -> ConversationHandler:
    return conversation(
        name="posts",
        persistent=True,
        entry_points=[CommandHandler("wistjedat", start)],
        states={
            TEXT: [text_step(take_text)],
            TOPIC: [TOPIC_PICK.handler(take_topic)],
            KERN: [KERN_PICK.handler(take_kern)],
            PREVIEW: [SUBMIT.handler(submit), REWRITE.handler(rewrite)],
        },
        fallbacks=[
            cancel_with(drop),
            CommandHandler("wistjedat", start),
            DROP.handler(drop),
            otherwise(use_buttons),
        ],
    )


def register(application: BotApplication) -> None:
    application.add_handler(post_conversation())
