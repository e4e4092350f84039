"""Forms of the invoice and credit invoice pages: the editable amount rows, free lines,
reasons. They parse and check input (billing.inputs); the services decide and write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as datetime_date  # LineForm has a field called date
from decimal import Decimal
from functools import cached_property
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from appointments.models import Service
from clients.models import Client
from practice.dates import day_label
from practice.forms import ModelChoiceField
from practice.models import Practice
from practice.numbers import DEFAULT_LOCALE, set_form_locale
from practice.text import single_line_fields

from .. import inputs
from ..models import Invoice, InvoiceLine
from ..selectors.uninvoiced import UninvoicedItem
from .numbers import PlainDecimalField, plain, read_decimal

PRICE_NEGATIVE = inputs.PRICE_NEGATIVE
UNITS_POSITIVE = inputs.UNITS_POSITIVE
TAX_RANGE = inputs.TAX_RANGE
DESCRIBE_LINE = "Describe the line or choose a service."
ENTER_AMOUNT = inputs.ENTER_AMOUNT


def check_units(value: Decimal, currency: str) -> str | None:
    return inputs.units_problem(value)


def check_price(value: Decimal, currency: str) -> str | None:
    return PRICE_NEGATIVE if value < 0 else inputs.price_problem(value)


def check_tax(value: Decimal, currency: str) -> str | None:
    return inputs.tax_problem(value)


@dataclass
class AmountRow:
    """One editable row (an uninvoiced item or an invoice line): what the inputs show and their errors."""

    obj: Any
    units: str
    price: str
    tax: str
    checked: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    # The row's date as the table prints it (3 Nov 2026): amount_rows formats each distinct
    # date once for the whole table.
    day: str = ""

    @property
    def pk(self) -> int:
        return self.obj.pk

    @property
    def description(self) -> str:
        return self.obj.description

    @cached_property
    def label(self) -> str:
        """What the row's inputs are named for a screen reader: "Individual therapy on 3 Nov 2026"."""
        return f"{self.obj.description} on {self.day}"

    @property
    def key(self) -> str:
        """The pk as text, for the template: an int would go through number localization
        each of the nine times a row prints it."""
        return str(self.obj.pk)


def amount_rows(
    objects: list[Any], data: Any = None, selected: set[int] | None = None, locale: str | None = DEFAULT_LOCALE
) -> list[AmountRow]:
    """Rows for the editable table: the posted values when there are some, else the stored
    ones printed in the practice's ``locale``."""
    rows = []
    days: dict[Any, str] = {}
    # A table repeats its units, prices and rates (1, the session fee, no tax): each
    # distinct value is printed once.
    printed: dict[Decimal, str] = {}

    def shown_as(value: Decimal) -> str:
        if (text := printed.get(value)) is None:
            text = printed[value] = plain(value, locale)
        return text

    for obj in objects:
        if (day := days.get(obj.date)) is None:
            day = days[obj.date] = day_label(obj.date)
        shown = shown_as(obj.units), shown_as(abs(obj.unit_price)), shown_as(obj.tax_percent)
        if data is not None:
            units = data.get(f"units_{obj.pk}", shown[0])
            price = data.get(f"price_{obj.pk}", shown[1])
            tax = data.get(f"tax_{obj.pk}", shown[2])
        else:
            units, price, tax = shown
        rows.append(
            AmountRow(
                obj=obj, units=units, price=price, tax=tax, checked=selected is None or obj.pk in selected, day=day
            )
        )
    return rows


def parse_amount_rows(
    rows: list[AmountRow], currency: str, locale: str | None = DEFAULT_LOCALE
) -> dict[int, inputs.ItemAdjustment]:
    """Adjustments for rows whose units, price or tax changed; errors are set on the rows
    (a value the columns cannot hold exactly is an error, never rounded). Only rows that
    are checked (chosen) are read."""
    changes: dict[int, inputs.ItemAdjustment] = {}
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
                value = read_decimal(raw, name, locale)
            except ValidationError:
                row.errors[name] = ENTER_AMOUNT
                continue
            problem = check(value, currency)
            if problem:
                row.errors[name] = problem
            else:
                parsed[name] = value
        if not row.errors and (problem := inputs.line_problem(parsed["units"], parsed["price"], parsed["tax"])):
            row.errors["price"] = problem
        if row.errors:
            continue
        obj = row.obj
        if (parsed["units"], parsed["price"], parsed["tax"]) != (obj.units, abs(obj.unit_price), obj.tax_percent):
            changes[obj.pk] = inputs.ItemAdjustment(
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
    service = ModelChoiceField(queryset=Service.objects.none(), required=False, empty_label="—")
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
        assert isinstance(service_field, ModelChoiceField)
        service_field.queryset = Service.objects.filter(practice=practice, is_archived=False).order_by("name")
        for name in ("units", "unit_price", "tax_percent"):
            self.fields[name].widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 7})
        self.fields["description"].widget.attrs["size"] = 24

    def clean_date(self) -> datetime_date | None:
        value: datetime_date | None = self.cleaned_data.get("date")
        if value is not None and (problem := inputs.invoice_date_problem(self.practice, value)):
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
        if not self.errors and (problem := inputs.line_problem(data["units"], data["unit_price"], data["tax_percent"])):
            self.add_error("unit_price", problem)
        return data

    def line_input(self) -> inputs.LineInput:
        data = self.cleaned_data
        return inputs.LineInput(
            description=data["description"],
            unit_price=data["unit_price"],
            units=data["units"],
            tax_percent=data["tax_percent"],
            date=data.get("date"),
            service=data.get("service"),
        )


MAX_LINES = 50
LineFormSet = formset_factory(LineForm, extra=3, max_num=MAX_LINES, absolute_max=MAX_LINES)
# The submit button that asks for one more free-line row (the page without JavaScript;
# with it, billing.js clones the formset's empty form instead).
ADD_LINE = "add_line"


def line_formset(practice: Practice, data: Any = None, prefix: str = "line") -> Any:
    return LineFormSet(data, prefix=prefix, form_kwargs={"practice": practice})


def wants_another_line(data: Any) -> bool:
    """The biller pressed "Add line": the page is shown again, nothing is recorded."""
    return ADD_LINE in data


def line_formset_one_more(practice: Practice, data: Any, prefix: str = "line") -> Any:
    """The posted free lines plus one blank row (up to MAX_LINES), to show again after "Add line"."""
    grown = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    raw = str(grown.get(key, "0"))
    count = int(raw) if raw.isdecimal() else 0
    grown[key] = str(min(count + 1, MAX_LINES))
    return LineFormSet(grown, prefix=prefix, form_kwargs={"practice": practice})


def formset_lines(formset: Any) -> list[inputs.LineInput]:
    return [form.line_input() for form in formset.forms if form.is_valid() and not form.is_blank()]


class InvoiceClientForm(forms.Form):
    client = ModelChoiceField(queryset=Client.objects.none(), empty_label="Choose a client")

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from ..selectors import clients_for_invoicing

        client_field = self.fields["client"]
        assert isinstance(client_field, ModelChoiceField)
        client_field.queryset = clients_for_invoicing(practice)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255, error_messages={"required": inputs.REASON_REQUIRED}, widget=forms.TextInput()
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(inputs.REASON_REQUIRED)
        return reason


class CreditForm(ReasonForm):
    pass


def invoice_line_rows(invoice: Invoice, data: Any = None, locale: str | None = DEFAULT_LOCALE) -> list[AmountRow]:
    lines: list[InvoiceLine] = list(invoice.lines.all())
    rows = amount_rows(lines, data, locale=locale)
    if data is not None:
        removed = selected_ids(data, "remove", {line.pk for line in lines})
        for row in rows:
            row.checked = row.pk not in removed
    return rows


def uninvoiced_rows(
    items: list[UninvoicedItem],
    data: Any = None,
    name: str = "item",
    locale: str | None = DEFAULT_LOCALE,
    ticked: bool = False,
) -> list[AmountRow]:
    """Rows of uninvoiced items: ticked as posted, or, on a fresh page, all ticked when
    ``ticked`` (+ New invoice: invoicing what is waiting is why the biller came) and none
    otherwise (adding items to an invoice being edited is the exception)."""
    if data is not None:
        chosen: set[int] | None = selected_ids(data, name, {i.pk for i in items})
    else:
        chosen = None if ticked else set()
    return amount_rows(items, data, selected=chosen, locale=locale)


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
