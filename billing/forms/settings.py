"""Forms of billing's settings pages: Settings > Billing details and its tax rates, and
Settings > Invoice numbering and terms.

Forms parse and check shape; the services (billing.services.settings, .tax_rates)
re-check the rules and own the writes.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_name, list_currencies
from django import forms

from practice.models import Practice, TaxRate
from practice.numbers import DEFAULT_LOCALE, localise_decimal_fields
from practice.text import single_line_fields

from ..selectors import invoice_numbering_started
from ..services.settings import BILLING_DETAILS_FIELDS, INVOICE_NUMBERING_FIELDS, INVOICE_START_LOCKED


def currency_choices() -> list[tuple[str, str]]:
    return sorted((code, f"{code} — {get_currency_name(code, locale='en')}") for code in list_currencies())


class TaxRateForm(forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = ["name", "percent", "is_default", "is_archived"]
        labels = {"percent": "Percent", "is_default": "Default rate for new services", "is_archived": "Archived"}
        help_texts = {"is_archived": "An archived rate is no longer offered; services that use it keep it."}

    def __init__(self, *args: Any, locale: str | None = DEFAULT_LOCALE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            del self.fields["is_archived"]
        # The service checks the range and the places (refused, never rounded by the column).
        self.fields["percent"].validators = []
        localise_decimal_fields(self, ("percent",), locale)
        single_line_fields(self, ("name",))

    def _post_clean(self) -> None:
        pass


class BillingDetailsForm(forms.ModelForm):
    # The time zone is set once, under Settings > Practice (it also places appointments).
    currency = forms.ChoiceField(choices=currency_choices, label="Currency")

    class Meta:
        model = Practice
        fields = list(BILLING_DETAILS_FIELDS)
        labels = {
            "prices_include_tax": "Prices include tax",
            "tax_id": "Tax id",
            "no_show_policy": "No-show fee",
            "no_show_fee": "No-show flat fee",
            "late_cancel_policy": "Late-cancellation fee",
            "late_cancel_fee": "Late-cancellation flat fee",
            "late_cancel_window_hours": "Late-cancellation window (hours)",
            "payment_date_max_future_days": "Payment dates: days ahead allowed",
            "invoice_date_max_future_days": "Invoice dates: days ahead allowed",
            "fee_tax_free": "Fees are tax-free",
        }
        help_texts = {
            "prices_include_tax": "Tick for GST-style prices that already include tax; otherwise tax is added.",
            "billing_address": "Printed on invoices.",
            "late_cancel_window_hours": "A cancellation this close to the start counts as late.",
            "no_show_fee": "Only used with a flat fee.",
            "late_cancel_fee": "Only used with a flat fee.",
            "payment_date_max_future_days": "How many days after today a payment may be dated (0: not after today).",
            "invoice_date_max_future_days": "How many days after today an invoice line may be dated.",
        }
        widgets = {"billing_address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, currency_locked: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if currency_locked:
            # A disabled field ignores what is posted and keeps the saved currency.
            self.fields["currency"].disabled = True
            locked = "Locked: this practice has billing items, invoices or payments in this currency."
            self.fields["currency"].help_text = locked
        else:
            self.fields["currency"].help_text = "ISO 4217. It cannot change once the first invoice exists."
        for name in ("no_show_fee", "late_cancel_fee"):
            self.fields[name].required = False
            self.fields[name].validators = []
        for name in ("payment_date_max_future_days", "invoice_date_max_future_days"):
            # The service checks the range (one message); empty keeps the current value.
            self.fields[name].required = False
            self.fields[name].validators = []
            self.fields[name].widget.attrs.pop("max", None)
        localise_decimal_fields(self, ("no_show_fee", "late_cancel_fee"), self.instance.locale)
        single_line_fields(self, ("tax_id",))

    def _post_clean(self) -> None:
        pass


class InvoiceNumberingForm(forms.ModelForm):
    class Meta:
        model = Practice
        fields = list(INVOICE_NUMBERING_FIELDS)
        labels = {
            "payment_terms_days": "Payment terms",
            "invoice_prefix": "Invoice number prefix",
            "invoice_start_number": "First invoice number",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and invoice_numbering_started(self.instance):
            # Once a number is issued the counter decides the next one (no gaps); a
            # disabled field keeps the stored value whatever is posted.
            field = self.fields["invoice_start_number"]
            field.disabled = True
            field.help_text = INVOICE_START_LOCKED
