"""Forms of the invoice, credit and payment pages. They parse and check input; the
services in billing.services decide and write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from datetime import date as datetime_date  # LineForm has a field called date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from appointments.models import Service
from clients.models import Client
from practice.models import Practice
from practice.numbers import DEFAULT_LOCALE, LocalDecimalField, format_number_input, set_form_locale
from practice.text import single_line_fields

from . import services
from .models import BillingItem, Invoice, InvoiceLine, Payment

PRICE_NEGATIVE = services.PRICE_NEGATIVE
UNITS_POSITIVE = services.UNITS_POSITIVE
TAX_RANGE = services.TAX_RANGE
DESCRIBE_LINE = "Describe the line or choose a service."
ENTER_AMOUNT = services.ENTER_AMOUNT

MANUAL_METHODS = [
    (m.value, m.label) for m in Payment.Method if m not in (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE)
]


def _decimal(raw: str, name: str, locale: str | None = DEFAULT_LOCALE) -> Decimal:
    """services.parse_amount, with its error as a plain field error (forms attach it to the field)."""
    try:
        return services.parse_amount(raw, name, locale=locale)
    except ValidationError:
        raise ValidationError(ENTER_AMOUNT) from None


def check_units(value: Decimal, currency: str) -> str | None:
    return services.units_problem(value)


def check_price(value: Decimal, currency: str) -> str | None:
    return PRICE_NEGATIVE if value < 0 else services.price_problem(value)


def check_tax(value: Decimal, currency: str) -> str | None:
    return services.tax_problem(value)


class PlainDecimalField(LocalDecimalField):
    """A number field read in the practice's locale by the one parser (practice.numbers):
    "1e10" and a misplaced "1,00" are refused, as the service's parse_amount does. The
    form sets the locale (set_form_locale); sizes and places are checked against the
    practice's currency in the form's clean()."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_message", ENTER_AMOUNT)
        super().__init__(*args, **kwargs)


def plain(value: Decimal, locale: str | None = DEFAULT_LOCALE) -> str:
    """``value`` as an input shows it in ``locale``, so that it parses back unchanged."""
    return format_number_input(value.normalize(), locale)


@dataclass
class AmountRow:
    """One editable row (an uninvoiced item or an invoice line): what the inputs show and their errors."""

    obj: Any
    units: str
    price: str
    tax: str
    checked: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def pk(self) -> int:
        return self.obj.pk


def amount_rows(
    objects: list[Any], data: Any = None, selected: set[int] | None = None, locale: str | None = DEFAULT_LOCALE
) -> list[AmountRow]:
    """Rows for the editable table: the posted values when there are some, else the stored
    ones printed in the practice's ``locale``."""
    rows = []
    for obj in objects:
        shown = plain(obj.units, locale), plain(abs(obj.unit_price), locale), plain(obj.tax_percent, locale)
        if data is not None:
            units = data.get(f"units_{obj.pk}", shown[0])
            price = data.get(f"price_{obj.pk}", shown[1])
            tax = data.get(f"tax_{obj.pk}", shown[2])
        else:
            units, price, tax = shown
        rows.append(
            AmountRow(obj=obj, units=units, price=price, tax=tax, checked=selected is None or obj.pk in selected)
        )
    return rows


def parse_amount_rows(
    rows: list[AmountRow], currency: str, locale: str | None = DEFAULT_LOCALE
) -> dict[int, services.ItemAdjustment]:
    """Adjustments for rows whose units, price or tax changed; errors are set on the rows
    (a value the columns cannot hold exactly is an error, never rounded). Only rows that
    are checked (chosen) are read."""
    changes: dict[int, services.ItemAdjustment] = {}
    for row in rows:
        if not row.checked:
            continue
        parsed: dict[str, Decimal] = {}
        for name, raw, check in (
            ("units", row.units, check_units),
            ("price", row.price, check_price),
            ("tax", row.tax, check_tax),
        ):
            try:
                value = _decimal(raw, name, locale)
            except ValidationError:
                row.errors[name] = ENTER_AMOUNT
                continue
            problem = check(value, currency)
            if problem:
                row.errors[name] = problem
            else:
                parsed[name] = value
        if not row.errors and (problem := services.line_problem(parsed["units"], parsed["price"], parsed["tax"])):
            row.errors["price"] = problem
        if row.errors:
            continue
        obj = row.obj
        if (parsed["units"], parsed["price"], parsed["tax"]) != (obj.units, abs(obj.unit_price), obj.tax_percent):
            changes[obj.pk] = services.ItemAdjustment(
                units=parsed["units"], unit_price=parsed["price"], tax_percent=parsed["tax"]
            )
    return changes


def selected_ids(data: Any, name: str, allowed: set[int]) -> set[int]:
    """Ids ticked in checkboxes called ``name``, limited to ``allowed`` (anything else is ignored)."""
    chosen = set()
    for raw in data.getlist(name):
        try:
            value = int(raw)
        except (TypeError, ValueError):
            continue
        if value in allowed:
            chosen.add(value)
    return chosen


class LineForm(forms.Form):
    """A free line: date, service or description, units, price, tax. A blank row is skipped."""

    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    service = forms.ModelChoiceField(queryset=Service.objects.none(), required=False, empty_label="—")
    description = forms.CharField(max_length=200, required=False)
    units = PlainDecimalField(required=False, initial=Decimal("1"))
    unit_price = PlainDecimalField(required=False, label="Price")
    tax_percent = PlainDecimalField(required=False, initial=Decimal("0"), label="Tax %")

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = practice.currency
        self.practice = practice
        set_form_locale(self, practice.locale)
        single_line_fields(self, ("description",))
        service_field = self.fields["service"]
        assert isinstance(service_field, forms.ModelChoiceField)
        service_field.queryset = Service.objects.filter(practice=practice, is_archived=False).order_by("name")
        for name in ("units", "unit_price", "tax_percent"):
            self.fields[name].widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 7})
        self.fields["description"].widget.attrs["size"] = 24

    def clean_date(self) -> datetime_date | None:
        value: datetime_date | None = self.cleaned_data.get("date")
        if value is not None and (problem := services.invoice_date_problem(self.practice, value)):
            raise ValidationError(problem)
        return value

    def is_blank(self) -> bool:
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return not self.has_changed()
        data = self.cleaned_data
        return not (
            data.get("service") or (data.get("description") or "").strip() or data.get("unit_price") is not None
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data: dict[str, Any] = self.cleaned_data
        if self.errors or self.is_blank():
            return data
        service = data.get("service")
        if not (data.get("description") or "").strip():
            if service is None:
                self.add_error("description", DESCRIBE_LINE)
            else:
                data["description"] = service.name
        if data.get("unit_price") is None:
            if service is None:
                self.add_error("unit_price", "Enter a price.")
            else:
                data["unit_price"] = service.price
        if data.get("units") is None:
            data["units"] = Decimal("1")
        if data.get("tax_percent") is None:
            data["tax_percent"] = (
                service.tax_rate.percent if service is not None and service.tax_rate_id else Decimal("0")
            )
        for name, check in (("unit_price", check_price), ("units", check_units), ("tax_percent", check_tax)):
            value = data.get(name)
            problem = check(value, self.currency) if value is not None else None
            if problem:
                self.add_error(name, problem)
        if not self.errors and (
            problem := services.line_problem(data["units"], data["unit_price"], data["tax_percent"])
        ):
            self.add_error("unit_price", problem)
        return data

    def line_input(self) -> services.LineInput:
        data = self.cleaned_data
        return services.LineInput(
            description=data["description"],
            unit_price=data["unit_price"],
            units=data["units"],
            tax_percent=data["tax_percent"],
            date=data.get("date"),
            service=data.get("service"),
        )


LineFormSet = formset_factory(LineForm, extra=3, max_num=50, absolute_max=50)


def line_formset(practice: Practice, data: Any = None, prefix: str = "line") -> Any:
    return LineFormSet(data, prefix=prefix, form_kwargs={"practice": practice})


def formset_lines(formset: Any) -> list[services.LineInput]:
    return [form.line_input() for form in formset.forms if form.is_valid() and not form.is_blank()]


class InvoiceClientForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), empty_label="Choose a client")

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from .selectors import clients_for_invoicing

        client_field = self.fields["client"]
        assert isinstance(client_field, forms.ModelChoiceField)
        client_field.queryset = clients_for_invoicing(practice)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255, error_messages={"required": services.REASON_REQUIRED}, widget=forms.TextInput()
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(services.REASON_REQUIRED)
        return reason


class CreditForm(ReasonForm):
    pass


class PaymentDateMixin:
    """``received_on`` from 2000-01-01 to the practice's allowance after today (a field
    error; the service checks again). Without a practice only the service checks."""

    practice: Practice | None = None

    def clean_received_on(self) -> date:
        value: date = self.cleaned_data["received_on"]  # type: ignore[attr-defined]
        if self.practice is not None and (problem := services.payment_date_problem(self.practice, value)):
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
        amount = _decimal(self.cleaned_data["amount"], "amount", self.locale)
        if amount <= 0:
            raise ValidationError(services.AMOUNT_POSITIVE)
        if problem := services.money_problem(amount, self.currency):
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
                value = _decimal(raw, name, self.locale)
            except ValidationError:
                self.add_error(name, ENTER_AMOUNT)
                continue
            if value < 0:
                self.add_error(name, "An allocation cannot be negative.")
            elif problem := services.money_problem(value, self.currency):
                self.add_error(name, problem)
            elif value > invoice.balance:
                self.add_error(name, services.ALLOCATION_TOO_MUCH)
            elif value > 0:
                plan[invoice.pk] = value
        data["allocations"] = plan if any_given else None
        return data

    def allocation_rows(self) -> list[tuple[Invoice, Any]]:
        return [(invoice, self[f"alloc_{invoice.pk}"]) for invoice in self.open_invoices]


def invoice_line_rows(invoice: Invoice, data: Any = None, locale: str | None = DEFAULT_LOCALE) -> list[AmountRow]:
    lines: list[InvoiceLine] = list(invoice.lines.all())
    rows = amount_rows(lines, data, locale=locale)
    if data is not None:
        removed = selected_ids(data, "remove", {line.pk for line in lines})
        for row in rows:
            row.checked = row.pk not in removed
    return rows


def uninvoiced_rows(
    items: list[BillingItem], data: Any = None, name: str = "item", locale: str | None = DEFAULT_LOCALE
) -> list[AmountRow]:
    chosen = selected_ids(data, name, {i.pk for i in items}) if data is not None else set()
    rows = amount_rows(items, data, selected=chosen, locale=locale)
    return rows


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
    reason = forms.CharField(max_length=255, error_messages={"required": services.REASON_REQUIRED})
    expected = forms.CharField(required=False, widget=forms.HiddenInput())

    def __init__(self, *args: Any, currency: str, locale: str | None = DEFAULT_LOCALE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.locale = locale

    def clean_amount(self) -> Decimal:
        amount = _decimal(self.cleaned_data["amount"], "amount", self.locale)
        if amount <= 0:
            raise ValidationError(services.AMOUNT_POSITIVE)
        if problem := services.money_problem(amount, self.currency):
            raise ValidationError(problem)
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(services.REASON_REQUIRED)
        return reason


class WriteOffForm(ReasonForm):
    # The invoice page also shows Void's reason field: a prefix keeps the ids apart.
    prefix = "write_off"


class BillClientForm(forms.Form):
    """An insurance session of a completed appointment, billed to the client instead."""

    client = forms.IntegerField(widget=forms.HiddenInput())
    service = forms.IntegerField(widget=forms.HiddenInput())
    unit_price = PlainDecimalField(label="Price the client pays")
    reason = forms.CharField(max_length=255, initial="Insurance denied the claim")

    def __init__(self, *args: Any, locale: str | None = DEFAULT_LOCALE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_form_locale(self, locale)
