"""Billing's daily jobs, run by practice.jobs' scheduler in each practice's own time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from practice.models import Practice

from .services import invoice_creation_due, invoice_creation_run


def invoice_creation_day(practice: Practice, local_now: datetime) -> date | None:
    """Invoice creation runs once a practice's day has ended: from local midnight, for the
    day before, when the practice's setting makes that day a run day."""
    yesterday = local_now.date() - timedelta(days=1)
    return yesterday if invoice_creation_due(practice, yesterday) else None


def invoice_creation_job(practice: Practice, local_date: date) -> dict[str, int]:
    return invoice_creation_run(practice=practice, local_date=local_date)
