"""Forms of the payment pages: Add payment with its allocation, Mark as paid and Record
refund. They parse and check input (billing.inputs); the services decide and write."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from practice.models import Practice
from practice.numbers import DEFAULT_LOCALE

from .. import inputs, services
from ..models import Invoice, Payment
from .numbers import read_decimal

ENTER_AMOUNT = inputs.ENTER_AMOUNT


MANUAL_METHODS = [
    (m.value, m.label) for m in Payment.Method if m not in (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE)
]


class PaymentDateMixin:
    """``received_on`` from 2000-01-01 to the practice's allowance after today (a field
    error; the service checks again). Without a practice only the service checks."""

    practice: Practice | None = None

    def clean_received_on(self) -> date:
        value: date = self.cleaned_data["received_on"]  # type: ignore[attr-defined]
        if self.practice is not None and (problem := inputs.payment_date_problem(self.practice, value)):
            raise ValidationError(problem)
        return value


class MarkPaidForm(PaymentDateMixin, forms.Form):
    method = forms.ChoiceField(choices=MANUAL_METHODS, initial=Payment.Method.CASH)
    received_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, practice: Practice | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice


class PaymentForm(PaymentDateMixin, forms.Form):
    """Amount, date, method and reference, plus one allocation input per open invoice
    (``alloc_<invoice id>``). All allocations blank means oldest first."""

    amount = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    received_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(choices=[("", "Choose…"), *MANUAL_METHODS])
    reference = forms.CharField(max_length=120, required=False)
    overpayment_to_credit = forms.BooleanField(required=False, widget=forms.HiddenInput())

    def __init__(
        self,
        *args: Any,
        open_invoices: list[Invoice],
        currency: str,
        locale: str | None = DEFAULT_LOCALE,
        practice: Practice | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.open_invoices = open_invoices
        self.currency = currency
        self.locale = locale
        for invoice in open_invoices:
            self.fields[f"alloc_{invoice.pk}"] = forms.CharField(
                required=False,
                label=f"Allocate to {invoice.number}",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 9, "data-balance": str(invoice.balance)}),
            )

    def clean_amount(self) -> Decimal:
        amount = read_decimal(self.cleaned_data["amount"], "amount", self.locale)
        if amount <= 0:
            raise ValidationError(inputs.AMOUNT_POSITIVE)
        if problem := inputs.money_problem(amount, self.currency):
            raise ValidationError(problem)
        return amount

    def clean(self) -> dict[str, Any]:
        super().clean()
        data: dict[str, Any] = self.cleaned_data
        plan: dict[int, Decimal] = {}
        any_given = False
        for invoice in self.open_invoices:
            name = f"alloc_{invoice.pk}"
            raw = (data.get(name) or "").strip()
            if not raw:
                continue
            any_given = True
            try:
                value = read_decimal(raw, name, self.locale)
            except ValidationError:
                self.add_error(name, ENTER_AMOUNT)
                continue
            if value < 0:
                self.add_error(name, "An allocation cannot be negative.")
            elif problem := inputs.money_problem(value, self.currency):
                self.add_error(name, problem)
            elif value > invoice.balance:
                self.add_error(name, services.ALLOCATION_TOO_MUCH)
            elif value > 0:
                plan[invoice.pk] = value
        data["allocations"] = plan if any_given else None
        return data

    def allocation_rows(self) -> list[tuple[Invoice, Any]]:
        return [(invoice, self[f"alloc_{invoice.pk}"]) for invoice in self.open_invoices]


REFUND_METHOD_CHOICES = [
    (m.value, m.label)
    for m in Payment.Method
    if m.value in ("cash", "cheque", "bank_transfer", "card_terminal", "other")
]


class RefundForm(forms.Form):
    """Record refund: amount (up to what is left of the payment), date, how it was given
    back, and why. ``expected`` carries the preview's plan to the confirm step."""

    amount = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    refunded_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(choices=REFUND_METHOD_CHOICES, label="Given back by")
    reason = forms.CharField(max_length=255, error_messages={"required": inputs.REASON_REQUIRED})
    expected = forms.CharField(required=False, widget=forms.HiddenInput())

    def __init__(self, *args: Any, currency: str, locale: str | None = DEFAULT_LOCALE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.locale = locale

    def clean_amount(self) -> Decimal:
        amount = read_decimal(self.cleaned_data["amount"], "amount", self.locale)
        if amount <= 0:
            raise ValidationError(inputs.AMOUNT_POSITIVE)
        if problem := inputs.money_problem(amount, self.currency):
            raise ValidationError(problem)
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(inputs.REASON_REQUIRED)
        return reason
