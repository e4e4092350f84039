"""Row locks for money writes, always taken in one order to rule out deadlocks:

    practice -> client (and its ClientAccount) -> invoices -> package purchases
    -> billing items -> payments (then their allocations: a refund updates them)

Each helper locks with ``SELECT ... FOR UPDATE`` ordered by primary key and must run
inside ``transaction.atomic``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import QuerySet

from clients.models import Client
from practice.models import Practice

from .models import BillingItem, ClientAccount, Invoice, InvoiceCounter, PackagePurchase, Payment


def lock_practice(practice: Practice) -> Practice:
    """Hold the practice row while an invoice is made, so its currency cannot change under
    it (Settings > Billing details takes the same row FOR UPDATE to change the currency)."""
    return Practice.objects.select_for_update(no_key=True).get(pk=practice.pk)


def lock_client(client: Client) -> ClientAccount:
    """Lock the client's account row (created on first use) and return it."""
    ClientAccount.objects.bulk_create(
        [ClientAccount(practice_id=client.practice_id, client_id=client.pk)], ignore_conflicts=True
    )
    return ClientAccount.objects.select_for_update().get(client_id=client.pk)


def lock_clients(clients: Sequence[Client]) -> dict[int, ClientAccount]:
    """Lock several clients' accounts at once (created on first use), in the order of
    their primary keys, each with its client and payer read alongside (not locked): the
    accounts by client id."""
    ClientAccount.objects.bulk_create(
        [ClientAccount(practice_id=client.practice_id, client_id=client.pk) for client in clients],
        ignore_conflicts=True,
    )
    rows = (
        ClientAccount.objects.select_for_update(of=("self",))
        .select_related("client__payer")
        .filter(client_id__in=[client.pk for client in clients])
        .order_by("pk")
    )
    return {account.client_id: account for account in rows}


def lock_invoices(ids: Iterable[int]) -> dict[int, Invoice]:
    rows = Invoice.objects.select_for_update(of=("self",)).select_related("practice").filter(pk__in=list(ids))
    return {invoice.pk: invoice for invoice in rows.order_by("pk")}


def lock_purchases(qs: QuerySet[PackagePurchase]) -> list[PackagePurchase]:
    """Package purchases, after their invoice (a refund or a void reads its sessions)."""
    return list(qs.select_for_update(of=("self",)).order_by("pk"))


def lock_items(qs: QuerySet[BillingItem]) -> list[BillingItem]:
    return list(qs.select_for_update(of=("self",)).order_by("pk"))


def lock_payment(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


def take_invoice_number(practice_id: int, start: int) -> int:
    """The practice's next invoice number (``take_invoice_numbers`` of one)."""
    return take_invoice_numbers(practice_id, start, 1)


def take_invoice_numbers(practice_id: int, start: int, count: int) -> int:
    """The first of the practice's next ``count`` invoice numbers, taken with its counter
    row locked until commit.

    One statement: the first issue creates the row at ``start``; later ones move it on by
    ``count``. ``ON CONFLICT DO UPDATE`` holds the row lock, so concurrent issuers queue
    here, and a rollback gives the numbers back: no gaps, no duplicates.
    """
    if count < 1:
        raise ValueError("Take at least one invoice number.")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {InvoiceCounter._meta.db_table} (practice_id, next_number) VALUES (%s, %s)
            ON CONFLICT (practice_id)
            DO UPDATE SET next_number = {InvoiceCounter._meta.db_table}.next_number + %s
            RETURNING next_number - %s
            """,  # noqa: S608 - the table name is our own model's, the values are parameters
            [practice_id, start + count, count, count],
        )
        row = cursor.fetchone()
    return int(row[0])
