"""Billing benchmarks: the Invoices tab at 20,000 invoices (and at 100, whose query count
must be the same), creating one invoice from 50 items, and Invoice all uninvoiced for
1,000 clients. Each builds its own practice, so the demo's rows do not move the figures.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import BillingItem, Invoice
from billing.services import invoice_all_uninvoiced, invoice_create
from clients.models import Client
from practice.models import Membership, Practice, Role

from .harness import Context, measure_get

INVOICES_SMALL = 100
INVOICES_BIG = 20_000
ITEMS_PER_INVOICE = 50
CREATE_RUNS = 10
BULK_CLIENTS = 1_000


def _practice(ctx: Context, slug: str, clients: int) -> tuple[Practice, list[Client]]:
    practice, _ = Practice.objects.get_or_create(
        slug=slug, defaults={"name": f"Bench {slug}", "timezone": "America/New_York", "currency": "USD"}
    )
    Membership.objects.get_or_create(user=ctx.owner, practice=practice, defaults={"role": Role.OWNER})
    Client.objects.bulk_create(
        [
            Client(
                practice=practice, first_name=f"First{n:05d}", last_name=f"Last{n:05d}", email=f"c{n:05d}@bench.test"
            )
            for n in range(clients)
        ],
        batch_size=1000,
    )
    return practice, list(Client.objects.filter(practice=practice).order_by("pk"))


def _bulk_invoices(practice: Practice, clients: list[Client], start: int, count: int) -> None:
    """Invoices written straight to the table: numbered, in every status, some overdue. The
    list reads invoice rows and their clients only, so lines are not needed."""
    today = practice.local_today()
    rows = []
    for n in range(start, start + count):
        issued = today - timedelta(days=n % 400)
        total = Decimal(100 + n % 7 * 25)
        kind = n % 10
        if kind == 0:
            status, paid, number, issue_date, due = "draft", Decimal(0), None, None, None
        elif kind < 5:
            status, paid, number, issue_date, due = "paid", total, f"INV-{n:06d}", issued, issued + timedelta(14)
        elif kind < 7:
            status, paid, number, issue_date, due = "open", total / 2, f"INV-{n:06d}", issued, issued + timedelta(14)
        else:
            status, paid, number, issue_date, due = "open", Decimal(0), f"INV-{n:06d}", issued, issued + timedelta(14)
        rows.append(
            Invoice(
                practice=practice,
                client=clients[n % len(clients)],
                status=status,
                number=number,
                sequence=None if number is None else n + 1,
                currency=practice.currency,
                issue_date=issue_date,
                due_date=due,
                subtotal=total,
                total=total,
                amount_paid=paid,
                balance=total - paid,
            )
        )
    Invoice.objects.bulk_create(rows, batch_size=2000)


def invoices_tab(ctx: Context) -> dict[str, Any]:
    """The Invoices tab (first page of 50, with the outstanding and overdue totals) of a
    practice with 20,000 invoices; also timed at 100 invoices, with the same query count."""
    practice, clients = _practice(ctx, "bench-invoices", 500)
    url = reverse("billing:invoices", kwargs={"practice_slug": practice.slug})
    _bulk_invoices(practice, clients, 0, INVOICES_SMALL)
    small = measure_get(ctx.client, url)
    _bulk_invoices(practice, clients, INVOICES_SMALL, INVOICES_BIG - INVOICES_SMALL)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_invoice")
    big = measure_get(ctx.client, url)
    if big["queries"] != small["queries"]:
        raise RuntimeError(
            f"the Invoices tab ran {small['queries']} queries at {INVOICES_SMALL} invoices and "
            f"{big['queries']} at {INVOICES_BIG}: a query per row"
        )
    return {
        **big,
        "invoices": INVOICES_BIG,
        "median_ms_at_100": small["median_ms"],
        "queries_at_100": small["queries"],
    }


def _items(practice: Practice, client: Client, count: int, on: Any) -> list[int]:
    made = BillingItem.objects.bulk_create(
        [
            BillingItem(
                practice=practice,
                client=client,
                kind=BillingItem.Kind.MANUAL,
                date=on,
                description=f"Session {n + 1}",
                unit_price=Decimal("150.00"),
                net=Decimal("150.00"),
                tax=Decimal("0"),
                amount=Decimal("150.00"),
                currency=practice.currency,
            )
            for n in range(count)
        ]
    )
    return [item.pk for item in made]


def invoice_from_50_items(ctx: Context) -> dict[str, Any]:
    """invoice_create(issue=True) of one invoice from 50 uninvoiced items: median of 10 runs
    after one warm-up, each on fresh items of its own client."""
    practice, clients = _practice(ctx, "bench-invoice-create", CREATE_RUNS + 1)
    yesterday = practice.local_today() - timedelta(days=1)
    timings: list[float] = []
    counts: set[int] = set()
    for run, client in enumerate(clients):
        ids = _items(practice, client, ITEMS_PER_INVOICE, yesterday)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            invoice = invoice_create(practice=practice, client=client, actor=ctx.owner, item_ids=ids, issue=True)
            elapsed = (time.perf_counter() - started) * 1000
        if invoice.total != Decimal("7500.00") or invoice.status != Invoice.Status.OPEN:
            raise RuntimeError(f"unexpected invoice {invoice.number}: {invoice.status} {invoice.total}")
        if run:  # the first is the warm-up
            timings.append(elapsed)
            counts.add(len(queries))
    if len(counts) != 1:
        raise RuntimeError(f"invoice creation ran a different number of queries per run: {sorted(counts)}")
    return {"median_ms": round(statistics.median(timings), 2), "queries": counts.pop(), "runs": len(timings)}


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def invoice_all_1000_clients(ctx: Context) -> dict[str, Any]:
    """Invoice all uninvoiced for 1,000 clients with one item each: one run (one
    transaction per client), its wall time and query count."""
    practice, clients = _practice(ctx, "bench-invoice-all", BULK_CLIENTS)
    yesterday = practice.local_today() - timedelta(days=1)
    BillingItem.objects.bulk_create(
        [
            BillingItem(
                practice=practice,
                client=client,
                kind=BillingItem.Kind.MANUAL,
                date=yesterday,
                description="Session",
                unit_price=Decimal("150.00"),
                net=Decimal("150.00"),
                tax=Decimal("0"),
                amount=Decimal("150.00"),
                currency=practice.currency,
            )
            for client in clients
        ],
        batch_size=1000,
    )
    counter = _QueryCounter()
    # A counter rather than CaptureQueriesContext, whose log keeps only the last 9,000 queries.
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        invoices = invoice_all_uninvoiced(
            practice=practice, actor=ctx.owner, date_from=yesterday, date_to=yesterday, issue=True
        )
        elapsed = (time.perf_counter() - started) * 1000
    if len(invoices) != BULK_CLIENTS:
        raise RuntimeError(f"expected {BULK_CLIENTS} invoices, got {len(invoices)}")
    return {
        "median_ms": round(elapsed, 2),
        "queries": counter.count,
        "runs": 1,
        "clients": BULK_CLIENTS,
        "ms_per_client": round(elapsed / BULK_CLIENTS, 2),
    }
