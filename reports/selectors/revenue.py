"""Revenue: what was invoiced against what was collected, by month, by service and by
clinician, with credit invoices, write-offs and refunds in their own columns.

Each figure is dated as a practice reads its documents: an invoice or a credit invoice by
its issue date, a payment by the day it was received, a refund by the day it was made, a
write-off by the (local) day it was written off. A voided invoice or credit invoice and a
deleted payment count nowhere, as they count nowhere in the ledger.

Over all time, ``net billed - net collected`` is what the ledger says the clients owe less
the credit they hold (tests/reports/test_reports_sum_to_the_ledger.py).

By service and by clinician, money that moved on a whole invoice (a payment, a refund, a
write-off) is split over its lines in proportion to their amounts. An overpayment kept as
credit, and credit refunded, are on no invoice: they have a row of their own.

The figures are read from reports.models.RevenueDay, the practice's sums per day, which
``revenue_refresh`` first brings up to date for the days billing's triggers marked. A
clinician's figures are their lines' parts: their share of each invoice's money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from practice.models import Practice

from ..forms import Period
from ..models import RevenueDay, RevenueStale
from .common import LIVE_PAYMENTS, TABLES, ZERO, Scope, day_bounds, fetch_all, money

COLUMNS = ("invoiced", "credits", "written_off", "collected", "refunds")
NO_SERVICE = "No service (lines typed by hand, packages)"
NO_CLINICIAN = "No session (lines typed by hand, packages)"
NOT_ON_INVOICE = "Not on an invoice (overpayments kept as credit, credit refunded)"


@dataclass(frozen=True)
class RevenueRow:
    label: str
    invoiced: Decimal = ZERO
    credits: Decimal = ZERO
    written_off: Decimal = ZERO
    collected: Decimal = ZERO
    refunds: Decimal = ZERO
    key: Any = None

    @property
    def net_billed(self) -> Decimal:
        return self.invoiced - self.credits - self.written_off

    @property
    def net_collected(self) -> Decimal:
        return self.collected - self.refunds


@dataclass
class Revenue:
    months: list[RevenueRow]
    total: RevenueRow
    by_service: list[RevenueRow] = field(default_factory=list)
    by_clinician: list[RevenueRow] = field(default_factory=list)


def _row(label: str, figures: list[Any], key: Any = None) -> RevenueRow:
    invoiced, credits, written_off, collected, refunds = (money(v) for v in figures)
    return RevenueRow(label, invoiced, credits, written_off, collected, refunds, key=key)


# --- keeping reports.models.RevenueDay -----------------------------------------------------

# Advisory lock class (pg_advisory_xact_lock's first key; practice.services uses 9101-9102,
# clients.portal_signin 15001-15002): one refresh of a practice's days at a time.
REFRESH_LOCK = 17_001

_PART_SUMS = ", ".join(f"COALESCE(SUM({c}), 0)" for c in COLUMNS)


def _line_part(column: str) -> str:
    """A line's part of an invoice's ``column``: in proportion to the line's amount. A line
    that is the whole invoice (one line, the usual case) takes it all, with no division."""
    return (
        f"CASE WHEN l.amount = f.total AND f.total <> 0 THEN f.{column} "
        f"ELSE f.{column} * l.amount / NULLIF(f.total, 0) END"
    )


def _days_sql(only_marked: bool) -> str:
    """Every RevenueDay row of the practice's days (the marked ones, or all): its
    ``total``, ``line`` and ``off`` parts, as ``INSERT ... SELECT``.

    Each figure is dated as a practice reads its documents: an invoice or a credit invoice
    by its issue date, a payment by the day it was received, a refund by the day it was
    made, a write-off by the (local) day it was written off. A voided invoice or credit
    invoice and a deleted payment count nowhere, as they count nowhere in the ledger.

    ``line``: each invoice's money of each day (issued, written off, paid, refunded) is
    spread over its lines in proportion to their amounts, per line's service and its
    session's clinician (a line typed by hand, or a package, has none).
    """
    payment, refund, invoice = TABLES["payment"], TABLES["refund"], TABLES["invoice"]
    if only_marked:
        on = {c: f"AND {c} = ANY(%(days)s)" for c in ("i.issue_date", "p.received_on", "r.refunded_on")}
        # The write-off's local day: read through the index on written_off_at, a day around.
        written = (
            "AND i.written_off_at >= %(first)s AND i.written_off_at < %(last)s "
            "AND (i.written_off_at AT TIME ZONE %(tz)s)::date = ANY(%(days)s)"
        )
    else:
        on = {c: "" for c in ("i.issue_date", "p.received_on", "r.refunded_on")}
        written = ""
    live = f"p.practice_id = %(practice)s AND p.status IN {LIVE_PAYMENTS} {on['p.received_on']}"
    refunded = f"r.practice_id = %(practice)s {on['r.refunded_on']}"
    figures = ", ".join(COLUMNS)
    return f"""
        WITH facts(invoice_id, total, day, {figures}) AS (
            SELECT i.id, i.total, i.issue_date,
                CASE WHEN i.kind = 'invoice' THEN i.total END, CASE WHEN i.kind = 'credit' THEN -i.total END,
                NULL::numeric, NULL::numeric, NULL::numeric
            FROM {invoice} i
            WHERE i.practice_id = %(practice)s {on["i.issue_date"]}
                AND ((i.kind = 'invoice' AND i.status IN ('open', 'paid')) OR (i.kind = 'credit' AND i.status = 'open'))
            UNION ALL
            SELECT i.id, i.total, (i.written_off_at AT TIME ZONE %(tz)s)::date, NULL, NULL, i.written_off, NULL, NULL
            FROM {invoice} i
            WHERE i.practice_id = %(practice)s AND i.kind = 'invoice' AND i.status <> 'void' AND i.written_off > 0
                {written}
            UNION ALL
            SELECT a.invoice_id, i.total, p.received_on, NULL, NULL, NULL, a.amount, NULL
            FROM {payment} p JOIN {TABLES["allocation"]} a ON a.payment_id = p.id
                JOIN {invoice} i ON i.id = a.invoice_id
            WHERE {live}
            UNION ALL
            SELECT ra.invoice_id, i.total, r.refunded_on, NULL, NULL, NULL, NULL, ra.amount
            FROM {refund} r JOIN {TABLES["refund_allocation"]} ra ON ra.refund_id = r.id
                JOIN {invoice} i ON i.id = ra.invoice_id
            WHERE {refunded}
        ),
        -- Each invoice's figures of a day as one row: its lines are read once a day it moved.
        f AS (
            SELECT invoice_id, total, day, {", ".join(f"SUM({c}) AS {c}" for c in COLUMNS)}
            FROM facts GROUP BY invoice_id, total, day
        ),
        whole(day, {figures}) AS (
            SELECT day, {", ".join(f"SUM({c})" for c in COLUMNS[:3])}, 0, 0 FROM f GROUP BY day
            UNION ALL
            SELECT p.received_on, 0, 0, 0, SUM(p.amount), 0 FROM {payment} p WHERE {live} GROUP BY p.received_on
            UNION ALL
            SELECT r.refunded_on, 0, 0, 0, 0, SUM(r.amount) FROM {refund} r WHERE {refunded} GROUP BY r.refunded_on
        )
        INSERT INTO {RevenueDay._meta.db_table}
            (practice_id, day, part, service_id, clinician_id, {figures})
        SELECT %(practice)s, day, 'total', NULL, NULL, {_PART_SUMS} FROM whole GROUP BY day
        UNION ALL
        SELECT %(practice)s, f.day, 'line', l.service_id, l.clinician_id,
            {", ".join(f"COALESCE(SUM({_line_part(c)}), 0)" for c in COLUMNS)}
        FROM f JOIN {TABLES["line"]} l ON l.invoice_id = f.invoice_id
        GROUP BY f.day, l.service_id, l.clinician_id
        UNION ALL
        SELECT %(practice)s, day, 'off', NULL, NULL, 0, 0, 0, SUM(collected), SUM(refunds) FROM (
            SELECT p.received_on, p.credited, 0 FROM {payment} p WHERE {live} AND p.credited > 0
            UNION ALL
            SELECT r.refunded_on, 0, r.from_credit FROM {refund} r WHERE {refunded} AND r.from_credit > 0
        ) credit(day, collected, refunds)
        GROUP BY day
    """  # noqa: S608 - table names and fragments are our own; values are parameters


def revenue_refresh(practice: Practice) -> int:
    """Work out again the practice's days that billing's triggers marked since the last
    refresh (reports.models) and answer how many (-1 for all of them). One refresh of a
    practice at a time; a change still uncommitted when it reads the marks keeps its own
    for the next one."""
    days_table = RevenueDay._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # The lock is taken as the first mark is found: with no marks there is nothing to
        # wait for. A mark another refresh has just taken is skipped (it deleted it), and
        # the statements below see what that refresh wrote.
        cursor.execute(
            f"""
            WITH lock AS (SELECT pg_advisory_xact_lock(%s, %s))
            DELETE FROM {RevenueStale._meta.db_table} WHERE practice_id = %s AND EXISTS (SELECT FROM lock)
            RETURNING day
            """,  # noqa: S608 - our own table name; values are parameters
            [REFRESH_LOCK, practice.pk % 2**31, practice.pk],
        )
        marked = {day for (day,) in cursor.fetchall()}
        if not marked:
            return 0
        params: dict[str, Any] = {"practice": practice.pk, "tz": practice.timezone}
        if None in marked:
            cursor.execute(f"DELETE FROM {days_table} WHERE practice_id = %s", [practice.pk])  # noqa: S608
            cursor.execute(_days_sql(only_marked=False), params)
            return -1
        days = sorted(marked)
        first, last = day_bounds(practice, days[0], days[-1])
        params.update(days=days, first=first - timedelta(days=1), last=last + timedelta(days=1))
        cursor.execute(
            f"DELETE FROM {days_table} WHERE practice_id = %(practice)s AND day = ANY(%(days)s)",  # noqa: S608
            params,
        )
        cursor.execute(_days_sql(only_marked=True), params)
        return len(days)


# --- reading it -----------------------------------------------------------------------------


def _where(scope: Scope, part: str) -> str:
    """The practice's rows of the period: the whole practice's ``part``, or a clinician's
    lines."""
    if scope.is_practice:
        return f"practice_id = %(practice)s AND part = '{part}' AND day BETWEEN %(start)s AND %(end)s"
    return (
        "practice_id = %(practice)s AND part = 'line' AND clinician_id = %(clinician)s "
        "AND day BETWEEN %(start)s AND %(end)s"
    )


def _params(scope: Scope, period: Period) -> dict[str, Any]:
    assert period.start is not None and period.end is not None  # revenue always has a range
    return scope.params(start=period.start, end=period.end)


def revenue_months(scope: Scope, period: Period) -> tuple[list[RevenueRow], RevenueRow]:
    """One row per month of the period (months with nothing show zeros) and their total:
    one query, ``GROUPING SETS`` giving the months and the total together. A clinician's
    months are their lines' parts."""
    sql = f"""
        SELECT GROUPING(month), month, {_PART_SUMS}
        FROM (
            SELECT day - (EXTRACT(DAY FROM day)::int - 1) AS month, {", ".join(COLUMNS)}
            FROM {RevenueDay._meta.db_table} WHERE {_where(scope, "total")}
        ) f
        GROUP BY GROUPING SETS ((month), ())
    """  # noqa: S608 - table names and fragments are our own; values are parameters
    found: dict[date, RevenueRow] = {}
    total = RevenueRow(label="Total")
    for grouped, month, *figures in fetch_all(sql, _params(scope, period)):
        if grouped:
            total = _row("Total", figures)
        else:
            found[month] = _row(f"{month:%b %Y}", figures, key=month)
    months = [found.get(month, RevenueRow(f"{month:%b %Y}", key=month)) for month in period.months()]
    return months, total


def revenue_breakdown(scope: Scope, period: Period) -> tuple[list[RevenueRow], list[RevenueRow]]:
    """By service and by clinician: the period's line parts summed per service and per
    clinician, and for the practice what was on no invoice, in a row of its own. One query."""
    where = _where(scope, "line")
    if scope.is_practice:
        where = where.replace("part = 'line'", "part IN ('line', 'off')")
    sql = f"""
        WITH grouped AS (
            SELECT GROUPING(service_id) AS by_clinician, part = 'line' AS on_invoice, service_id, clinician_id,
                {_PART_SUMS}
            FROM {RevenueDay._meta.db_table} WHERE {where}
            GROUP BY GROUPING SETS ((part, service_id), (part, clinician_id))
        )
        SELECT g.*, sv.name, u.first_name, u.last_name
        FROM grouped g
        LEFT JOIN {TABLES["service"]} sv ON sv.id = g.service_id
        LEFT JOIN {TABLES["user"]} u ON u.id = g.clinician_id
        ORDER BY g.on_invoice DESC, g.service_id IS NULL, g.clinician_id IS NULL, sv.name, u.first_name, u.last_name
    """  # noqa: S608 - table names and fragments are our own; values are parameters
    services: list[RevenueRow] = []
    clinicians: list[RevenueRow] = []
    for by_clinician, on_invoice, service_id, clinician_id, *rest in fetch_all(sql, _params(scope, period)):
        *figures, service_name, first, last = rest
        if not on_invoice:
            label, key = NOT_ON_INVOICE, None
        elif by_clinician:
            label, key = (f"{first} {last}", clinician_id) if clinician_id else (NO_CLINICIAN, None)
        else:
            label, key = (service_name, service_id) if service_id else (NO_SERVICE, None)
        (clinicians if by_clinician else services).append(_row(label, figures, key=key))
    return services, clinicians


def revenue_report(scope: Scope, period: Period) -> Revenue:
    revenue_refresh(scope.practice)
    months, total = revenue_months(scope, period)
    by_service, by_clinician = revenue_breakdown(scope, period)
    return Revenue(months=months, total=total, by_service=by_service, by_clinician=by_clinician)
