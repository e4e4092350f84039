"""Report benchmarks: each report over a practice of 100,000 invoices and 200,000 ledger
rows, for the whole practice and for one clinician, beside the floor of its SQL run bare;
and the CSV export of the full aging report. Goal: at most 300 ms each.

The practice is written set-based, as the services would write it (bench.data's invoices,
payments and credit invoices, then sessions, refunds and write-offs below), and
``ledger_verify`` must find nothing wrong in it before anything is timed:

- 100,000 invoices over the last 400 days for 5,000 clients (bench.data: one in twenty a
  draft, one in twenty a credit invoice, the rest paid, part paid or open);
- every issued invoice's line is a session of one of four clinicians, of one of three
  services (an appointment and its billing item), so a clinician's share is real work;
- 30,000 payments part refunded (25.00 each) and 15,000 open invoices written off.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, datetime, timedelta, tzinfo
from datetime import time as dt_time
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Appointment, Service
from billing.ledger_verify import ledger_verify
from billing.models import BillingItem, Invoice, InvoiceLine, LedgerEntry
from practice.models import Membership, Practice, Role, User
from reports.forms import presets
from reports.models import RevenueStale
from reports.selectors.revenue import revenue_refresh

from .data import LABEL, bench_practice, bulk_invoices
from .harness import Context, measure_get, sql_floor, with_floors

INVOICES = 100_000
CLIENTS = 5_000
CHUNK = 10_000
CLINICIANS = 4
REFUNDS = 30_000
WRITE_OFFS = 15_000
CSV_RUNS = 10
SLUG = "bench-reports"


def _clinicians(practice: Practice) -> list[User]:
    found = []
    for n in range(CLINICIANS):
        user, _ = User.objects.get_or_create(
            email=f"clinician{n}@{SLUG}.bench.test", defaults={"first_name": f"Clinician{n}", "last_name": "Bench"}
        )
        Membership.objects.get_or_create(user=user, practice=practice, defaults={"role": Role.CLINICIAN})
        found.append(user)
    return found


def _sessions(practice: Practice, clinicians: list[User]) -> None:
    """Make every issued invoice's line a completed session: an appointment of a clinician
    and its billing item, on the invoice."""
    services = [
        Service.objects.get_or_create(practice=practice, name=name, defaults={"price": Decimal("150"), "code": code})[0]
        for name, code in (("Individual therapy", "B1"), ("Couples therapy", "B2"), ("Assessment", "B3"))
    ]
    found = (
        InvoiceLine.objects.filter(
            invoice__practice=practice,
            invoice__kind=Invoice.Kind.INVOICE,
            invoice__status__in=[Invoice.Status.OPEN, Invoice.Status.PAID],
            billing_item__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", "invoice_id", "invoice__client_id", "invoice__issue_date", "amount")
    )
    # An issued invoice always has its issue date.
    lines: list[tuple[int, int, int, date, Decimal]] = [
        (pk, invoice_id, client_id, issued, amount) for pk, invoice_id, client_id, issued, amount in found if issued
    ]
    tz = practice.tzinfo
    for start in range(0, len(lines), 5_000):
        chunk = lines[start : start + 5_000]
        appointments = Appointment.objects.bulk_create(
            [
                Appointment(
                    practice=practice,
                    clinician=clinicians[line_id % CLINICIANS],
                    start=_at(issued, tz) - timedelta(days=1),
                    end=_at(issued, tz) - timedelta(days=1) + timedelta(minutes=50),
                    status=Appointment.Status.COMPLETED,
                    completed_at=_at(issued, tz),
                )
                for line_id, _invoice_id, _client_id, issued, _amount in chunk
            ]
        )
        items = BillingItem.objects.bulk_create(
            [
                BillingItem(
                    practice=practice,
                    client_id=client_id,
                    appointment=appointment,
                    service=services[line_id % len(services)],
                    kind=BillingItem.Kind.SESSION,
                    date=issued - timedelta(days=1),
                    description="Individual session",
                    unit_price=amount,
                    net=amount,
                    tax=Decimal("0"),
                    amount=amount,
                    currency=practice.currency,
                    invoice_id=invoice_id,
                )
                for (line_id, invoice_id, client_id, issued, amount), appointment in zip(
                    chunk, appointments, strict=True
                )
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {InvoiceLine._meta.db_table} AS line
                SET billing_item_id = made.item_id, service_id = made.service_id
                FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS made(line_id, item_id, service_id)
                WHERE line.id = made.line_id
                """,  # noqa: S608 - our own table name; values are parameters
                [[line[0] for line in chunk], [item.pk for item in items], [item.service_id for item in items]],
            )


def _at(day: date, tz: tzinfo) -> datetime:
    """10 in the morning of ``day`` in the practice's zone: when the bench's sessions end."""
    return datetime.combine(day, dt_time(10, 0), tzinfo=tz)


# Refunds: 25.00 of the first REFUNDS payments that paid an invoice in full, each with its
# refund allocation, the payment's and the allocation's refunded, the invoice owing it
# again, a refund entry in the ledger and the client's balance moved.
_REFUNDS_SQL = """
CREATE TEMP TABLE bench_refunded ON COMMIT DROP AS
SELECT p.id AS payment_id, p.client_id, p.method, a.id AS allocation_id, a.invoice_id,
       LEAST(p.received_on + 3, %(today)s) AS refunded_on
FROM billing_payment p JOIN billing_paymentallocation a ON a.payment_id = p.id
WHERE p.practice_id = %(practice)s AND p.status = 'succeeded' AND p.refunded = 0 AND a.amount >= 25
ORDER BY p.id LIMIT %(count)s;

INSERT INTO billing_refund (practice_id, client_id, payment_id, amount, from_credit, currency, refunded_on,
                            method, reason, external_id, created_at)
SELECT %(practice)s, client_id, payment_id, 25, 0, %(currency)s, refunded_on, method, 'Bench refund', '', now()
FROM bench_refunded;

INSERT INTO billing_refundallocation (refund_id, invoice_id, amount)
SELECT r.id, b.invoice_id, 25 FROM billing_refund r JOIN bench_refunded b ON b.payment_id = r.payment_id;

UPDATE billing_payment SET refunded = 25, status = 'partially_refunded'
WHERE id IN (SELECT payment_id FROM bench_refunded);

UPDATE billing_paymentallocation SET refunded = 25 WHERE id IN (SELECT allocation_id FROM bench_refunded);

UPDATE billing_invoice SET amount_paid = amount_paid - 25, balance = balance + 25, status = 'open', paid_at = NULL
WHERE id IN (SELECT invoice_id FROM bench_refunded);

INSERT INTO billing_ledgerentry (practice_id, client_id, kind, balance_delta, credit_delta, currency,
                                 payment_id, memo, actor_label, created_at)
SELECT %(practice)s, client_id, 'refund', 25, 0, %(currency)s, payment_id, '', %(label)s, now()
FROM bench_refunded;

UPDATE billing_clientaccount a SET balance = a.balance + moved.amount
FROM (SELECT client_id, 25 * COUNT(*) AS amount FROM bench_refunded GROUP BY client_id) moved
WHERE a.client_id = moved.client_id;
"""

# Write-offs: WRITE_OFFS open invoices nothing was paid on, written off a month after issue.
_WRITE_OFFS_SQL = """
CREATE TEMP TABLE bench_written_off ON COMMIT DROP AS
SELECT i.id AS invoice_id, i.client_id, i.balance AS amount,
       LEAST((i.issue_date + 30)::timestamp AT TIME ZONE %(tz)s + interval '12 hours', now()) AS written_at
FROM billing_invoice i
WHERE i.practice_id = %(practice)s AND i.kind = 'invoice' AND i.status = 'open' AND i.amount_paid = 0
  AND i.balance > 0 AND i.id %% 2 = 0
ORDER BY i.id LIMIT %(count)s;

UPDATE billing_invoice i SET written_off = w.amount, balance = 0, status = 'paid', paid_at = w.written_at,
       written_off_at = w.written_at, write_off_reason = 'Bench write-off'
FROM bench_written_off w WHERE i.id = w.invoice_id;

INSERT INTO billing_ledgerentry (practice_id, client_id, kind, balance_delta, credit_delta, currency,
                                 invoice_id, memo, actor_label, created_at)
SELECT %(practice)s, client_id, 'write_off', -amount, 0, %(currency)s, invoice_id, '', %(label)s, written_at
FROM bench_written_off;

UPDATE billing_clientaccount a SET balance = a.balance - moved.amount
FROM (SELECT client_id, SUM(amount) AS amount FROM bench_written_off GROUP BY client_id) moved
WHERE a.client_id = moved.client_id;
"""


def _run_sql(script: str, params: dict[str, Any]) -> None:
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for statement in script.split(";\n"):
            if statement.strip():
                cursor.execute(statement, params)


def _reports_practice(ctx: Context) -> tuple[Practice, list[User]]:
    """The practice of 100,000 invoices (built once per run)."""
    practice, clients = bench_practice(ctx.owner, SLUG, CLIENTS)
    clinicians = _clinicians(practice)
    if Invoice.objects.filter(practice=practice).exists():
        return practice, clinicians
    started = time.perf_counter()
    for start in range(0, INVOICES, CHUNK):
        bulk_invoices(practice, clients, start, CHUNK)
    # Fresh statistics, or PostgreSQL plans the reads below as if the tables were empty.
    _analyze()
    _sessions(practice, clinicians)
    _analyze()
    params = {
        "practice": practice.pk,
        "currency": practice.currency,
        "today": practice.local_today(),
        "tz": practice.timezone,
        "label": LABEL,
    }
    _run_sql(_REFUNDS_SQL, {**params, "count": REFUNDS})
    _run_sql(_WRITE_OFFS_SQL, {**params, "count": WRITE_OFFS})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    problems = ledger_verify(practice)
    if problems:
        raise RuntimeError(f"The reports bench practice's books disagree: {problems[:5]}")
    took = time.perf_counter() - started
    print(f"  built {INVOICES:,} invoices, {_ledger_rows(practice):,} ledger rows in {took:.0f} s", flush=True)
    return practice, clinicians


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _ledger_rows(practice: Practice) -> int:
    return LedgerEntry.objects.filter(practice=practice).count()


def _report(ctx: Context, name: str, *, period: bool) -> dict[str, Any]:
    """One report for the whole practice and for one clinician's share, over the last 12
    months when it sums a period (Revenue, Payments), over every open invoice otherwise."""
    practice, clinicians = _reports_practice(ctx)
    address = reverse(f"reports:{name}", kwargs={"practice_slug": practice.slug})
    query = ""
    if period:
        last_12 = next(
            p for key, _label, p in presets(practice.local_today(), with_all=False) if key == "last_12_months"
        )
        query = f"?date_from={last_12.start}&date_to={last_12.end}"
    whole = measure_get(ctx.client, f"{address}{query}")
    separator = "&" if query else "?"
    theirs = measure_get(ctx.client, f"{address}{query}{separator}clinician={clinicians[0].pk}")
    return {
        **whole,
        "invoices": INVOICES,
        "ledger_rows": _ledger_rows(practice),
        "clinician_median_ms": theirs["median_ms"],
        "clinician_queries": theirs["queries"],
        "clinician_floor_sql_ms": theirs.get("floor_sql_ms", 0.0),
        "clinician_floor_ms": theirs.get("floor_ms", 0.0),
    }


def report_aging(ctx: Context) -> dict[str, Any]:
    """Aging of every open invoice (about 45,000), 50 clients a page."""
    return _report(ctx, "aging", period=False)


def report_revenue(ctx: Context) -> dict[str, Any]:
    """Revenue of the last 12 months: by month, service and clinician. Also timed: working
    out every day of the practice's sums (``revenue_refresh_all_ms``, what the first report
    after the migration does) and one busy day's (``revenue_refresh_day_ms``, what the
    first report after a day of changes does: about 250 invoices and their payments)."""
    practice, _clinicians = _reports_practice(ctx)
    refresh = {}
    for key, day in (("revenue_refresh_all_ms", None), ("revenue_refresh_day_ms", practice.local_today())):
        RevenueStale.objects.create(practice_id=practice.pk, day=day)
        started = time.perf_counter()
        revenue_refresh(practice)
        refresh[key] = round((time.perf_counter() - started) * 1000, 2)
    return {**_report(ctx, "revenue", period=True), **refresh}


def report_payments(ctx: Context) -> dict[str, Any]:
    """Payments of the last 12 months: by method and by day (365 rows), with fees."""
    return _report(ctx, "payments", period=True)


def report_balances(ctx: Context) -> dict[str, Any]:
    """Outstanding balances and credits of every client, 50 a page."""
    return _report(ctx, "balances", period=False)


def report_aging_csv(ctx: Context) -> dict[str, Any]:
    """The CSV of the full aging report (every client who owes), streamed to the end:
    median of 10 downloads after 2 untimed, beside the floor of its SQL run bare."""
    practice, _clinicians = _reports_practice(ctx)
    address = reverse("reports:aging", kwargs={"practice_slug": practice.slug}) + "?format=csv"

    def download() -> bytes:
        response = ctx.client.get(address)
        if response.status_code != 200:
            raise RuntimeError(f"GET {address} answered {response.status_code}")
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]

    for _ in range(2):
        download()
    timings, counts = [], set()
    for _ in range(CSV_RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            body = download()
            timings.append((time.perf_counter() - started) * 1000)
        counts.add(len(queries))
    if len(counts) != 1:
        raise RuntimeError(f"The aging CSV ran a different number of queries per download: {sorted(counts)}")
    with CaptureQueriesContext(connection) as queries:
        download()
    figures = {"median_ms": round(statistics.median(timings), 2), "queries": counts.pop(), "runs": CSV_RUNS}
    return {
        **with_floors(figures, sql_floor([q["sql"] for q in queries.captured_queries], runs=CSV_RUNS)),  # type: ignore[arg-type]
        "rows": body.count(b"\n") - 2,  # less the header and the total
        "bytes": len(body),
        "invoices": INVOICES,
    }
