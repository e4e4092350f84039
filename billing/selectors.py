"""Reads of invoices, payments and a client's billing figures, always scoped to a practice.

A foreign id, a missing id and (for a clinician) another clinician's client all give the
same 404: nothing confirms that the object exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum
from django.http import Http404

from appointments.models import Appointment
from clients.models import Client
from clients.selectors import clients_visible
from practice.models import Membership, Practice

from .models import (
    BillingItem,
    ClientAccount,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    PackagePurchase,
    Payment,
    PaymentAllocation,
)

ZERO = Decimal("0")


def invoices_visible(practice: Practice, membership: Membership) -> QuerySet[Invoice]:
    """Invoices of ``practice`` whose client ``membership`` may see (a clinician: their own clients)."""
    invoices = Invoice.objects.filter(practice=practice)
    if not membership.sees_all_clients:
        invoices = invoices.filter(client__in=clients_visible(practice, membership))
    return invoices


def invoice_get_for_practice(practice: Practice, membership: Membership, invoice_id: int) -> Invoice:
    invoice = (
        invoices_visible(practice, membership)
        .select_related("practice", "client", "client__payer", "client__practice", "created_by")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.select_related("service").order_by("position", "id")),
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
    return invoice


def payment_get_for_practice(practice: Practice, membership: Membership, payment_id: int) -> Payment:
    payments = Payment.objects.filter(practice=practice)
    if not membership.sees_all_clients:
        payments = payments.filter(client__in=clients_visible(practice, membership))
    payment = (
        payments.select_related("practice", "client", "client__practice", "created_by")
        .prefetch_related(
            Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("invoice").order_by("id"))
        )
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        raise Http404("No such payment.")
    return payment


def appointment_get_for_practice(practice: Practice, appointment_id: int) -> Appointment:
    appointment = Appointment.objects.filter(practice=practice, pk=appointment_id).first()
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


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


def clients_for_invoicing(practice: Practice) -> QuerySet[Client]:
    return Client.objects.filter(practice=practice, status=Client.Status.ACTIVE).order_by("last_name", "first_name")


def client_uninvoiced_items(practice: Practice, client: Client) -> QuerySet[BillingItem]:
    return (
        BillingItem.objects.filter(practice=practice, client=client, invoice__isnull=True)
        .select_related("service")
        .order_by("date", "id")
    )


def client_account(practice: Practice, client: Client) -> ClientAccount | None:
    return ClientAccount.objects.filter(practice=practice, client=client).first()


def client_invoices(practice: Practice, client: Client, limit: int = 50) -> list[Invoice]:
    return list(
        Invoice.objects.filter(practice=practice, client=client)
        .select_related("practice")
        .order_by("-created_at", "-id")[:limit]
    )


def client_payments(practice: Practice, client: Client, limit: int = 50) -> list[Payment]:
    return list(Payment.objects.filter(practice=practice, client=client).order_by("-received_on", "-id")[:limit])


def client_open_invoices(practice: Practice, client: Client) -> list[Invoice]:
    """Open invoices with a balance, oldest first: the default order of a payment's allocation."""
    return list(
        Invoice.objects.filter(
            practice=practice,
            client=client,
            kind=Invoice.Kind.INVOICE,
            status=Invoice.Status.OPEN,
            balance__gt=0,
        )
        .select_related("practice")
        .order_by("issue_date", "sequence", "pk")
    )


def client_packages(practice: Practice, client: Client) -> list[PackagePurchase]:
    """Purchases with sessions left (issued, not expired)."""
    today = practice.local_today()
    purchases = (
        PackagePurchase.objects.filter(practice=practice, client=client)
        .exclude(invoice__status__in=[Invoice.Status.VOID, Invoice.Status.DRAFT])
        .select_related("package")
        .order_by("created_at", "pk")
    )
    return [p for p in purchases if p.sessions_left > 0 and (p.expires_on is None or p.expires_on >= today)]


def invoice_numbering_started(practice: Practice) -> bool:
    """Whether the practice has issued an invoice: its counter row exists from the first
    issue on (billing.locks.take_invoice_number), and from then on it alone decides the
    next number, so "First invoice number" no longer has any effect."""
    return InvoiceCounter.objects.filter(practice_id=practice.pk).exists()


def invoice_has_billing_items(invoice: Invoice) -> bool:
    """Whether the invoice carries (or, once void, carried) billing items, not only free lines."""
    return InvoiceLine.objects.filter(invoice_id=invoice.pk, billing_item__isnull=False).exists()


def package_refund_sessions(invoice: Invoice) -> int:
    """How many package sessions the credit invoice refunded (0 for any other document)."""
    from .models import PackageRefund

    refund = PackageRefund.objects.filter(credit_invoice_id=invoice.pk).first()
    return refund.sessions if refund is not None else 0


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


# --- what the client portal and payment links read (the seam the payments app uses) ------


@dataclass(frozen=True)
class ClientBalance:
    """What a client owes across their open invoices and the credit they hold."""

    balance: Decimal
    credit_balance: Decimal


def invoice_payable(client: Client, invoice_id: int) -> Invoice | None:
    """``client``'s own open invoice with something left to pay, or None (another client's,
    a draft, paid, void or credit invoice, or no such invoice: the caller cannot tell which)."""
    return (
        Invoice.objects.select_related("practice")
        .filter(
            practice_id=client.practice_id,
            client=client,
            pk=invoice_id,
            kind=Invoice.Kind.INVOICE,
            status=Invoice.Status.OPEN,
            balance__gt=0,
        )
        .first()
    )


def client_balance(client: Client) -> ClientBalance:
    """The client's balance and credit balance from their account (zeros before any)."""
    account = ClientAccount.objects.filter(practice_id=client.practice_id, client=client).first()
    if account is None:
        return ClientBalance(balance=ZERO, credit_balance=ZERO)
    return ClientBalance(balance=account.balance, credit_balance=account.credit_balance)


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


def appointment_billing_state(appointment: Appointment) -> str:
    items = BillingItem.objects.filter(appointment=appointment).select_related("invoice")
    return billing_state_from_items(items)
