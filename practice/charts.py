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
