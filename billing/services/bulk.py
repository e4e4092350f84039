"""Invoice all uninvoiced: one invoice per client for a date range (the Billing page's
button, and the background task behind it)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError

from practice.actor import Actor
from practice.models import Practice, User

from ..models import BillingItem, Invoice
from ..selectors import uninvoiced_by_client
from .invoices import invoice_create


def invoice_all_uninvoiced(
    *,
    practice: Practice,
    actor: Actor | User,
    date_from: date,
    date_to: date,
    issue: bool = True,
    apply_credit: bool = True,
) -> list[Invoice]:
    """One invoice per client for their uninvoiced items in the range, one transaction
    per client: a client whose items were taken meanwhile is skipped, not half-done.

    Each client's credit balance goes onto their new invoice unless ``apply_credit`` is
    False (on a draft it is applied when the draft is issued): a client with credit is not
    sent a bill for the full amount."""
    created = []
    ids_by_client: dict[int, list[int]] = {}
    for client_id, item_id in BillingItem.objects.filter(
        practice=practice, invoice__isnull=True, date__gte=date_from, date__lte=date_to
    ).values_list("client_id", "pk"):
        ids_by_client.setdefault(client_id, []).append(item_id)
    for row in uninvoiced_by_client(practice, date_from, date_to):
        ids = ids_by_client.get(row.client.pk, [])
        if not ids:
            continue
        try:
            created.append(
                invoice_create(
                    practice=practice,
                    client=row.client,
                    actor=actor,
                    item_ids=ids,
                    apply_credit=apply_credit,
                    issue=issue,
                )
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) != "items_taken":
                raise
    return created
