"""What the client portal shows of billing, always scoped to the signed-in person
(clients.portal.portal_scope): their issued invoices (never a draft, never a credit
invoice), and one of them by id, where another client's id is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from clients.portal import PortalRequest, portal_scope

from ..models import Invoice, InvoiceLine, PaymentAllocation

# The portal's words for an invoice's status (billing.statuses has the biller's).
PORTAL_STATUS = {
    "open": ("Unpaid", "badge-bad"),
    "issued": ("Unpaid", "badge-bad"),
    "partially_paid": ("Partially paid", "badge-warn"),
    "overdue": ("Overdue", "badge-bad"),
    "paid": ("Paid", "badge-ok"),
    "written_off": ("Written off", ""),
    "void": ("Void", ""),
}


def portal_invoices(request: PortalRequest) -> QuerySet[Invoice]:
    """Invoices the portal shows: issued ones (open, paid or void), not credit invoices."""
    return portal_scope(request, Invoice.objects.all()).filter(
        kind=Invoice.Kind.INVOICE, status__in=[Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.VOID]
    )


def portal_unpaid(request: PortalRequest) -> QuerySet[Invoice]:
    """Open invoices with something still owed, oldest first (the order Pay full balance
    allocates in)."""
    return (
        portal_scope(request, Invoice.objects.all())
        .filter(kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN, balance__gt=0)
        .order_by("issue_date", "sequence", "pk")
    )


def portal_unpaid_count(request: PortalRequest) -> int:
    return portal_unpaid(request).count()


@dataclass(frozen=True)
class PortalInvoiceRow:
    invoice: Invoice
    status: str
    badge: str

    @property
    def unpaid(self) -> bool:
        return self.invoice.status == Invoice.Status.OPEN and self.invoice.balance > 0


def portal_status(invoice: Invoice) -> tuple[str, str]:
    return PORTAL_STATUS.get(invoice.status_code, (invoice.display_status, ""))


def portal_invoice_rows(request: PortalRequest) -> list[PortalInvoiceRow]:
    """Every invoice the portal shows, newest first, with its status in the client's words
    (one query)."""
    invoices = list(portal_invoices(request).select_related("client").order_by("-issue_date", "-sequence", "-pk"))
    for invoice in invoices:
        invoice.practice = request.practice  # every one is of this practice: no query per row
    return [PortalInvoiceRow(invoice, *portal_status(invoice)) for invoice in invoices]


def portal_owed(rows: list[PortalInvoiceRow]) -> Decimal:
    return sum((row.invoice.balance for row in rows if row.unpaid), Decimal("0"))


def portal_invoice_get(request: PortalRequest, invoice_id: int) -> Invoice:
    """One invoice the portal shows, with its lines and payments for its details and
    document; another client's (or practice's) invoice, a draft or a credit invoice is a
    404, the same as one that does not exist."""
    invoice = (
        portal_invoices(request)
        .select_related("practice", "client", "client__payer")
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
    return invoice
