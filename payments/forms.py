"""Forms of payments' staff lists."""

from __future__ import annotations

from typing import Any

from django import forms

from practice.dates import validate_supported_date

from . import selectors


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
