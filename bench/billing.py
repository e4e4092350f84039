"""Billing benchmarks, each on practices of its own so the demo's rows do not move the
figures:

- the Billing page's Invoices, Payments and Credits tabs at 20,000 invoices, each also
  timed at 100 invoices (same query count, and the ratio of the two times);
- a client's Billing tab with 200 uninvoiced items and 300 invoices (and at 10 of each);
- an invoice page with 30 lines (and with 3);
- creating and issuing one invoice from 50 items;
- Invoice all uninvoiced for 1,000 clients with 3 items each;
- ``ledger_verify`` over all the bench data, per 100,000 ledger rows.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.urls import reverse

from billing.ledger_verify import ledger_verify
from billing.models import BillingItem, Invoice, LedgerEntry
from billing.services import invoice_all_uninvoiced, invoice_create
from clients.models import Client
from practice.models import Practice

from .data import bench_practice, bulk_invoices
from .harness import Context, PageFigures, dry_run_sql, measure_gets, owner_client, sql_floor, with_floors

INVOICES_SMALL = 100
INVOICES_BIG = 20_000
ITEMS_PER_INVOICE = 50
CREATE_RUNS = 10
BULK_CLIENTS = 1_000
BULK_ITEMS_PER_CLIENT = 3


def _billing_practice(ctx: Context, invoices: int) -> Practice:
    """A practice of 500 clients holding ``invoices`` invoices (built once per run)."""
    practice, clients = bench_practice(ctx.owner, f"bench-billing-{invoices}", 500)
    have = Invoice.objects.filter(practice=practice).count()
    if have < invoices:
        bulk_invoices(practice, clients, have, invoices - have)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    return practice


def _small_and_big(ctx: Context, name: str, url_name: str) -> dict[str, Any]:
    small_practice, big_practice = _billing_practice(ctx, INVOICES_SMALL), _billing_practice(ctx, INVOICES_BIG)
    pair = (small_practice, big_practice)
    small, big = measure_gets(
        [owner_client(p) for p in pair], [reverse(url_name, kwargs={"practice_slug": p.slug}) for p in pair]
    )
    return {
        **big,
        "invoices": INVOICES_BIG,
        "median_ms_at_100": small["median_ms"],
        "queries_at_100": small["queries"],
        "growth": round(big["median_ms"] / small["median_ms"], 2),
    }


def invoices_tab(ctx: Context) -> dict[str, Any]:
    """The Invoices tab (first page, with the outstanding and overdue totals) at 20,000 invoices."""
    return _small_and_big(ctx, "the Invoices tab", "billing:invoices")


def payments_tab(ctx: Context) -> dict[str, Any]:
    """The Payments tab (first page) of the practice with 20,000 invoices (about 11,000 payments)."""
    return _small_and_big(ctx, "the Payments tab", "billing:payments")


def credits_tab(ctx: Context) -> dict[str, Any]:
    """The Credits tab (first page) of the practice with 20,000 invoices (credit invoices
    and overpayments, with the invoices each credit paid)."""
    return _small_and_big(ctx, "the Credits tab", "billing:credits")


def _items(practice: Practice, client: Client, count: int, on: Any) -> list[int]:
    made = BillingItem.objects.bulk_create(
        [
            BillingItem(
                practice=practice,
                client=client,
                kind=BillingItem.Kind.MANUAL,
                date=on - timedelta(days=n % 60),
                description=f"Session {n + 1}",
                unit_price=Decimal("150.00"),
                net=Decimal("150.00"),
                tax=Decimal("0"),
                amount=Decimal("150.00"),
                currency=practice.currency,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    return [item.pk for item in made]


def client_billing_tab(ctx: Context) -> dict[str, Any]:
    """A client's Billing tab (uninvoiced panel, invoices, account history) for a client
    with 200 uninvoiced items and 300 invoices; also timed for one with 10 of each."""
    practice, clients = bench_practice(ctx.owner, "bench-client-billing", 2)
    small_client, big_client = clients
    yesterday = practice.local_today() - timedelta(days=1)
    if not Invoice.objects.filter(practice=practice).exists():
        bulk_invoices(practice, [small_client], 0, 10)
        bulk_invoices(practice, [big_client], 10, 300)
        _items(practice, small_client, 10, yesterday)
        _items(practice, big_client, 200, yesterday)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")

    def url(client: Client) -> str:
        return reverse("clients:billing", kwargs={"practice_slug": practice.slug, "client_id": client.pk})

    small, big = measure_gets(ctx.client, [url(small_client), url(big_client)])
    return {
        **big,
        "items": 200,
        "invoices": 300,
        "median_ms_at_10": small["median_ms"],
        "queries_at_10": small["queries"],
        "growth": round(big["median_ms"] / small["median_ms"], 2),
    }


def invoice_page(ctx: Context) -> dict[str, Any]:
    """An issued invoice's page with 30 lines; also timed with 3 lines (same query count)."""
    practice, clients = bench_practice(ctx.owner, "bench-invoice-page", 2)
    yesterday = practice.local_today() - timedelta(days=1)
    invoices = []
    for client, lines in zip(clients, (3, 30), strict=True):
        invoice = Invoice.objects.filter(practice=practice, client=client).first()
        if invoice is None:
            ids = _items(practice, client, lines, yesterday)
            invoice = invoice_create(practice=practice, client=client, actor=ctx.owner, item_ids=ids, issue=True)
        invoices.append(invoice)

    def url(invoice: Invoice) -> str:
        return reverse("billing:invoice", kwargs={"practice_slug": practice.slug, "invoice_id": invoice.pk})

    small, big = measure_gets(ctx.client, [url(invoices[0]), url(invoices[1])])
    return {**big, "lines": 30, "median_ms_at_3": small["median_ms"], "queries_at_3": small["queries"]}


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def invoice_from_50_items(ctx: Context) -> PageFigures:
    """invoice_create(issue=True) of one invoice from 50 uninvoiced items: median of 10 runs
    after one warm-up, each on fresh items of its own client. The SQL floor replays the
    statements of one more run, captured and rolled back."""
    practice, clients = bench_practice(ctx.owner, "bench-invoice-create", CREATE_RUNS + 2)
    yesterday = practice.local_today() - timedelta(days=1)
    timings: list[float] = []
    counts: set[int] = set()
    *runs, spare = clients
    for run, client in enumerate(runs):
        ids = _items(practice, client, ITEMS_PER_INVOICE, yesterday)
        counter = _QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            invoice = invoice_create(practice=practice, client=client, actor=ctx.owner, item_ids=ids, issue=True)
            elapsed = (time.perf_counter() - started) * 1000
        if invoice.total != Decimal("7500.00") or invoice.status != Invoice.Status.OPEN:
            raise RuntimeError(f"unexpected invoice {invoice.number}: {invoice.status} {invoice.total}")
        if run:  # the first is the warm-up
            timings.append(elapsed)
            counts.add(counter.count)
    if len(counts) != 1:
        raise RuntimeError(f"invoice creation ran a different number of queries per run: {sorted(counts)}")
    ids = _items(practice, spare, ITEMS_PER_INVOICE, yesterday)
    statements = dry_run_sql(
        lambda: invoice_create(practice=practice, client=spare, actor=ctx.owner, item_ids=ids, issue=True)
    )
    figures: PageFigures = {
        "median_ms": round(statistics.median(timings), 2),
        "queries": counts.pop(),
        "runs": len(timings),
    }
    return with_floors(figures, sql_floor(statements, runs=10))


def invoice_all_1000_clients(ctx: Context) -> dict[str, Any]:
    """Invoice all uninvoiced for 1,000 clients with 3 items each: one run, its wall time
    and query count. The SQL floor replays the statements of a dry run (rolled back)."""
    practice, clients = bench_practice(ctx.owner, "bench-invoice-all", BULK_CLIENTS)
    yesterday = practice.local_today() - timedelta(days=1)
    BillingItem.objects.bulk_create(
        [
            BillingItem(
                practice=practice,
                client=client,
                kind=BillingItem.Kind.MANUAL,
                date=yesterday,
                description=f"Session {n + 1}",
                unit_price=Decimal("150.00"),
                net=Decimal("150.00"),
                tax=Decimal("0"),
                amount=Decimal("150.00"),
                currency=practice.currency,
            )
            for client in clients
            for n in range(BULK_ITEMS_PER_CLIENT)
        ],
        batch_size=1000,
    )

    def work() -> list[Invoice]:
        return invoice_all_uninvoiced(
            practice=practice, actor=ctx.owner, date_from=yesterday, date_to=yesterday, issue=True
        )

    # The floor replays the dry run's statements before the real run invoices the items.
    floor_sql = sql_floor(dry_run_sql(work), runs=1, warmup=0)
    counter = _QueryCounter()
    # A counter rather than CaptureQueriesContext, whose log keeps only the last 9,000 queries.
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        invoices = work()
        elapsed = (time.perf_counter() - started) * 1000
    if len(invoices) != BULK_CLIENTS:
        raise RuntimeError(f"expected {BULK_CLIENTS} invoices, got {len(invoices)}")
    figures = with_floors({"median_ms": round(elapsed, 2), "queries": counter.count, "runs": 1}, floor_sql)
    return {
        **figures,
        "clients": BULK_CLIENTS,
        "items_per_client": BULK_ITEMS_PER_CLIENT,
        "ms_per_client": round(elapsed / BULK_CLIENTS, 2),
        "floor_ms_per_client": round(figures["floor_ms"] / BULK_CLIENTS, 2),
    }


def ledger_verify_all(ctx: Context) -> dict[str, Any]:
    """``ledger_verify`` over every practice in the bench database (the demo and the bench
    practices, at least the 20,000-invoice one): its time, and the time per 100,000 ledger
    rows. It must find nothing wrong."""
    _billing_practice(ctx, INVOICES_BIG)
    rows = LedgerEntry.objects.count()
    problems = ledger_verify()
    if problems:
        raise RuntimeError(f"ledger_verify found {len(problems)} problems in the bench data: {problems[:3]}")
    timings = []
    counter = _QueryCounter()
    for _ in range(3):
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            ledger_verify()
            timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    return {
        "median_ms": round(median, 2),
        "queries": counter.count // 3,
        "runs": 3,
        "ledger_rows": rows,
        "ms_per_100k_rows": round(median * 100_000 / rows, 2),
    }
