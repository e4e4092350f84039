"""Reads of packages: Settings > Packages and a client's packages with the sessions left."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from clients.models import Client
from practice.models import Practice

from ..models import Invoice, Package, PackagePurchase


def packages_for_practice(practice: Practice, *, archived: bool = False) -> QuerySet[Package]:
    return (
        Package.objects.filter(practice=practice, is_archived=archived)
        .select_related("service")
        .annotate(sold=Count("purchases"))
        .order_by("name", "pk")
    )


def package_get_for_practice(practice: Practice, package_id: int) -> Package:
    """A package of ``practice``; another practice's id raises DoesNotExist like a missing one."""
    return Package.objects.select_related("service").get(practice=practice, pk=package_id)


def purchase_get_for_practice(practice: Practice, purchase_id: int) -> PackagePurchase:
    return PackagePurchase.objects.select_related("package", "client", "invoice", "service").get(
        practice=practice, pk=purchase_id
    )


@dataclass(frozen=True)
class PackageLine:
    purchase: PackagePurchase
    sessions_left: int
    expired: bool
    usable: bool
    refundable: bool


@dataclass(frozen=True)
class PackageSummary:
    """A client's packages, newest first, and the sessions they can still use."""

    lines: list[PackageLine]
    sessions_left: int

    def __bool__(self) -> bool:
        return bool(self.lines)

    def in_use(self) -> list[PackagePurchase]:
        """Purchases with sessions left on an issued invoice (not a draft or void) and not
        expired, oldest first: the Billing tab's package tiles. Read from the summary's
        rows, so the tab asks for a client's packages once."""
        return [
            line.purchase
            for line in reversed(self.lines)
            if line.sessions_left > 0
            and not line.expired
            and line.purchase.invoice.status not in (Invoice.Status.VOID, Invoice.Status.DRAFT)
        ]


def package_summary(practice: Practice, client: Client, *, count: int | None = None) -> PackageSummary:
    """The client page's "Sessions left": every package sold to ``client`` with what is left
    of it. Sessions of an expired package, or one whose invoice is a draft or void, cannot be
    used and are not counted. One query, none when ``count`` (how many packages the client
    bought, read with other figures) is 0."""
    if count == 0:
        return PackageSummary(lines=[], sessions_left=0)
    today = practice.local_today()
    purchases = (
        PackagePurchase.objects.filter(practice=practice, client=client)
        .select_related("package", "service", "invoice")
        .order_by("-created_at", "-pk")
    )
    lines = []
    for purchase in purchases:
        expired = purchase.expires_on is not None and purchase.expires_on < today
        live_invoice = purchase.invoice.status in (Invoice.Status.OPEN, Invoice.Status.PAID)
        left = purchase.sessions_left
        lines.append(
            PackageLine(
                purchase=purchase,
                sessions_left=left,
                expired=expired,
                usable=live_invoice and not expired and left > 0,
                refundable=live_invoice and left > 0,
            )
        )
    return PackageSummary(lines=lines, sessions_left=sum(line.sessions_left for line in lines if line.usable))
