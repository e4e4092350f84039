"""Payments: money received and refunded, by method and by day, with the fee Stripe took on
each online payment (payments.StripePayment, read from the charge's balance transaction).

A payment counts on the day it was received, a refund on the day it was made (under the
refund's method); a deleted payment counts nowhere. Received less refunded over all time
is the ledger's payments less its refunds. A fee is summed only in the practice's currency:
a fee Stripe settled in another one is counted and said, not converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing.models import Payment

from ..forms import Period
from .common import LIVE_PAYMENTS, ONLINE_METHODS, TABLES, ZERO, Scope, fetch_all, money

METHOD_LABELS = dict(Payment.Method.choices)


@dataclass(frozen=True)
class PaymentsRow:
    label: str
    payments: int = 0
    received: Decimal = ZERO
    refunded: Decimal = ZERO
    fees: Decimal = ZERO
    key: Any = None

    @property
    def net(self) -> Decimal:
        """What reached the practice: received, less refunds and Stripe's fees."""
        return self.received - self.refunded - self.fees


@dataclass
class PaymentsReport:
    by_method: list[PaymentsRow]
    by_day: list[PaymentsRow]
    total: PaymentsRow
    fees_unknown: int = 0
    fees_other_currency: int = 0


def _facts(scope: Scope) -> str:
    """(day, method, payment id, received, refunded, fee, fee unknown, fee elsewhere): one
    row per payment (per allocation to the clinician's invoices, at their share) and per
    refund (per refund allocation)."""
    stripe = f"""LEFT JOIN {TABLES["stripe_payment"]} sp
        ON sp.practice_id = p.practice_id AND sp.payment_intent_id = p.external_id AND p.external_id <> ''"""
    fee = "CASE WHEN UPPER(sp.currency) = %(currency)s THEN sp.fee END"
    unknown = f"(p.method IN {ONLINE_METHODS} AND sp.fee IS NULL)"
    elsewhere = "(sp.fee IS NOT NULL AND UPPER(sp.currency) <> %(currency)s)"
    paid = (
        f"p.practice_id = %(practice)s AND p.status IN {LIVE_PAYMENTS} AND p.received_on BETWEEN %(start)s AND %(end)s"
    )
    refunded = "r.practice_id = %(practice)s AND r.refunded_on BETWEEN %(start)s AND %(end)s"
    payment, refund = TABLES["payment"], TABLES["refund"]
    if scope.is_practice:
        return f"""
            SELECT p.received_on, p.method, p.id, p.amount, 0, {fee}, {unknown}, {elsewhere}
            FROM {payment} p {stripe} WHERE {paid}
            UNION ALL
            SELECT r.refunded_on, r.method, NULL::bigint, 0, r.amount, NULL::numeric, false, false
            FROM {refund} r WHERE {refunded}
        """  # noqa: S608 - table names and fragments are our own; values are parameters
    # The clinician's part of a payment is what it paid on their invoices, at their share;
    # its fee is split the same way, in proportion to the payment's amount.
    return f"""
        SELECT p.received_on, p.method, p.id, a.amount * s.share, 0,
               ({fee}) * a.amount * s.share / p.amount, {unknown}, {elsewhere}
        FROM {payment} p JOIN {TABLES["allocation"]} a ON a.payment_id = p.id
        JOIN shares s ON s.invoice_id = a.invoice_id {stripe}
        WHERE {paid}
        UNION ALL
        SELECT r.refunded_on, r.method, NULL::bigint, 0, ra.amount * s.share, NULL::numeric, false, false
        FROM {refund} r JOIN {TABLES["refund_allocation"]} ra ON ra.refund_id = r.id
        JOIN shares s ON s.invoice_id = ra.invoice_id
        WHERE {refunded}
    """  # noqa: S608 - table names and fragments are our own; values are parameters


def payments_report(scope: Scope, period: Period) -> PaymentsReport:
    """By method, by day and in total: one query, ``GROUPING SETS`` giving all three."""
    sql = f"""
        {scope.with_shares()} facts(day, method, payment_id, received, refunded, fee, fee_unknown, fee_elsewhere) AS (
            {_facts(scope)}
        )
        SELECT GROUPING(day), GROUPING(method), day, method,
               COUNT(DISTINCT payment_id), COALESCE(SUM(received), 0), COALESCE(SUM(refunded), 0),
               COALESCE(SUM(fee), 0),
               COUNT(DISTINCT payment_id) FILTER (WHERE fee_unknown),
               COUNT(DISTINCT payment_id) FILTER (WHERE fee_elsewhere)
        FROM facts
        GROUP BY GROUPING SETS ((method), (day), ())
        ORDER BY GROUPING(method), method, day
    """  # noqa: S608 - table names and fragments are our own; values are parameters
    params = scope.params(start=period.start, end=period.end, currency=scope.practice.currency)
    by_method: list[PaymentsRow] = []
    by_day: list[PaymentsRow] = []
    total, unknown, elsewhere = PaymentsRow("Total"), 0, 0
    for no_day, no_method, day, method, count, received, refunded, fees, no_fee, other in fetch_all(sql, params):
        figures = (count, money(received), money(refunded), money(fees))
        if no_day and no_method:
            total, unknown, elsewhere = PaymentsRow("Total", *figures), no_fee, other
        elif no_day:
            by_method.append(PaymentsRow(METHOD_LABELS.get(method, method), *figures, key=method))
        else:
            by_day.append(PaymentsRow(day.isoformat(), *figures, key=day))
    # The biggest methods first; days oldest first.
    by_method.sort(key=lambda row: (-row.received, row.label))
    return PaymentsReport(
        by_method=by_method, by_day=by_day, total=total, fees_unknown=unknown, fees_other_currency=elsewhere
    )
