"""The reports' daily job: Revenue's figures worked out overnight for the days that changed
during the day, so the first report of the morning reads them at once (and the marks the
day's changes left do not pile up in a practice nobody reads the report of)."""

from __future__ import annotations

from datetime import date, time

from practice.models import Practice

from .selectors.revenue import revenue_refresh

REVENUE_FIGURES_AT = time(4, 0)


def revenue_figures_job(practice: Practice, local_date: date) -> dict[str, int]:
    worked = revenue_refresh(practice)
    if worked < 0:
        return {"every_day_worked_out": 1}
    return {"days_worked_out": worked}
