"""Billing's daily jobs, run by practice.jobs' scheduler in each practice's own time zone:

- Invoice creation, at the local midnight that ends each run day of the practice's
  setting (Settings > Invoice creation);
- Invoice reminders, at 09:00 local: the reminders the rules send that day;
- Overdue invoices, at 00:00 local: the day's count of invoices that became overdue
  ("overdue" itself is derived from the due date and the local date, so an invoice shows
  Overdue from that midnight whether or not the job has run).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from practice.jobs import JobPartlyFailed
from practice.models import Practice

from .selectors import overdue_on
from .services import (
    invoice_creation_due,
    invoice_creation_next_day,
    invoice_creation_run,
    invoice_creation_setting,
    invoice_reminders_send_due,
)

# Reminders go out in the morning of the practice's day, not at midnight.
REMINDERS_AT = time(9, 0)
OVERDUE_AT = time(0, 0)


def invoice_creation_day(practice: Practice, local_now: datetime) -> date | None:
    """Invoice creation runs once a practice's day has ended: from local midnight, for the
    day before, when the practice's setting makes that day a run day.

    Only a setting already in place at that midnight counts: the scheduler also asks about
    days missed while it was down (practice.jobs' catch-up), and a cadence turned on or
    changed since must not reach back and invoice, one day at a time, the days it did not
    cover (turning Daily on would otherwise make three invoices per client at once)."""
    setting = invoice_creation_setting(practice)
    if setting.pk is None:
        return None
    run_at = datetime.combine(local_now.date(), time.min, tzinfo=practice.tzinfo)
    if setting.updated_at > run_at:
        return None
    yesterday = local_now.date() - timedelta(days=1)
    return yesterday if invoice_creation_due(practice, yesterday, setting) else None


def invoice_creation_next_run(practice: Practice, local_now: datetime) -> datetime | None:
    """The local midnight that ends the next run day (today's, if today is one); None when
    invoice creation is off."""
    day = invoice_creation_next_day(practice, local_now.date())
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=practice.tzinfo)


def invoice_creation_job(practice: Practice, local_date: date) -> dict[str, int]:
    return invoice_creation_run(practice=practice, local_date=local_date)


def invoice_reminders_job(practice: Practice, local_date: date) -> dict[str, int]:
    """Send the day's reminders. When some failed, the run is recorded failed with its
    counts and errors, and a later tick tries the day again: it sends only what is left."""
    outcome = invoice_reminders_send_due(practice=practice, local_date=local_date)
    if outcome.failed:
        shown = "; ".join(outcome.errors[:5])
        more = f" (and {len(outcome.errors) - 5} more)" if len(outcome.errors) > 5 else ""
        raise JobPartlyFailed(f"{outcome.failed} reminder(s) failed: {shown}{more}", outcome.counts)
    return outcome.counts


def overdue_invoices_job(practice: Practice, local_date: date) -> dict[str, int]:
    return overdue_on(practice, local_date)
