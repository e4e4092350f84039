"""Reads about emailed invoices: one invoice's send log, the Billing page's failed sends,
and an invoice as a payment link opens it."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Prefetch

from practice.models import OutgoingEmail, Practice

from ..models import Invoice, InvoiceLine, PaymentAllocation


def _about_invoices() -> dict[str, object]:
    return {"about_type": ContentType.objects.get_for_model(Invoice)}


def invoice_send_log(practice: Practice, invoice: Invoice) -> list[OutgoingEmail]:
    """Every email about the invoice, newest first, with who asked for it."""
    return list(
        OutgoingEmail.objects.filter(practice=practice, about_id=invoice.pk, **_about_invoices())
        .select_related("created_by")
        .only("pk", "to", "subject", "topic", "status", "error", "created_at", "sent_at", "retry_at", "created_by")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class FailedSend:
    invoice_id: int
    number: str


def invoice_sends_failed(practice: Practice, limit: int = 20) -> tuple[int, list[FailedSend]]:
    """Invoices whose last email failed (and was not sent since): how many, and the first
    ``limit`` of them, newest first."""
    about = _about_invoices()
    sent_later = OutgoingEmail.objects.filter(
        practice=practice,
        about_id=OuterRef("about_id"),
        status=OutgoingEmail.Status.SENT,
        created_at__gt=OuterRef("created_at"),
        **about,
    )
    failed = (
        OutgoingEmail.objects.filter(practice=practice, status=OutgoingEmail.Status.FAILED, **about)
        .exclude(Exists(sent_later))
        .values_list("about_id", flat=True)
    )
    invoices = Invoice.objects.filter(practice=practice, pk__in=failed).order_by("-id")
    count = invoices.count()
    if not count:
        return 0, []
    return count, [FailedSend(pk, number or "draft") for pk, number in invoices.values_list("pk", "number")[:limit]]


def invoice_for_link(practice_id: int, invoice_id: int) -> Invoice | None:
    """The invoice a payment link names, with what its page and PDF show; None when the
    link's practice and invoice do not belong together (or it is gone)."""
    return (
        Invoice.objects.filter(practice_id=practice_id, pk=invoice_id)
        .select_related("practice", "client", "client__payer")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")),
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("payment").order_by("payment__received_on", "id"),
            ),
        )
        .first()
    )
