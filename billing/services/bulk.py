"""Invoice all uninvoiced: one invoice per client for a date range (the Billing page's
button, and the background task behind it)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import DatabaseError

from clients.models import Client
from practice.actor import Actor
from practice.models import Practice, User

from ..models import BillingItem, Invoice
from .invoices import InvoiceBatch, invoice_create

# Clients invoiced together in one transaction: enough that the statements of a batch,
# which do not grow with it, cost little per client; few enough that a batch holds the
# practice's counter only briefly, and that redoing one client by one is cheap.
BATCH_SIZE = 100


def invoice_all_uninvoiced(
    *,
    practice: Practice,
    actor: Actor | User,
    date_from: date,
    date_to: date,
    issue: bool = True,
    apply_credit: bool = True,
) -> list[Invoice]:
    """One invoice per client for their uninvoiced items in the range, in the order of the
    clients' ids: a client whose items were taken meanwhile is skipped, not half-done, and
    a failure for one client changes nothing for the others.

    Clients are invoiced in batches (InvoiceBatch), each in one transaction; a batch that
    is refused as a whole is made again one client per transaction, as it would have been
    without batching.

    Each client's credit balance goes onto their new invoice unless ``apply_credit`` is
    False (on a draft it is applied when the draft is issued): a client with credit is not
    sent a bill for the full amount."""
    actor = Actor.coerce(actor)
    ids_by_client: dict[int, list[int]] = {}
    for client_id, item_id in (
        BillingItem.objects.filter(practice=practice, invoice__isnull=True, date__gte=date_from, date__lte=date_to)
        .order_by("client_id", "pk")
        .values_list("client_id", "pk")
    ):
        ids_by_client.setdefault(client_id, []).append(item_id)
    clients = Client.objects.select_related("payer").in_bulk(list(ids_by_client))
    ordered = [clients[pk] for pk in sorted(ids_by_client)]
    created: list[Invoice] = []
    for start in range(0, len(ordered), BATCH_SIZE):
        batch = InvoiceBatch(practice=practice, actor=actor)
        chunk = ordered[start : start + BATCH_SIZE]
        for client in chunk:
            invoice_create(
                practice=practice,
                client=client,
                actor=actor,
                item_ids=ids_by_client[client.pk],
                apply_credit=apply_credit,
                issue=issue,
                batch=batch,
            )
        try:
            created += batch.write()
        except (ValidationError, DatabaseError):
            # One of them was refused (its items taken meanwhile, a constraint): the batch
            # rolled back as a whole. Make its invoices again one client per transaction,
            # where that client alone is skipped or fails.
            created += _one_by_one(practice, actor, chunk, ids_by_client, issue=issue, apply_credit=apply_credit)
    return created


def _one_by_one(
    practice: Practice,
    actor: Actor,
    clients: list[Client],
    ids_by_client: dict[int, list[int]],
    *,
    issue: bool,
    apply_credit: bool,
) -> list[Invoice]:
    created = []
    for client in clients:
        try:
            created.append(
                invoice_create(
                    practice=practice,
                    client=client,
                    actor=actor,
                    item_ids=ids_by_client[client.pk],
                    apply_credit=apply_credit,
                    issue=issue,
                )
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) != "items_taken":
                raise
    return created
