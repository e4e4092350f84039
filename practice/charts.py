"""Server-drawn SVG charts (no JavaScript): the geometry the templates draw."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .dates import day_label
from .models import Practice
from .money import practice_money

WIDTH = 640
HEIGHT = 220
LEFT = 8  # room at the left edge
BOTTOM = 24  # room for the week labels
TOP = 8
SERIES = ("billed", "collected")


def weekly_bars(practice: Practice, weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """Two bars a week (billed, collected), scaled to the largest figure, and the same
    figures as table rows for screen readers. ``weeks`` is oldest first, each a dict with
    "monday", "billed" and "collected"."""
    top = max([w[name] for w in weeks for name in SERIES] + [Decimal("0")])
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(weeks), 1)
    bar = slot * 0.36
    columns = []
    for n, week in enumerate(weeks):
        x = LEFT + n * slot + slot * 0.12
        bars = []
        for k, name in enumerate(SERIES):
            value: Decimal = week[name]
            height = float(value / top) * plot_height if top else 0.0
            bars.append(
                {
                    "series": name,
                    "x": round(x + k * bar, 1),
                    "y": round(TOP + plot_height - height, 1),
                    "width": round(bar, 1),
                    "height": round(height, 1),
                }
            )
        monday: date = week["monday"]
        columns.append(
            {
                "bars": bars,
                "label": f"{monday:%-d %b}",
                "label_x": round(x + bar, 1),
                "week": day_label(monday),
                "billed": practice_money(practice, week["billed"]),
                "collected": practice_money(practice, week["collected"]),
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "baseline": HEIGHT - BOTTOM,
        "label_y": HEIGHT - 6,
        "columns": columns,
        "top": practice_money(practice, top),
    }


# --- bar charts of the reports ------------------------------------------------------------
# Each series has a fill of its own that differs in pattern as well as colour (solid,
# hatched, dotted, cross-hatched), and the legend shows the same swatches, so the chart
# reads in greyscale, in print and to someone who does not tell the colours apart.
PATTERNS = ("solid", "hatch", "dots", "cross")
CHART_WIDTH = 640
CHART_HEIGHT = 260
CHART_TOP = 30  # room for the amounts above the bars
CHART_BOTTOM = 32  # room for the group labels
CHART_SIDE = 24  # room for the first and last labels
# Above this many groups only every few labels are written, so they do not overlap; on a
# phone (the labels larger against the bars) every other one of those is hidden too.
MAX_LABELS = 12
MINOR_FROM = 6


def bar_chart(
    practice: Practice,
    *,
    chart_id: str,
    series: list[tuple[str, str]],
    groups: list[tuple[str, dict[str, Decimal]]],
    value_labels: bool = False,
) -> dict[str, Any]:
    """Bars side by side for each group, one per series, scaled to the largest figure
    (negative figures draw as nothing). ``series`` is (key, label) pairs; ``groups`` is
    (label, {key: amount}) oldest or first first. With ``value_labels`` each bar carries
    its amount above it (for a few wide bars). ``chart_id`` keeps the patterns' ids
    unique on a page of several charts."""
    zero = Decimal("0")
    top = max([max(values.get(key, zero), zero) for _label, values in groups for key, _ in series] + [zero])
    plot_height = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    slot = (CHART_WIDTH - 2 * CHART_SIDE) / max(len(groups), 1)
    bar = slot * 0.8 / max(len(series), 1)
    every = max(1, -(-len(groups) // MAX_LABELS))  # ceiling division
    legend = []
    for n, (key, label) in enumerate(series):
        pattern = PATTERNS[n % len(PATTERNS)]
        legend.append({"key": key, "label": label, "pattern": pattern, "fill": f"url(#{chart_id}-{pattern})"})
    columns = []
    for n, (label, values) in enumerate(groups):
        left = CHART_SIDE + n * slot + slot * 0.1
        bars = []
        for k, (entry, (key, _label)) in enumerate(zip(legend, series, strict=True)):
            amount = values.get(key, zero)
            value = max(amount, zero)
            height = float(value / top) * plot_height if top else 0.0
            bar_x = left + k * bar
            bars.append(
                {
                    "series": key,
                    "fill": entry["fill"],
                    "x": round(bar_x, 1),
                    "y": round(CHART_TOP + plot_height - height, 1),
                    "width": round(bar * 0.92, 1),
                    "height": round(height, 1),
                    "text": practice_money(practice, amount) if value_labels else "",
                    "text_x": round(bar_x + bar * 0.46, 1),
                    "text_y": round(CHART_TOP + plot_height - height - 4, 1),
                }
            )
        shown = n // every if n % every == 0 else None
        columns.append(
            {
                "label": label if shown is not None else "",
                "minor": shown is not None and len(groups) // every > MINOR_FROM and shown % 2 == 1,
                "label_x": round(left + slot * 0.4, 1),
                "bars": bars,
            }
        )
    return {
        "id": chart_id,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": CHART_HEIGHT - CHART_BOTTOM,
        "label_y": CHART_HEIGHT - 7,
        "legend": legend,
        "columns": columns,
        "top": practice_money(practice, top),
    }
