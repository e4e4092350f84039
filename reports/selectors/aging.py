"""Aging: what is owed on open invoices, per client, by how many days ago each invoice was
issued (0-30, 31-60, 61-90, over 90), as SimplePractice and Jane age a balance.

The open balances are today's; From and To choose the invoices by their issue date. With
no dates the total is every open balance of the practice: the ledger's receivable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..forms import Period
from .common import TABLES, Scope, client_name, fetch_all, fetch_one, money, stream

# The en dash of a range, as the issue and SimplePractice write it.
BUCKETS = (
    ("d0", "0–30 days"),  # noqa: RUF001
    ("d31", "31–60 days"),  # noqa: RUF001
    ("d61", "61–90 days"),  # noqa: RUF001
    ("d91", "Over 90 days"),
)


@dataclass(frozen=True)
class AgingRow:
    client_id: int | None
    name: str
    d0: Decimal
    d31: Decimal
    d61: Decimal
    d91: Decimal
    total: Decimal
    invoices: int

    def buckets(self) -> list[Decimal]:
        return [self.d0, self.d31, self.d61, self.d91]


@dataclass(frozen=True)
class AgingTotals:
    row: AgingRow
    clients: int


def _open_invoices(scope: Scope, period: Period) -> tuple[str, dict[str, Any]]:
    """One row per open invoice in the scope: client, age in days, what is owed (the
    clinician's share of it)."""
    where = ""
    if period.start:
        where += " AND i.issue_date >= %(start)s"
    if period.end:
        where += " AND i.issue_date <= %(end)s"
    sql = f"""
        SELECT i.client_id, %(today)s - i.issue_date AS age, {scope.weighted("i.balance")} AS owed
        FROM {TABLES["invoice"]} i {scope.share_join("i.id")}
        WHERE i.practice_id = %(practice)s AND i.kind = 'invoice' AND i.status = 'open' AND i.balance > 0{where}
    """  # noqa: S608 - table names and fragments are our own; values are parameters
    params = scope.params(today=scope.practice.local_today(), start=period.start, end=period.end)
    return sql, params


_SUMS = """
    COALESCE(SUM(owed) FILTER (WHERE age <= 30), 0),
    COALESCE(SUM(owed) FILTER (WHERE age BETWEEN 31 AND 60), 0),
    COALESCE(SUM(owed) FILTER (WHERE age BETWEEN 61 AND 90), 0),
    COALESCE(SUM(owed) FILTER (WHERE age > 90), 0),
    COALESCE(SUM(owed), 0),
    COUNT(*)
"""


def aging_totals(scope: Scope, period: Period) -> AgingTotals:
    """The buckets summed over every client, and how many clients owe: one query."""
    inner, params = _open_invoices(scope, period)
    sql = f"{scope.with_shares()} open AS ({inner}) SELECT {_SUMS}, COUNT(DISTINCT client_id) FROM open"  # noqa: S608
    *sums, invoices, clients = fetch_one(sql, params)
    d0, d31, d61, d91, total = (money(v) for v in sums)
    row = AgingRow(None, "Total", d0, d31, d61, d91, total, invoices)
    return AgingTotals(row=row, clients=clients)


def _rows_sql(scope: Scope, period: Period) -> tuple[str, dict[str, Any]]:
    inner, params = _open_invoices(scope, period)
    sql = f"""
        {scope.with_shares()} open AS ({inner})
        SELECT o.*, c.first_name, c.last_name, c.preferred_name
        FROM (
            SELECT client_id,
                   COALESCE(SUM(owed) FILTER (WHERE age <= 30), 0) AS d0,
                   COALESCE(SUM(owed) FILTER (WHERE age BETWEEN 31 AND 60), 0) AS d31,
                   COALESCE(SUM(owed) FILTER (WHERE age BETWEEN 61 AND 90), 0) AS d61,
                   COALESCE(SUM(owed) FILTER (WHERE age > 90), 0) AS d91,
                   SUM(owed) AS total,
                   COUNT(*) AS invoices
            FROM open GROUP BY client_id
        ) o
        JOIN {TABLES["client"]} c ON c.id = o.client_id
        ORDER BY o.total DESC, c.last_name, c.first_name, o.client_id
    """  # noqa: S608 - table names and fragments are our own; values are parameters
    return sql, params


def _row(values: tuple[Any, ...]) -> AgingRow:
    client_id, d0, d31, d61, d91, total, invoices, first, last, preferred = values
    return AgingRow(
        client_id=client_id,
        name=client_name(first, last, preferred),
        d0=money(d0),
        d31=money(d31),
        d61=money(d61),
        d91=money(d91),
        total=money(total),
        invoices=invoices,
    )


def aging_rows(scope: Scope, period: Period, *, limit: int, offset: int) -> list[AgingRow]:
    """One page of clients, those who owe most first: one query."""
    sql, params = _rows_sql(scope, period)
    return [
        _row(r)
        for r in fetch_all(f"{sql} LIMIT %(limit)s OFFSET %(offset)s", {**params, "limit": limit, "offset": offset})
    ]


def aging_all_rows(scope: Scope, period: Period) -> Iterator[AgingRow]:
    """Every client's row, streamed (the CSV export)."""
    sql, params = _rows_sql(scope, period)
    return (_row(r) for r in stream(sql, params))
