"""Outstanding balances and credits: what each client owes today on open invoices, how much
of it is past due, and the credit they hold.

With no dates, a client's Owed is their account balance and Credit their credit balance
(both sums of their ledger); From and To choose the open invoices by issue date. Credit
belongs to the client, not to an invoice or a session, so it is shown for the whole
practice only, never in a clinician's figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..forms import Period
from .common import TABLES, ZERO, Scope, client_name, fetch_all, fetch_one, money, stream


@dataclass(frozen=True)
class BalanceRow:
    client_id: int | None
    name: str
    invoices: int
    oldest: date | None
    owed: Decimal
    overdue: Decimal
    credit: Decimal | None

    @property
    def net(self) -> Decimal:
        """Owed less credit: what the client would owe once their credit is applied."""
        return self.owed - (self.credit or ZERO)


@dataclass(frozen=True)
class BalanceTotals:
    row: BalanceRow
    clients: int


def _rows_cte(scope: Scope, period: Period) -> tuple[str, dict[str, Any]]:
    where = ""
    if period.start:
        where += " AND i.issue_date >= %(start)s"
    if period.end:
        where += " AND i.issue_date <= %(end)s"
    owing = f"""
        owing AS (
            SELECT i.client_id,
                   SUM({scope.weighted("i.balance")}) AS owed,
                   COALESCE(SUM({scope.weighted("i.balance")}) FILTER (WHERE i.due_date < %(today)s), 0) AS overdue,
                   COUNT(*) AS invoices,
                   MIN(i.issue_date) AS oldest
            FROM {TABLES["invoice"]} i {scope.share_join("i.id")}
            WHERE i.practice_id = %(practice)s AND i.kind = 'invoice' AND i.status = 'open' AND i.balance > 0{where}
            GROUP BY i.client_id
        )"""  # noqa: S608 - table names and fragments are our own; values are parameters
    if scope.is_practice:
        rows = f"""
        credit AS (
            SELECT client_id, credit_balance FROM {TABLES["account"]}
            WHERE practice_id = %(practice)s AND credit_balance > 0
        ),
        rows AS (
            SELECT COALESCE(o.client_id, k.client_id) AS client_id, COALESCE(o.invoices, 0) AS invoices,
                   o.oldest, COALESCE(o.owed, 0) AS owed, COALESCE(o.overdue, 0) AS overdue,
                   COALESCE(k.credit_balance, 0) AS credit
            FROM owing o FULL JOIN credit k ON k.client_id = o.client_id
        )"""  # noqa: S608 - table names and fragments are our own; values are parameters
    else:
        rows = "rows AS (SELECT client_id, invoices, oldest, owed, overdue, NULL::numeric AS credit FROM owing)"
    params = scope.params(today=scope.practice.local_today(), start=period.start, end=period.end)
    return f"{scope.with_shares()} {owing}, {rows}", params


def balance_totals(scope: Scope, period: Period) -> BalanceTotals:
    """Owed, overdue and credit over every client, and how many clients: one query."""
    ctes, params = _rows_cte(scope, period)
    sql = f"""{ctes}
        SELECT COUNT(*), COALESCE(SUM(invoices), 0), MIN(oldest), COALESCE(SUM(owed), 0),
               COALESCE(SUM(overdue), 0), SUM(credit)
        FROM rows"""  # noqa: S608 - our own fragments; values are parameters
    clients, invoices, oldest, owed, overdue, credit = fetch_one(sql, params)
    row = BalanceRow(
        client_id=None,
        name="Total",
        invoices=invoices,
        oldest=oldest,
        owed=money(owed),
        overdue=money(overdue),
        credit=money(credit) if scope.is_practice else None,
    )
    return BalanceTotals(row=row, clients=clients)


def _rows_sql(scope: Scope, period: Period) -> tuple[str, dict[str, Any]]:
    ctes, params = _rows_cte(scope, period)
    sql = f"""{ctes}
        SELECT r.client_id, r.invoices, r.oldest, r.owed, r.overdue, r.credit,
               c.first_name, c.last_name, c.preferred_name
        FROM rows r JOIN {TABLES["client"]} c ON c.id = r.client_id
        ORDER BY r.owed DESC, r.credit DESC NULLS LAST, c.last_name, c.first_name, r.client_id
    """  # noqa: S608 - table names and fragments are our own; values are parameters
    return sql, params


def _row(values: tuple[Any, ...]) -> BalanceRow:
    client_id, invoices, oldest, owed, overdue, credit, first, last, preferred = values
    return BalanceRow(
        client_id=client_id,
        name=client_name(first, last, preferred),
        invoices=invoices,
        oldest=oldest,
        owed=money(owed),
        overdue=money(overdue),
        credit=None if credit is None else money(credit),
    )


def balance_rows(scope: Scope, period: Period, *, limit: int, offset: int) -> list[BalanceRow]:
    """One page of clients, those who owe most first: one query."""
    sql, params = _rows_sql(scope, period)
    page = f"{sql} LIMIT %(limit)s OFFSET %(offset)s"
    return [_row(r) for r in fetch_all(page, {**params, "limit": limit, "offset": offset})]


def balance_all_rows(scope: Scope, period: Period) -> Iterator[BalanceRow]:
    """Every client's row, streamed (the CSV export)."""
    sql, params = _rows_sql(scope, period)
    return (_row(r) for r in stream(sql, params))
