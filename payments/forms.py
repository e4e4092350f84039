"""Forms of payments' staff lists: the Card charges filters and the Payouts report's range."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from practice.dates import validate_supported_date

from . import selectors

DATE_ORDER = "The end date is before the start date."
# The Payouts report opens on the last 30 days.
PAYOUT_DAYS = 30


def _date_field(label: str) -> forms.DateField:
    # A date near the calendar's ends is a field error: ranges built from it would overflow.
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_supported_date],
    )


def _valid(form: forms.Form) -> dict[str, Any]:
    """The cleaned values, leaving out any field with an error (that filter is not applied)."""
    form.is_valid()
    return {k: v for k, v in form.cleaned_data.items() if k not in form.errors}


class CardChargeFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *selectors.STATUS_CHOICES])
    autopay_night = _date_field("AutoPay night")

    def filters(self) -> dict[str, Any]:
        data = _valid(self)
        return {"status": data.get("status") or "", "autopay_night": data.get("autopay_night")}


class PayoutRangeForm(forms.Form):
    """The payouts Stripe made between two local dates (both included)."""

    date_from = _date_field("Payouts from")
    date_to = _date_field("To")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", DATE_ORDER)
        return cleaned

    def period(self, today: date) -> tuple[date, date]:
        """The range asked for; the last PAYOUT_DAYS days for what is left empty or wrong."""
        data = _valid(self)
        end = data.get("date_to") or today
        start = data.get("date_from") or end - timedelta(days=PAYOUT_DAYS - 1)
        if "date_to" in self.errors:
            start, end = today - timedelta(days=PAYOUT_DAYS - 1), today
        return start, end
