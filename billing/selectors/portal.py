"""What the client portal shows of billing, always scoped to the signed-in person
(clients.portal.portal_scope): their invoices, never a draft."""

from __future__ import annotations

from django.db.models import QuerySet

from clients.portal import PortalRequest, portal_scope

from ..models import Invoice


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
