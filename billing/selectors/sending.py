"""Reads about emailed invoices: one invoice's send log, the Billing page's failed sends,
and an invoice as a payment link opens it."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Prefetch

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


# An invoice whose last email failed: a failed email about it with no email sent about it
# since. The count comes with the first rows (a window is computed before the LIMIT).
_SENDS_FAILED_SQL = """
SELECT i.id, i.number, COUNT(*) OVER ()
FROM {invoice} i
WHERE i.practice_id = %(p)s AND i.id IN (
    SELECT f.about_id FROM {email} f
    WHERE f.practice_id = %(p)s AND f.about_type_id = %(type)s AND f.status = %(failed)s
      AND NOT EXISTS (
          SELECT 1 FROM {email} s
          WHERE s.practice_id = %(p)s AND s.about_type_id = %(type)s AND s.about_id = f.about_id
            AND s.status = %(sent)s AND s.created_at > f.created_at))
ORDER BY i.id DESC
LIMIT %(limit)s
"""


def invoice_sends_failed(practice: Practice, limit: int = 20) -> tuple[int, list[FailedSend]]:
    """Invoices whose last email failed (and was not sent since): how many, and the first
    ``limit`` of them, newest first. One statement of fixed text: every Billing tab shows
    it, and through the ORM it cost six times what PostgreSQL needs."""
    sql = _SENDS_FAILED_SQL.format(invoice=Invoice._meta.db_table, email=OutgoingEmail._meta.db_table)
    params: dict[str, int | str] = {
        "p": practice.pk,
        "type": ContentType.objects.get_for_model(Invoice).pk,
        "failed": OutgoingEmail.Status.FAILED.value,
        "sent": OutgoingEmail.Status.SENT.value,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return 0, []
    return rows[0][2], [FailedSend(pk, number or "draft") for pk, number, _ in rows]


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
