"""/stats for moderators: what Burgerbeest achieves, in figures and a chart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from babel.numbers import format_decimal
from telegram import InputFile, Update
from telegram.ext import CommandHandler

from bot.i18n import Markup, Translator
from bot.services.stats import UNKNOWN, Stats
from handlers.common import moderator
from handlers.context import BotApplication, BotContext

# The biggest main topics whose ideas are broken down per subtopic in the text (read on a
# phone); the export has every subtopic.
SUBTOPIC_BREAKDOWNS = 3


def _answer_time(t: Translator, median: float | None) -> str:
    """The median as people say it: "half of the questions within 1.5 working days"."""
    if median is None:
        return t("stats.median_none")
    days = round(median, 1)
    shown = format_decimal(days, format="0.#", locale=t.language)
    return t.plural("stats.median", 1 if days == 1 else 2, days=shown)


def _topic_namer(context: BotContext, t: Translator) -> Callable[[str], str]:
    """A topic key's name in the reader's language; a key the taxonomy no longer has as is."""
    taxonomy = context.services.questions.taxonomy

    def name(key: str) -> str:
        topic = taxonomy.get(key)
        if topic is not None:
            return topic.name(t.language)
        return t("stats.topic_unknown") if key == UNKNOWN else key

    return name


def _counts(counts: Counter[str], name: Callable[[str], str]) -> str:
    return ", ".join(f"{name(key)} {n}" for key, n in counts.most_common()) or "—"


def _short(name: str) -> str:
    """A subtopic's name without its examples: "Groen in de buurt (geveltuinen, …)" → "Groen in
    de buurt"."""
    return name.split(" (", 1)[0]


def _subtopics(figures: Stats, name: Callable[[str], str], t: Translator) -> str:
    """One line per big main topic with ideas stored under its subtopics: how many under each,
    and how many known no further than the main topic; "" when there are none."""
    lines = []
    for main, _ in figures.initiatives_by_topic.most_common():
        within = figures.initiatives_by_subtopic.get(main, Counter())
        if not any("/" in key for key in within):
            continue
        # Most first; those without a subtopic last.
        ranked = sorted(within.items(), key=lambda kv: (kv[0] == main, -kv[1], kv[0]))
        counts = ", ".join(
            f"{t('stats.subtopic_none') if key == main else _short(name(key))} {n}"
            for key, n in ranked
        )
        lines.append("\n" + t("stats.idea_subtopics", topic=name(main), subtopics=counts))
        if len(lines) == SUBTOPIC_BREAKDOWNS:
            break
    return "".join(lines)


async def stats(update: Update, context: BotContext) -> None:
    """Figures in one message, then the chart as a photo."""
    from bot.chart import stats_png  # matplotlib costs 0.4 s to import: only when asked

    user, t = await moderator(update, context)
    if user is None:
        return
    figures = await context.services.stats.compute()
    median = figures.median_response_working_days
    topic_name = _topic_namer(context, t)
    await update.effective_message.reply_text(
        t(
            "stats.text",
            initiatives=figures.initiatives,
            kernen=_counts(figures.initiatives_by_kern, str),
            idea_topics=_counts(figures.initiatives_by_topic, topic_name),
            idea_subtopics=Markup(_subtopics(figures, topic_name, t)),  # rendered by t()
            supporters=figures.supporters,
            asked=figures.introductions_asked,
            accepted=figures.introductions_accepted,
            questions=figures.questions,
            open=figures.questions_open,
            topics=_counts(figures.questions_by_topic, topic_name),
            median=Markup(_answer_time(t, median)),  # rendered by t()
            missed=figures.deadlines_missed,
        )
    )
    await update.effective_message.reply_photo(
        InputFile(stats_png(figures, t, topic_name), filename="burgerbeest-stats.png"),
        caption=t("stats.chart_caption"),
    )


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("stats", stats))
