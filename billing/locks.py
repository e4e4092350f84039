"""Row locks for money writes, always taken in one order to rule out deadlocks:

    practice -> client (and its ClientAccount) -> invoices -> package purchases
    -> billing items -> payments (then their allocations: a refund updates them)

Each helper locks with ``SELECT ... FOR UPDATE`` ordered by primary key and must run
inside ``transaction.atomic``.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    """The practice's next invoice number, taken with its counter row locked until commit.

    One statement: the first issue creates the row at ``start``; later ones increment it.
    ``ON CONFLICT DO UPDATE`` holds the row lock, so concurrent issuers queue here, and a
    rollback gives the number back: no gaps, no duplicates.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {InvoiceCounter._meta.db_table} (practice_id, next_number) VALUES (%s, %s)
            ON CONFLICT (practice_id)
            DO UPDATE SET next_number = {InvoiceCounter._meta.db_table}.next_number + 1
            RETURNING next_number - 1
            """,  # noqa: S608 - the table name is our own model's, the values are parameters
            [practice_id, start + 1],
        )
        row = cursor.fetchone()
    return int(row[0])
