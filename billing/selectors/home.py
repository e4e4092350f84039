"""Reads of the Billing page: the Uninvoiced, Invoices, Payments and Credits tabs.

Every selector takes the practice first. List selectors return querysets whose rows carry
what the page shows (client joined, derived status annotated), so a page of 50 rows costs
the same number of queries as a page of 5. Totals are aggregates in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum, Value, When

from clients.models import Client
from practice.models import Practice

from ..models import BillingItem, Invoice, Payment

ZERO = Decimal("0")

# Statuses a biller filters invoices by: the stored ones plus the derived ones.
INVOICE_STATUSES = [
    ("draft", "Draft"),
    ("open", "Open (unpaid or part paid)"),
    ("partially_paid", "Partially paid"),
    ("overdue", "Overdue"),
    ("paid", "Paid"),
    ("written_off", "Written off"),
    ("void", "Void"),
    # The dashboard's "Billed this month": every invoice issued and not voided.
    ("billed", "Billed (issued, not void)"),
]
CREDIT_STATUSES = [("draft", "Draft"), ("issued", "Issued"), ("void", "Void")]
# The money that arrived and stayed (the dashboard's "Collected"): refunds are shown on the
# payment, a failed or reversed payment never counted.
COLLECTED_STATUSES = (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED)
PAYMENT_STATUSES = [
    *((value, label) for value, label in Payment.Status.choices),
    ("collected", "Collected (succeeded or refunded)"),
]


def _overdue(today: date) -> Q:
    return Q(status=Invoice.Status.OPEN, due_date__lt=today, balance__gt=0)


def _invoice_status_q(status: str, today: date) -> Q:
    """The filter for one status a biller picks, derived ones included."""
    if status == "overdue":
        return _overdue(today)
    if status == "partially_paid":
        # As the invoice page shows it: something paid or credited, a balance left, not overdue.
        return (
            Q(status=Invoice.Status.OPEN, balance__gt=0)
            & (Q(amount_paid__gt=0) | Q(credit_applied__gt=0))
            & ~_overdue(today)
        )
    if status == "issued":
        return Q(status=Invoice.Status.OPEN)
    if status == "written_off":
        return Q(status=Invoice.Status.PAID, written_off__gt=0)
    if status == "billed":
        return ~Q(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
    return Q(status=status)


def _derived_status(today: date) -> Case:
    """The status code of each row (billing.statuses), computed in the query; Invoice.status_code
    is the same rule for one invoice."""
    return Case(
        When(kind=Invoice.Kind.CREDIT, status=Invoice.Status.OPEN, then=Value("issued")),
        When(status=Invoice.Status.PAID, written_off__gt=0, then=Value("written_off")),
        When(_overdue(today), then=Value("overdue")),
        When(
            Q(status=Invoice.Status.OPEN) & (Q(amount_paid__gt=0) | Q(credit_applied__gt=0)),
            then=Value("partially_paid"),
        ),
        default=F("status"),
        output_field=CharField(),
    )


def _client_has_clinician(clinician_id: int, client_field: str = "client_id") -> Exists:
    through = Client.clinicians.through
    return Exists(through.objects.filter(client_id=OuterRef(client_field), user_id=clinician_id))


def _issued_or_created_between(date_from: date | None, date_to: date | None) -> Q:
    """Issued in the range; a draft (no issue date yet) counts from the day it was made."""
    q = Q()
    if date_from:
        q &= Q(issue_date__gte=date_from) | Q(issue_date__isnull=True, created_at__date__gte=date_from)
    if date_to:
        q &= Q(issue_date__lte=date_to) | Q(issue_date__isnull=True, created_at__date__lte=date_to)
    return q


def _invoices(
    practice: Practice,
    kind: str,
    *,
    status: str = "",
    client_id: int | None = None,
    clinician_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str = "",
) -> QuerySet[Invoice]:
    today = practice.local_today()
    rows = Invoice.objects.filter(practice=practice, kind=kind)
    if status:
        rows = rows.filter(_invoice_status_q(status, today))
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    if clinician_id is not None:
        rows = rows.filter(_client_has_clinician(clinician_id))
    rows = rows.filter(_issued_or_created_between(date_from, date_to))
    for term in q.split():
        rows = rows.filter(
            Q(number__icontains=term) | Q(client__first_name__icontains=term) | Q(client__last_name__icontains=term)
        )
    # Newest first; drafts (no issue date) on top, as PostgreSQL sorts NULLs first in DESC.
    return (
        rows.select_related("client")
        .annotate(derived_status=_derived_status(today))
        .order_by(F("issue_date").desc(nulls_first=True), "-id")
    )


def invoice_list(practice: Practice, **filters: object) -> QuerySet[Invoice]:
    """The Invoices tab: invoices (not credit invoices), filtered and newest first."""
    return _invoices(practice, Invoice.Kind.INVOICE, **filters)  # type: ignore[arg-type]


def credit_list(practice: Practice, **filters: object) -> QuerySet[Invoice]:
    """The Credits tab: credit invoices, filtered and newest first."""
    return _invoices(practice, Invoice.Kind.CREDIT, **filters)  # type: ignore[arg-type]


@dataclass(frozen=True)
class BillingTotals:
    outstanding: Decimal
    outstanding_count: int
    overdue: Decimal
    overdue_count: int


def billing_totals(practice: Practice) -> BillingTotals:
    """What the practice is owed on open invoices, and how much of it is overdue: one query."""
    today = practice.local_today()
    open_invoices = Invoice.objects.filter(
        practice=practice, kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN, balance__gt=0
    )
    sums = open_invoices.aggregate(
        outstanding=Sum("balance"),
        # Counts of columns in the invoice_open_balance index (an overdue row has a due
        # date), so the totals are an index-only scan.
        outstanding_count=Count("*"),
        overdue=Sum("balance", filter=Q(due_date__lt=today)),
        overdue_count=Count("due_date", filter=Q(due_date__lt=today)),
    )
    return BillingTotals(
        outstanding=sums["outstanding"] or ZERO,
        outstanding_count=sums["outstanding_count"],
        overdue=sums["overdue"] or ZERO,
        overdue_count=sums["overdue_count"],
    )


def overdue_on(practice: Practice, local_date: date) -> dict[str, int]:
    """The overdue invoices on the practice's local day ``local_date``, as the Overdue
    invoices job records them: ``became_overdue``, those whose due date was the day before
    (overdue from that day's 00:00 local: "overdue" is derived from the due date and the
    local date, never stored), and ``overdue``, all open invoices past due. One query on
    the invoice_open_balance index."""
    open_invoices = Invoice.objects.filter(
        practice=practice, kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN, balance__gt=0
    )
    counts = open_invoices.aggregate(
        became_overdue=Count("due_date", filter=Q(due_date=local_date - timedelta(days=1))),
        overdue=Count("due_date", filter=Q(due_date__lt=local_date)),
    )
    return {"became_overdue": counts["became_overdue"], "overdue": counts["overdue"]}


def payment_list(
    practice: Practice,
    *,
    status: str = "",
    client_id: int | None = None,
    clinician_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str = "",
) -> QuerySet[Payment]:
    """The Payments tab, newest first. ``q`` matches the reference or the client's name."""
    rows = Payment.objects.filter(practice=practice)
    if status == "collected":
        rows = rows.filter(status__in=COLLECTED_STATUSES)
    elif status:
        rows = rows.filter(status=status)
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    if clinician_id is not None:
        rows = rows.filter(_client_has_clinician(clinician_id))
    if date_from:
        rows = rows.filter(received_on__gte=date_from)
    if date_to:
        rows = rows.filter(received_on__lte=date_to)
    for term in q.split():
        rows = rows.filter(
            Q(reference__icontains=term) | Q(client__first_name__icontains=term) | Q(client__last_name__icontains=term)
        )
    return rows.select_related("client").order_by("-received_on", "-id")


def uninvoiced_list(
    practice: Practice,
    *,
    client_id: int | None = None,
    clinician_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str = "",
) -> QuerySet[Any]:
    """The Uninvoiced tab: one row per client (values with the client's name, item count,
    total and oldest and newest dates), clients with the oldest items first."""
    items = BillingItem.objects.filter(practice=practice, invoice__isnull=True)
    if client_id is not None:
        items = items.filter(client_id=client_id)
    if clinician_id is not None:
        items = items.filter(_client_has_clinician(clinician_id))
    if date_from:
        items = items.filter(date__gte=date_from)
    if date_to:
        items = items.filter(date__lte=date_to)
    for term in q.split():
        # The row shows the preferred name, so the search finds it too.
        items = items.filter(
            Q(client__first_name__icontains=term)
            | Q(client__last_name__icontains=term)
            | Q(client__preferred_name__icontains=term)
        )
    return (
        items.values("client_id", "client__first_name", "client__last_name", "client__preferred_name")
        .annotate(item_count=Count("id"), total=Sum("amount"), oldest=Min("date"), newest=Max("date"))
        .order_by("oldest", "client__last_name", "client_id")
    )
