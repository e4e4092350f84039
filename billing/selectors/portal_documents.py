"""What the portal's Documents page reads: the receipts of the people the signed-in client
(or payer) may see, one per payment that took place, and one of them by id.

Every read takes the practice and the ids of the clients the portal session covers (the
client, or every client a payer pays for) and filters on both: another client's payment,
in this practice or another, is the same 404 as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from practice.models import Practice

from ..documents.receipt import RECEIPT_STATUSES
from ..models import Payment, PaymentAllocation

RECEIPTS_PAGE_SIZE = 25


def portal_receipts(practice: Practice, client_ids: Collection[int]) -> QuerySet[Payment]:
    """Payments of these clients that have a receipt, newest first, with their client."""
    return (
        Payment.objects.filter(practice=practice, client_id__in=list(client_ids), status__in=RECEIPT_STATUSES)
        .select_related("client")
        .order_by("-received_on", "-id")
    )


def portal_receipts_page(practice: Practice, client_ids: Collection[int], page_number: Any = None) -> Page:
    return Paginator(portal_receipts(practice, client_ids), RECEIPTS_PAGE_SIZE).get_page(page_number)


def portal_receipt_payment(practice: Practice, client_ids: Collection[int], payment_id: int) -> Payment:
    """One payment with a receipt, of one of these clients, ready for
    billing.documents.receipt.payment_receipt; anything else is Http404."""
    allocations = PaymentAllocation.objects.select_related("invoice").order_by("pk")
    payment = (
        portal_receipts(practice, client_ids)
        .select_related("client__payer")
        .prefetch_related(Prefetch("allocations", queryset=allocations))
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        raise Http404("No such receipt.")
    return payment
