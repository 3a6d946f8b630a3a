"""The /stats chart as one PNG: initiatives over time per kern and per topic, then initiatives
and questions per topic."""

from __future__ import annotations

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
