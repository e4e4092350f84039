"""Dates people type or put in a URL: the range the app supports, and how far ahead
payment, invoice and appointment dates may be.

Python's dates stop at 0001-01-01 and 9999-12-31: a week view, a day's end in UTC or
the next page's link computed from a date near either end raises OverflowError (a 500).
Dates in URLs and filters are therefore held to SUPPORTED_FIRST..SUPPORTED_LAST (a 404
or a field error outside it), far from both ends, and dates that record money or book
time have the tighter limits below.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language

SUPPORTED_FIRST = date(1900, 1, 1)
SUPPORTED_LAST = date(2999, 12, 31)
# Nothing this app records happened before it (and a year typed as 0024 is a typo).
EARLIEST_RECORD_DATE = date(2000, 1, 1)
APPOINTMENT_YEARS = 10

DATE_UNSUPPORTED = "Enter a date between 1900 and 2999."
DATE_TOO_EARLY = "Enter a date on or after 1 January 2000."
DATE_IN_FUTURE = "Enter a date no later than today."
DATE_TOO_FAR_AHEAD = "Enter a date at most {days} days after today (up to {latest})."
APPOINTMENT_TOO_FAR = "Choose a date within 10 years of today."


def is_supported(value: date) -> bool:
    return SUPPORTED_FIRST <= value <= SUPPORTED_LAST


def validate_supported_date(value: object) -> None:
    if isinstance(value, date) and not is_supported(value):
        raise ValidationError(DATE_UNSUPPORTED, code="unsupported")


def supported_date_fields(form: forms.BaseForm, names: tuple[str, ...] | None = None) -> None:
    """Give the DateFields of ``form`` (or ``names``) a field error outside the supported range."""
    for name, field in form.fields.items():
        wanted = isinstance(field, forms.DateField) and (names is None or name in names)
        if wanted and validate_supported_date not in field.validators:
            field.validators.append(validate_supported_date)


def url_date(raw: Any, default: date) -> date:
    """A date from a URL parameter: ``default`` when missing or unreadable, a 404 when it is
    a real date outside the supported range (no page exists there)."""
    try:
        value = date.fromisoformat(str(raw)) if raw else default
    except ValueError:
        return default
    if not is_supported(value):
        raise Http404("No calendar for that date.")
    return value


def record_date_problem(value: date, *, today: date, max_future_days: int) -> str | None:
    """Why ``value`` cannot be a payment's or an invoice's date (None when it can): not
    before 2000-01-01, at most ``max_future_days`` after ``today`` (the practice's setting)."""
    if value < EARLIEST_RECORD_DATE:
        return DATE_TOO_EARLY
    latest = today + timedelta(days=max_future_days)
    if value > latest:
        if max_future_days == 0:
            return DATE_IN_FUTURE
        return DATE_TOO_FAR_AHEAD.format(days=max_future_days, latest=latest.isoformat())
    return None


def appointment_date_problem(value: date, *, today: date) -> str | None:
    """Appointments are booked within 10 years either side of ``today``."""
    try:
        first = today.replace(year=today.year - APPOINTMENT_YEARS)
        last = today.replace(year=today.year + APPOINTMENT_YEARS)
    except ValueError:  # 29 February
        first = (today - timedelta(days=1)).replace(year=today.year - APPOINTMENT_YEARS)
        last = (today - timedelta(days=1)).replace(year=today.year + APPOINTMENT_YEARS)
    return None if first <= value <= last else APPOINTMENT_TOO_FAR


def day_label(value: date | None) -> str:
    """``value`` as the tables print a day ("3 Nov 2026") in the active language; a
    datetime is first put in the current time zone (the practice's on staff pages). Each
    (day, language) is formatted once: Django's date_format costs tens of microseconds,
    and a list of a hundred rows holds a few dozen distinct days."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return _day_labels(value, get_language())


@lru_cache(maxsize=4096)
def _day_labels(day: date, language: str | None) -> str:
    return date_format(day, "j M Y")
