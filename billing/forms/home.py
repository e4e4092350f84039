"""Forms of the Billing page: its tabs' filters and Invoice all uninvoiced."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from django import forms

from clients.models import Client
from clients.selectors import clinicians_for_practice
from practice.dates import validate_supported_date
from practice.forms import ModelChoiceField
from practice.models import Practice, User

from .. import inputs
from .payments import MANUAL_METHODS

DATE_ORDER = "The end date is before the start date."
PRICE_TOO_FINE = "Use no more decimal places than the currency has (for example 120.00)."
PRICE_NEGATIVE = "The price cannot be negative."


def _date_field(label: str, required: bool = False) -> forms.DateField:
    # A date near 9999-12-31 or 0001-01-01 is a field error: filters and ranges built from
    # it would overflow (a 500), and no billing row lies there.
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_supported_date],
    )


class ClientChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: Client) -> str:
        return f"{obj.last_name}, {obj.first_name}"


class ClinicianChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


class DateRangeMixin:
    """``date_from`` / ``date_to`` with the end not before the start (a field error on the end)."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", DATE_ORDER)  # type: ignore[attr-defined]
        return cleaned


class BillingFilterForm(DateRangeMixin, forms.Form):
    """The filters of one Billing tab. ``status_choices`` differ per tab (none on Uninvoiced)."""

    q = forms.CharField(label="Search", required=False, max_length=100)
    status = forms.ChoiceField(label="Status", required=False)
    # Set from a row's client link rather than a select: a practice may have thousands of
    # clients, and the search box finds a client by name.
    client = ClientChoiceField(label="Client", queryset=Client.objects.none(), required=False, widget=forms.HiddenInput)
    clinician = ClinicianChoiceField(
        label="Clinician", queryset=User.objects.none(), required=False, empty_label="All clinicians"
    )
    date_from = _date_field("From")
    date_to = _date_field("To")

    def __init__(
        self,
        *args: Any,
        practice: Practice,
        status_choices: list[tuple[str, str]] | None,
        search_label: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].label = search_label
        self.fields["q"].widget.attrs["type"] = "search"
        if status_choices is None:
            del self.fields["status"]
        else:
            self.fields["status"].choices = [("", "Any status"), *status_choices]  # type: ignore[attr-defined]
        clients = Client.objects.filter(practice=practice).only("pk", "first_name", "last_name")
        self.fields["client"].queryset = clients.order_by("last_name", "first_name", "pk")  # type: ignore[attr-defined]
        self.fields["clinician"].queryset = clinicians_for_practice(practice)  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for the tab's selector; an invalid filter is simply not applied."""
        if not self.is_valid():
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        else:
            data = self.cleaned_data
        found: dict[str, Any] = {"q": (data.get("q") or "").strip()}
        if "status" in self.fields:
            found["status"] = data.get("status") or ""
        if data.get("client") is not None:
            found["client_id"] = data["client"].pk
        if data.get("clinician") is not None:
            found["clinician_id"] = data["clinician"].pk
        for name in ("date_from", "date_to"):
            if data.get(name):
                found[name] = data[name]
        if "date_to" in self.errors:
            found.pop("date_from", None)
        return found


# --- Invoice all uninvoiced -----------------------------------------------------------------


def last_week(today: date) -> tuple[date, date]:
    """Monday to Sunday of the week before ``today``'s (the weekly cadence)."""
    start = today - timedelta(days=today.weekday() + 7)
    return start, start + timedelta(days=6)


def last_month(today: date) -> tuple[date, date]:
    """The calendar month before ``today``'s (the monthly cadence, run on the 1st)."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end.replace(day=calendar.monthrange(end.year, end.month)[1])


class InvoiceAllForm(DateRangeMixin, forms.Form):
    ISSUE = "issue"
    DRAFT = "draft"

    date_from = _date_field("From", required=True)
    date_to = _date_field("To", required=True)
    mode = forms.ChoiceField(
        label="Create the invoices as",
        choices=[(ISSUE, "Issued invoices (numbered, sent to the client's balance)"), (DRAFT, "Drafts to review")],
        initial=ISSUE,
        required=False,
        widget=forms.RadioSelect,
    )
    apply_credit = forms.BooleanField(
        label="Apply each client's credit balance",
        help_text="A client with credit gets it taken off the new invoice (for drafts, when they are issued).",
        initial=True,
        required=False,
    )

    @property
    def issue(self) -> bool:
        return self.cleaned_data.get("mode") != self.DRAFT


# --- acting on many invoices (the Invoices tab) --------------------------------------------

BULK_NONE_CHOSEN = "Choose at least one invoice."
BULK_TOO_MANY = "Choose at most {limit} invoices at a time."
BULK_REASON_REQUIRED = "Give a reason for voiding."


class BulkInvoiceForm(forms.Form):
    """The Invoices tab's bulk bar: the ticked invoices and one action, with one date and
    method for Mark as paid and one reason for Void."""

    action = forms.ChoiceField(choices=[("issue", "Issue drafts"), ("mark_paid", "Mark as paid"), ("void", "Void")])
    invoice = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    method = forms.ChoiceField(label="Method", required=False)
    received_on = _date_field("Paid on")
    reason = forms.CharField(label="Reason", required=False, max_length=255)
    # The tab's filters, to come back to the same list.
    back = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, practice: Practice, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.limit = limit
        self.fields["method"].choices = MANUAL_METHODS  # type: ignore[attr-defined]
        self.fields["method"].initial = MANUAL_METHODS[0][0]
        self.fields["received_on"].initial = practice.local_today()

    def clean_invoice(self) -> list[int]:
        raw = self.cleaned_data.get("invoice") or []
        ids = sorted({int(v) for v in raw if str(v).isdecimal() and len(str(v)) < 12})
        if not ids:
            raise forms.ValidationError(BULK_NONE_CHOSEN)
        if len(ids) > self.limit:
            raise forms.ValidationError(BULK_TOO_MANY.format(limit=self.limit))
        return ids

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        action = cleaned.get("action")
        if action == "mark_paid":
            if not cleaned.get("method"):
                self.add_error("method", "Choose how it was paid.")
            received_on = cleaned.get("received_on") or self.practice.local_today()
            if problem := inputs.payment_date_problem(self.practice, received_on):
                self.add_error("received_on", problem)
            cleaned["received_on"] = received_on
        if action == "void" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", BULK_REASON_REQUIRED)
        return cleaned
