"""The /stats chart: initiatives per kern over time, and questions per topic, as one PNG."""

from __future__ import annotations

from io import BytesIO

import matplotlib

matplotlib.use("Agg")  # no display on a server; must come before pyplot
import matplotlib.pyplot as plt

from bot.i18n import Translator
from bot.services.stats import Stats, monthly_series


def stats_png(stats: Stats, t: Translator) -> bytes:
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=100)
    try:
        months, series = monthly_series(stats)
        bottom = [0] * len(months)
        for kern, counts in sorted(series.items()):
            left.bar(months, counts, bottom=bottom, label=kern)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        left.set_title(t("stats.chart_initiatives"))
        left.tick_params(axis="x", labelrotation=45)
        if series:
            left.legend(fontsize="small")
        topics = stats.questions_by_topic.most_common(10)
        right.barh([name for name, _ in topics][::-1], [n for _, n in topics][::-1])
        right.set_title(t("stats.chart_questions"))
        figure.tight_layout()
        buffer = BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
