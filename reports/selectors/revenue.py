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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..forms import Period
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


def _invoice_facts(scope: Scope) -> str:
    """Invoiced, credits and write-offs in the period, one row per invoice: (day, kind,
    amount). For a clinician only their invoices, taken at their share."""
    weigh = scope.weighted
    base = f"FROM {TABLES['invoice']} i {scope.share_join('i.id')} WHERE i.practice_id = %(practice)s"
    return f"""
        SELECT i.issue_date, 'invoiced', {weigh("i.total")} {base}
            AND i.kind = 'invoice' AND i.status IN ('open', 'paid') AND i.issue_date BETWEEN %(start)s AND %(end)s
        UNION ALL
        SELECT i.issue_date, 'credits', {weigh("-i.total")} {base}
            AND i.kind = 'credit' AND i.status = 'open' AND i.issue_date BETWEEN %(start)s AND %(end)s
        UNION ALL
        SELECT (i.written_off_at AT TIME ZONE %(tz)s)::date, 'written_off', {weigh("i.written_off")}
            {base} AND i.kind = 'invoice' AND i.status <> 'void' AND i.written_off > 0
            AND i.written_off_at >= %(begin)s AND i.written_off_at < %(finish)s
    """


def _money_facts(scope: Scope) -> str:
    """Collected and refunded in the period: (day, kind, amount). The practice's months
    read whole payments and refunds; a clinician's read the allocations to their invoices
    at their share (credit is the client's, no clinician's)."""
    where_paid = f"p.practice_id = %(practice)s AND p.status IN {LIVE_PAYMENTS}"
    where_paid += " AND p.received_on BETWEEN %(start)s AND %(end)s"
    where_refunded = "r.practice_id = %(practice)s AND r.refunded_on BETWEEN %(start)s AND %(end)s"
    payment, refund = TABLES["payment"], TABLES["refund"]
    if scope.is_practice:
        return f"""
            SELECT p.received_on, 'collected', p.amount FROM {payment} p WHERE {where_paid}
            UNION ALL
            SELECT r.refunded_on, 'refunds', r.amount FROM {refund} r WHERE {where_refunded}
        """  # noqa: S608 - table names and fragments are our own; values are parameters
    weigh = scope.weighted
    return f"""
        SELECT p.received_on, 'collected', {weigh("a.amount")}
        FROM {payment} p JOIN {TABLES["allocation"]} a ON a.payment_id = p.id {scope.share_join("a.invoice_id")}
        WHERE {where_paid}
        UNION ALL
        SELECT r.refunded_on, 'refunds', {weigh("ra.amount")}
        FROM {refund} r JOIN {TABLES["refund_allocation"]} ra ON ra.refund_id = r.id {scope.share_join("ra.invoice_id")}
        WHERE {where_refunded}
    """  # noqa: S608 - table names and fragments are our own; values are parameters


_PIVOT = ", ".join(f"COALESCE(SUM(amount) FILTER (WHERE kind = '{c}'), 0)" for c in COLUMNS)


def _params(scope: Scope, period: Period) -> dict[str, Any]:
    assert period.start is not None and period.end is not None  # revenue always has a range
    begin, finish = day_bounds(scope.practice, period.start, period.end)
    return scope.params(start=period.start, end=period.end, begin=begin, finish=finish, tz=scope.practice.timezone)


def revenue_months(scope: Scope, period: Period) -> tuple[list[RevenueRow], RevenueRow]:
    """One row per month of the period (months with nothing show zeros) and their total:
    one query, ``GROUPING SETS`` giving the months and the total together. The facts are
    summed per day first: the month is then worked out once a day, not once a row."""
    sql = f"""
        {scope.with_shares()} facts(day, kind, amount) AS (
            {_invoice_facts(scope)}
            UNION ALL
            {_money_facts(scope)}
        ),
        days AS (SELECT day, kind, SUM(amount) AS amount FROM facts GROUP BY day, kind)
        SELECT GROUPING(month), month, {_PIVOT}
        FROM (SELECT day - (EXTRACT(DAY FROM day)::int - 1) AS month, kind, amount FROM days) f
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


def _per_invoice(scope: Scope) -> str:
    """``per_invoice(id, total, invoiced, credits, written_off, collected, refunds)``: each
    invoice's figures in the period as one row, a column NULL where nothing of that kind
    happened (an invoice with all five NULL has no part in the period). Payments and refunds
    are summed per invoice before they meet the invoice, so each invoice's lines are read
    once, not once per payment. For a clinician only their invoices, at their full amounts
    (their lines are chosen after the split)."""
    payment, refund, refund_allocation = TABLES["payment"], TABLES["refund"], TABLES["refund_allocation"]
    in_period = "i.issue_date BETWEEN %(start)s AND %(end)s"
    return f"""
        moved(invoice_id, collected, refunds) AS (
            SELECT invoice_id, SUM(collected), SUM(refunds) FROM (
                SELECT a.invoice_id, a.amount, NULL::numeric
                FROM {payment} p JOIN {TABLES["allocation"]} a ON a.payment_id = p.id {scope.share_join("a.invoice_id")}
                WHERE p.practice_id = %(practice)s AND p.status IN {LIVE_PAYMENTS}
                    AND p.received_on BETWEEN %(start)s AND %(end)s
                UNION ALL
                SELECT ra.invoice_id, NULL::numeric, ra.amount
                FROM {refund} r JOIN {refund_allocation} ra ON ra.refund_id = r.id {scope.share_join("ra.invoice_id")}
                WHERE r.practice_id = %(practice)s AND r.refunded_on BETWEEN %(start)s AND %(end)s
            ) m(invoice_id, collected, refunds)
            GROUP BY invoice_id
        ),
        per_invoice AS (
            SELECT i.id, i.total,
                CASE WHEN i.kind = 'invoice' AND i.status IN ('open', 'paid') AND {in_period}
                    THEN i.total END AS invoiced,
                CASE WHEN i.kind = 'credit' AND i.status = 'open' AND {in_period} THEN -i.total END AS credits,
                CASE WHEN i.kind = 'invoice' AND i.status <> 'void' AND i.written_off > 0
                    AND i.written_off_at >= %(begin)s AND i.written_off_at < %(finish)s
                    THEN i.written_off END AS written_off,
                m.collected, m.refunds
            FROM {TABLES["invoice"]} i {scope.share_join("i.id")} LEFT JOIN moved m ON m.invoice_id = i.id
            WHERE i.practice_id = %(practice)s
        )
    """  # noqa: S608 - table names and fragments are our own; values are parameters


def _line_part(column: str) -> str:
    """A line's part of an invoice's ``column``: in proportion to the line's amount. A line
    that is the whole invoice (one line, the usual case) takes it all, with no division."""
    return (
        f"CASE WHEN l.amount = f.total AND f.total <> 0 THEN f.{column} "
        f"ELSE f.{column} * l.amount / NULLIF(f.total, 0) END AS {column}"
    )


_SUMS = ", ".join(f"COALESCE(SUM({c}), 0)" for c in COLUMNS)


def revenue_breakdown(scope: Scope, period: Period) -> tuple[list[RevenueRow], list[RevenueRow]]:
    """By service and by clinician: each invoice's money spread over its lines, then summed
    per line's service and per line's session clinician. One query."""
    line, item, appointment = TABLES["line"], TABLES["item"], TABLES["appointment"]
    payment, refund = TABLES["payment"], TABLES["refund"]
    only_theirs = "" if scope.is_practice else "WHERE clinician_id = %(clinician)s"
    any_figure = " OR ".join(f"f.{c} IS NOT NULL" for c in COLUMNS)
    # What was on no invoice (an overpayment kept as credit, credit refunded) is the
    # practice's alone: a row of its own, in both tables.
    not_on_invoice = ""
    if scope.is_practice:
        not_on_invoice = f"""
            UNION ALL
            SELECT GROUPING(service_id), false, service_id, clinician_id, {_SUMS}
            FROM (
                SELECT NULL::bigint, NULL::bigint, 0, 0, 0, p.credited, 0 FROM {payment} p
                WHERE p.practice_id = %(practice)s AND p.status IN {LIVE_PAYMENTS}
                    AND p.received_on BETWEEN %(start)s AND %(end)s AND p.credited > 0
                UNION ALL
                SELECT NULL::bigint, NULL::bigint, 0, 0, 0, 0, r.from_credit FROM {refund} r
                WHERE r.practice_id = %(practice)s AND r.refunded_on BETWEEN %(start)s AND %(end)s
                    AND r.from_credit > 0
            ) credit(service_id, clinician_id, {", ".join(COLUMNS)})
            GROUP BY GROUPING SETS ((service_id), (clinician_id))
        """  # noqa: S608 - table names and fragments are our own; values are parameters
    sql = f"""
        {scope.with_shares()} {_per_invoice(scope)},
        parts AS (
            SELECT l.service_id, ap.clinician_id, {", ".join(_line_part(c) for c in COLUMNS)}
            FROM per_invoice f
            JOIN {line} l ON l.invoice_id = f.id
            LEFT JOIN {item} b ON b.id = l.billing_item_id
            LEFT JOIN {appointment} ap ON ap.id = b.appointment_id
            WHERE {any_figure}
        ),
        grouped(by_clinician, on_invoice, service_id, clinician_id, {", ".join(COLUMNS)}) AS (
            SELECT GROUPING(service_id), true, service_id, clinician_id, {_SUMS}
            FROM parts {only_theirs}
            GROUP BY GROUPING SETS ((service_id), (clinician_id))
            {not_on_invoice}
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
    months, total = revenue_months(scope, period)
    by_service, by_clinician = revenue_breakdown(scope, period)
    return Revenue(months=months, total=total, by_service=by_service, by_clinician=by_clinician)
