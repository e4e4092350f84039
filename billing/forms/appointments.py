"""Forms of the appointment page's billing actions: what one attendee is billed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms

from practice.inputs import billed_price_problem
from practice.numbers import DEFAULT_LOCALE, LocalDecimalField, set_form_locale


class BillingDetailForm(forms.Form):
    units = LocalDecimalField(max_digits=8, decimal_places=2, min_value=Decimal("0.01"))
    unit_price = LocalDecimalField(label="Unit price", max_digits=12, decimal_places=3, min_value=Decimal("0"))
    tax_percent = LocalDecimalField(
        label="Tax (%)", max_digits=7, decimal_places=4, min_value=Decimal("0"), max_value=Decimal("100")
    )

    def __init__(self, *args: Any, currency: str, locale: str | None = DEFAULT_LOCALE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        set_form_locale(self, locale)
        price = cast(forms.DecimalField, self.fields["unit_price"])
        price.label = f"Unit price ({currency})"

    def clean_unit_price(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("unit_price")
        # The one rule for a billed price (practice.inputs), the service's too.
        if value is not None and (problem := billed_price_problem(value, self.currency)):
            raise forms.ValidationError(problem)
        return value
