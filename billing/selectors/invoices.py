"""Reads of invoices and payments by id, always scoped to a practice, and the facts about
an invoice (or a practice's billing so far) that pages and other apps ask for.

A foreign id, a missing id and (for a clinician) another clinician's client all give the
same 404: nothing confirms that the object exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from appointments.models import Appointment
from clients.models import Client
from clients.selectors import clients_visible
from practice.models import Membership, Practice

from ..models import (
    BillingItem,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    PackageRefund,
    Payment,
    PaymentAllocation,
)


def invoices_visible(practice: Practice, membership: Membership) -> QuerySet[Invoice]:
    """Invoices of ``practice`` whose client ``membership`` may see (a clinician: their own clients)."""
    invoices = Invoice.objects.filter(practice=practice)
    if not membership.sees_all_clients:
        invoices = invoices.filter(client__in=clients_visible(practice, membership))
    return invoices


def _in_practice(practice: Practice, found: Invoice | Payment) -> None:
    """The practice in hand as the row's and its client's, not two joined copies of the
    practice's row (its settings are most of the columns of the page's first query)."""
    found.practice = practice
    found.client.practice = practice


def invoice_get_for_practice(practice: Practice, membership: Membership, invoice_id: int) -> Invoice:
    invoice = (
        invoices_visible(practice, membership)
        .select_related("client", "client__payer", "created_by")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")),
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("payment").order_by("payment__received_on", "id"),
            ),
        )
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    _in_practice(practice, invoice)
    return invoice


def payment_get_for_practice(practice: Practice, membership: Membership, payment_id: int) -> Payment:
    payments = Payment.objects.filter(practice=practice)
    if not membership.sees_all_clients:
        payments = payments.filter(client__in=clients_visible(practice, membership))
    payment = (
        payments.select_related("client", "created_by")
        .prefetch_related(
            Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("invoice").order_by("id"))
        )
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        raise Http404("No such payment.")
    _in_practice(practice, payment)
    return payment


def appointment_get_for_practice(practice: Practice, appointment_id: int) -> Appointment:
    appointment = Appointment.objects.filter(practice=practice, pk=appointment_id).first()
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def invoice_numbering_started(practice: Practice) -> bool:
    """Whether the practice has issued an invoice: its counter row exists from the first
    issue on (billing.locks.take_invoice_number), and from then on it alone decides the
    next number, so "First invoice number" no longer has any effect."""
    return InvoiceCounter.objects.filter(practice_id=practice.pk).exists()


def currency_in_use(practice: Practice) -> bool:
    """Whether the practice holds amounts in its currency, after which the currency may not
    change (Settings > Billing details)."""
    # Uninvoiced items and payments (credit) are amounts in the current currency too: after
    # a change they would be invoiced or applied as amounts of the new one (USD 100.50 as
    # JPY 100.50, which no yen payment can settle).
    return (
        Invoice.objects.filter(practice=practice).exists()
        or BillingItem.objects.filter(practice=practice).exists()
        or Payment.objects.filter(practice=practice).exists()
    )


def invoice_has_billing_items(invoice: Invoice) -> bool:
    """Whether the invoice carries (or, once void, carried) billing items, not only free lines."""
    return InvoiceLine.objects.filter(invoice_id=invoice.pk, billing_item__isnull=False).exists()


def package_refund_sessions(invoice: Invoice) -> int:
    """How many package sessions the credit invoice refunded (0 for any other document)."""
    refund = PackageRefund.objects.filter(credit_invoice_id=invoice.pk).first()
    return refund.sessions if refund is not None else 0


def open_invoices_oldest_first(client: Client) -> list[Invoice]:
    return list(
        Invoice.objects.filter(
            client=client, kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN, balance__gt=0
        ).order_by("issue_date", "sequence", "pk")
    )


def billing_state_from_items(items: Iterable[BillingItem]) -> str:
    """The billing state: "no_items", "uninvoiced" (any item not yet invoiced), "paid" (all
    on paid invoices) or "invoiced"."""
    items = list(items)
    if not items:
        return "no_items"
    if any(i.invoice_id is None for i in items):
        return "uninvoiced"
    if all(i.invoice is not None and i.invoice.status == Invoice.Status.PAID for i in items):
        return "paid"
    return "invoiced"
