"""What every report's SQL shares: the tables, whose figures are summed (the scope) and
how a clinician's share of an invoice is found.

Reports are aggregates computed by PostgreSQL, one statement per table of figures, over
billing's own rows (invoices, payments, refunds and their allocations), which the ledger
mirrors movement for movement (billing.ledger_verify proves it; tests/reports prove the
reports sum to it).

A clinician's figures are their sessions' part of each invoice: an invoice line made from
a session's billing item belongs to that session's clinician, and money that moved on the
invoice as a whole (a payment, a refund, a write-off, what is still owed) is split in
proportion to the lines. A line typed by hand, or a package sold, belongs to no clinician;
so does money not on any invoice (an overpayment kept as credit, credit refunded).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from appointments.models import Service
from billing.models import (
    ClientAccount,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    Refund,
    RefundAllocation,
)
from clients.models import Client
from payments.models import StripePayment
from practice.models import Practice, User

ZERO = Decimal("0")

TABLES = {
    "invoice": Invoice._meta.db_table,
    "line": InvoiceLine._meta.db_table,
    "service": Service._meta.db_table,
    "payment": Payment._meta.db_table,
    "allocation": PaymentAllocation._meta.db_table,
    "refund": Refund._meta.db_table,
    "refund_allocation": RefundAllocation._meta.db_table,
    "account": ClientAccount._meta.db_table,
    "client": Client._meta.db_table,
    "user": User._meta.db_table,
    "stripe_payment": StripePayment._meta.db_table,
}

# Payments that brought money in: not deleted (reversed); pending and failed never did.
LIVE_PAYMENTS = (
    f"('{Payment.Status.SUCCEEDED.value}', '{Payment.Status.REFUNDED.value}', "
    f"'{Payment.Status.PARTIALLY_REFUNDED.value}')"
)
ONLINE_METHODS = f"('{Payment.Method.CARD_ONLINE.value}', '{Payment.Method.CARD_ON_FILE.value}')"

# Each invoice's part that is the clinician's: their sessions' lines over the invoice's
# total (lines sum to the total, billing.ledger_verify). A line carries its session's
# clinician (billing 0020): their lines and amounts are read from the
# line_clinician_invoice index alone, then each invoice's total by its key.
SHARES_CTE = """
shares AS (
    SELECT l.invoice_id, l.amount / NULLIF(i.total, 0) AS share
    FROM (
        SELECT invoice_id, SUM(amount) AS amount FROM {line}
        WHERE clinician_id = %(clinician)s GROUP BY invoice_id
    ) l
    JOIN {invoice} i ON i.id = l.invoice_id
    WHERE i.practice_id = %(practice)s
)""".format(**TABLES)  # noqa: S608 - our own table names; values are parameters


@dataclass(frozen=True)
class Scope:
    """Whose figures a report sums: the whole practice (``clinician_id`` None) or one
    clinician's share of it."""

    practice: Practice
    clinician_id: int | None = None

    @property
    def is_practice(self) -> bool:
        return self.clinician_id is None

    def params(self, **more: Any) -> dict[str, Any]:
        return {"practice": self.practice.pk, "clinician": self.clinician_id, **more}

    def with_shares(self) -> str:
        """``WITH shares AS (...),`` for a clinician; nothing for the practice."""
        return f"WITH {SHARES_CTE}," if not self.is_practice else "WITH"

    def share_join(self, invoice_id: str) -> str:
        """The join that keeps only the clinician's invoices, with their share as ``s.share``."""
        return "" if self.is_practice else f"JOIN shares s ON s.invoice_id = {invoice_id}"

    def weighted(self, amount: str) -> str:
        """``amount`` of an invoice, or the clinician's share of it."""
        return amount if self.is_practice else f"({amount}) * s.share"


def day_bounds(practice: Practice, start: date, end: date) -> tuple[datetime, datetime]:
    """The instants the practice's local ``start`` begins and ``end`` ends."""
    tz = practice.tzinfo
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def fetch_all(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def fetch_one(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return tuple(row)


def stream(sql: str, params: dict[str, Any], chunk: int = 500) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` a chunk at a time (a CSV download streams them as they come)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            yield from rows


def money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


def client_name(first: str, last: str, preferred: str) -> str:
    """As Client.display_name writes it."""
    return f"{preferred or first} {last}"


class SqlRows(Sequence[Any]):
    """A report's rows for Django's Paginator: the count is known from the totals query,
    and a page is one query with LIMIT and OFFSET."""

    def __init__(self, total: int, page: Any) -> None:
        self.total = total
        self.page = page

    def count(self) -> int:  # type: ignore[override]  # Paginator's count, not Sequence.count
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, key: Any) -> Any:
        if not isinstance(key, slice):
            raise TypeError("Report rows are read a page at a time.")
        start = key.start or 0
        stop = self.total if key.stop is None else key.stop
        return self.page(limit=max(stop - start, 0), offset=start)
