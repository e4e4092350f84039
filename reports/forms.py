"""The filters every report shares: a date range (typed, or a preset such as This month)
and, for those who see the whole practice, a clinician.

A report runs only on filters that make sense: From after To, a date that cannot be read,
a range over five years or a clinician from elsewhere gets a message by the field and no
figures at all, never figures for some other range.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.db.models import QuerySet

from practice.access import SCHEDULING_ROLES
from practice.dates import validate_supported_date
from practice.forms import ModelChoiceField
from practice.models import Membership, Practice, User

DATE_UNREADABLE = "Enter a date as YYYY-MM-DD, for example 2025-03-31."
DATE_ORDER = "The From date is after the To date."
RANGE_TOO_LONG = "Choose a range of at most 5 years."
BOTH_DATES = "Enter both a From and a To date, or pick a period."
CLINICIAN_UNKNOWN = "Choose a clinician from the list."
MAX_YEARS = 5


@dataclass(frozen=True)
class Period:
    """The days a report covers, both included; ``start`` and ``end`` are None for "all"
    (the reports of what is owed now, limited to invoices issued in the range)."""

    start: date | None
    end: date | None

    @property
    def is_all(self) -> bool:
        return self.start is None and self.end is None

    def months(self) -> list[date]:
        """The first day of every month the period touches, oldest first."""
        if self.start is None or self.end is None:
            return []
        month, last, found = self.start.replace(day=1), self.end.replace(day=1), []
        while month <= last:
            found.append(month)
            month += relativedelta(months=1)
        return found


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def presets(today: date, *, with_all: bool) -> list[tuple[str, str, Period]]:
    """The quick ranges offered above a report: (key, label, period)."""
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    found = [
        ("this_month", "This month", Period(first, _month_end(today))),
        ("last_month", "Last month", Period(last_month_end.replace(day=1), last_month_end)),
        ("last_12_months", "Last 12 months", Period(first - relativedelta(months=11), _month_end(today))),
        ("this_year", "This year", Period(date(today.year, 1, 1), date(today.year, 12, 31))),
        ("last_year", "Last year", Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))),
    ]
    if with_all:
        found.insert(0, ("all", "All open invoices", Period(None, None)))
    return found


def report_clinicians(practice: Practice) -> QuerySet[User]:
    """Whoever may hold a session in the practice (owners and admins may): the clinician filter's choices."""
    return User.objects.filter(
        memberships__practice=practice,
        memberships__role__in=SCHEDULING_ROLES,
        memberships__is_active=True,
    ).order_by("first_name", "last_name", "pk")


class ClinicianField(ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_UNREADABLE},
        validators=[validate_supported_date],
    )


class ReportFilterForm(forms.Form):
    """From, To and (for those who see the practice) Clinician.

    ``needs_range``: the report sums a period (Revenue, Payments), so both dates are needed;
    with neither given it runs on ``default``. Otherwise (Aging, Balances) either may be
    left empty, and ``default`` is every open invoice."""

    date_from = _date_field("From")
    date_to = _date_field("To")
    clinician = ClinicianField(
        label="Clinician",
        queryset=User.objects.none(),
        required=False,
        empty_label="All clinicians",
        error_messages={"invalid_choice": CLINICIAN_UNKNOWN},
    )

    def __init__(self, data: Any, *, membership: Membership, default: Period, needs_range: bool, **kwargs: Any) -> None:
        # A first visit (no filters at all) runs on the report's default period.
        given = {k: v for k, v in data.items() if k in ("date_from", "date_to", "clinician")}
        if not given:
            data = {
                "date_from": default.start.isoformat() if default.start else "",
                "date_to": default.end.isoformat() if default.end else "",
            }
        super().__init__(data, **kwargs)
        self.default = default
        self.needs_range = needs_range
        self.membership = membership
        if membership.sees_all_clients:
            self.fields["clinician"].queryset = report_clinicians(membership.practice)  # type: ignore[attr-defined]
        else:
            # A clinician's reports are their own: there is nobody else to choose.
            del self.fields["clinician"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if "date_from" in self.errors or "date_to" in self.errors:
            return cleaned
        if self.needs_range and not start and not end:
            start, end = self.default.start, self.default.end
            cleaned["date_from"], cleaned["date_to"] = start, end
        if self.needs_range and (not start or not end):
            self.add_error("date_from" if not start else "date_to", BOTH_DATES)
        elif start and end and start > end:
            self.add_error("date_to", DATE_ORDER)
        elif start and end and end >= start + relativedelta(years=MAX_YEARS):
            self.add_error("date_to", RANGE_TOO_LONG)
        return cleaned

    @property
    def period(self) -> Period:
        """The period asked for; only once the form is valid."""
        return Period(self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to"))

    def clinician_id(self) -> int | None:
        """Whose figures: a clinician's own always; else the one chosen, or None for the practice."""
        if not self.membership.sees_all_clients:
            return self.membership.user_id
        chosen = self.cleaned_data.get("clinician")
        return chosen.pk if chosen is not None else None
