"""/stats for moderators: what Burgerbeest achieves, in figures and a chart."""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.ext import CommandHandler

from bot.app import BotApplication, BotContext
from handlers.common import moderator


async def stats(update: Update, context: BotContext) -> None:
    """Figures in one message, then the chart as a photo."""
    from bot.chart import stats_png  # matplotlib costs 0.4 s to import: only when asked

    user, t = await moderator(update, context)
    if user is None:
        return
    figures = await context.services.stats.compute()
    median = figures.median_response_working_days
    await update.effective_message.reply_text(
        t(
            "stats.text",
            initiatives=figures.initiatives,
            kernen=", ".join(f"{k} {n}" for k, n in figures.initiatives_by_kern.most_common())
            or "—",
            supporters=figures.supporters,
            asked=figures.introductions_asked,
            accepted=figures.introductions_accepted,
            questions=figures.questions,
            open=figures.questions_open,
            topics=", ".join(f"{k} {n}" for k, n in figures.questions_by_topic.most_common(5))
            or "—",
            median="—" if median is None else f"{median:.1f}",
            missed=figures.deadlines_missed,
        )
    )
    await update.effective_message.reply_photo(
        InputFile(stats_png(figures, t), filename="burgerbeest-stats.png"),
        caption=t("stats.chart_caption"),
    )


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("stats", stats))
