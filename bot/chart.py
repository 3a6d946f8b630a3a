"""The /stats chart as one PNG: initiatives over time per kern and per topic, then initiatives
and questions per topic. And a poll's result (/peiling) as bars per choice."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Callable
from io import BytesIO

import matplotlib

matplotlib.use("Agg")  # no display on a server; must come before pyplot
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from bot.i18n import Translator
from bot.services.stats import Stats, monthly_series

# Eleven topics (ten main topics and "unknown") need more than the ten default colours.
_COLOURS = plt.get_cmap("tab20").colors


def stats_png(stats: Stats, t: Translator, topic_name: Callable[[str], str]) -> bytes:
    """`topic_name` gives a topic key's name in the reader's language."""
    # Over time on full-width rows, with room for a legend of eleven topics beside the bars;
    # the totals per topic side by side below. Constrained layout keeps long names readable.
    figure, panels = plt.subplot_mosaic(
        [["kernen", "kernen"], ["topics", "topics"], ["ideas", "questions"]],
        figsize=(12, 13),
        dpi=100,
        layout="constrained",
    )
    try:
        _over_time(panels["kernen"], stats.initiatives_by_month, str)
        panels["kernen"].set_title(t("stats.chart_initiatives"))
        _over_time(panels["topics"], stats.initiatives_by_month_topic, topic_name)
        panels["topics"].set_title(t("stats.chart_initiatives_topic"))
        _per_topic(panels["ideas"], stats.initiatives_by_topic, topic_name)
        panels["ideas"].set_title(t("stats.chart_initiatives_per_topic"))
        _per_topic(panels["questions"], stats.questions_by_topic, topic_name)
        panels["questions"].set_title(t("stats.chart_questions"))
        buffer = BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _over_time(axes: Axes, by_month: dict[str, Counter[str]], name: Callable[[str], str]) -> None:
    """Stacked bars per month, one colour per kern or topic."""
    months, series = monthly_series(by_month)
    bottom = [0] * len(months)
    for n, (key, counts) in enumerate(sorted(series.items(), key=lambda kv: name(kv[0]))):
        axes.bar(months, counts, bottom=bottom, label=name(key), color=_COLOURS[n % 20])
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.tick_params(axis="x", labelrotation=45)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if series:
        # Beside the bars, not over them: there may be eleven topics.
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _per_topic(axes: Axes, counts: Counter[str], name: Callable[[str], str]) -> None:
    """Horizontal bars, the largest on top."""
    top = counts.most_common(11)[::-1]
    axes.barh([name(key) for key, _ in top], [n for _, n in top])
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))


def poll_png(question: str, labels: list[str], counts: list[int], t: Translator) -> bytes:
    """A poll's result (/peiling): one horizontal bar per choice, in the poll's order from the
    top, each with its count and share of the answers."""
    total = sum(counts)
    # A "$" would start matplotlib's maths notation.
    question, labels = question.replace("$", r"\$"), [label.replace("$", r"\$") for label in labels]
    height = 1.6 + 0.6 * len(labels)
    figure, axes = plt.subplots(figsize=(8, height), dpi=100, layout="constrained")
    try:
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, counts, color=_COLOURS[0])
        axes.set_yticks(positions, [textwrap.fill(label, 24) for label in labels])
        for position, count in zip(positions, counts, strict=True):
            share = f"{count} ({round(100 * count / total)}%)" if total else "0"
            axes.annotate(
                share,
                (count, position),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
            )
        axes.set_xlim(0, max([*counts, 1]) * 1.25)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(t("poll.chart_axis", count=total))
        axes.set_title(textwrap.fill(question, 70), fontsize="medium")
        buffer = BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
