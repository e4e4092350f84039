"""Reads of what is billed but not invoiced yet: the total, a client's or an
appointment's items, whether a session's billing detail is invoiced already, and the
per-client rows of Invoice all uninvoiced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum

from appointments.models import Appointment, BillingDetail
from clients.models import Client
from practice.models import Practice

from ..models import BillingItem
from ..money import ZERO


def uninvoiced_total(
    practice: Practice, *, client: Client | None = None, appointment: Appointment | None = None
) -> Decimal:
    """What ``practice`` has billed but not yet invoiced: all of it, or one client's, or one
    appointment's (both narrow it further). The one place this figure is computed."""
    items = BillingItem.objects.filter(practice=practice, invoice__isnull=True)
    if client is not None:
        items = items.filter(client=client)
    if appointment is not None:
        items = items.filter(appointment=appointment)
    total = items.aggregate(total=Sum("amount"))["total"]
    return total if total is not None else ZERO


def billing_detail_invoiced(*, appointment: Appointment, detail: BillingDetail) -> bool:
    """Whether the detail's session item is on an invoice already (which then keeps its
    amounts whatever the detail says)."""
    return BillingItem.objects.filter(
        appointment=appointment,
        client_id=detail.client_id,
        service_id=detail.service_id,
        invoice__isnull=False,
    ).exists()


@dataclass(frozen=True, slots=True)
class UninvoicedItem:
    """An uninvoiced item as the Uninvoiced tables print and edit it (the client's Billing
    tab, + New invoice, adding items to an invoice being edited)."""

    pk: int
    date: date
    description: str
    units: Decimal
    unit_price: Decimal
    tax_percent: Decimal
    amount: Decimal


def client_uninvoiced_items(practice: Practice, client: Client) -> list[UninvoicedItem]:
    """The client's items on no invoice yet, oldest first. Read as values: with 200 items
    waiting, building a model for each was four fifths of the read."""
    rows = (
        BillingItem.objects.filter(practice=practice, client=client, invoice__isnull=True)
        .order_by("date", "id")
        .values_list("pk", "date", "description", "units", "unit_price", "tax_percent", "amount")
    )
    return [UninvoicedItem(*row) for row in rows]


def appointment_uninvoiced_by_client(practice: Practice, appointment: Appointment) -> dict[int, list[int]]:
    """{client id: [uninvoiced item ids]} for one appointment's attendees."""
    grouped: dict[int, list[int]] = {}
    rows = (
        BillingItem.objects.filter(practice=practice, appointment=appointment, invoice__isnull=True)
        .order_by("client_id", "date", "id")
        .values_list("client_id", "pk")
    )
    for client_id, item_id in rows:
        grouped.setdefault(client_id, []).append(item_id)
    return grouped


@dataclass
class BulkPreviewRow:
    client: Client
    item_count: int
    total: Decimal


def uninvoiced_by_client(practice: Practice, date_from: date, date_to: date) -> list[BulkPreviewRow]:
    rows = (
        BillingItem.objects.filter(practice=practice, invoice__isnull=True, date__gte=date_from, date__lte=date_to)
        .values("client_id")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("client_id")
    )
    clients = Client.objects.select_related("payer").in_bulk([r["client_id"] for r in rows])
    return [BulkPreviewRow(client=clients[r["client_id"]], item_count=r["count"], total=r["total"]) for r in rows]


def uninvoiced_client_count(practice: Practice, date_from: date, date_to: date) -> int:
    """How many clients have uninvoiced items in the range (one query)."""
    return (
        BillingItem.objects.filter(practice=practice, invoice__isnull=True, date__gte=date_from, date__lte=date_to)
        .values("client_id")
        .distinct()
        .count()
    )
