"""Reads of the ledger a biller looks at: a client's account history (every movement with
running balances, paginated) and the Billing page's Credits tab (every credit, from credit
invoices and from overpayments, and the invoices it paid).

Both cost a fixed number of queries whatever the number of rows: the opening balance of a
history page is one aggregate over the rows before it, and where credit went is worked out
from one read of the page's clients' credit movements.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    CharField,
    DecimalField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Cast

from clients.models import Client
from practice.models import Practice
from practice.paging import CountedPaginator

from ..models import ClientAccount, Invoice, LedgerEntry, PackagePurchase, Payment
from .home import _client_has_clinician, _issued_or_created_between

ZERO = Decimal("0")
HISTORY_PAGE_SIZE = 25
CLIENT_LIST_PAGE_SIZE = 25


# --- account history ----------------------------------------------------------------------


# A LedgerEntry (a statement's rows) or a HistoryEntry (the Billing tab's).
E = TypeVar("E", "LedgerEntry", "HistoryEntry")


@dataclass(frozen=True)
class HistoryRow(Generic[E]):
    entry: E
    debit: Decimal
    credit: Decimal
    balance: Decimal
    credit_balance: Decimal
    credit_change: Decimal


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A ledger entry as a row of the client's account history prints it: read as values
    with its invoice's number and its payment's date, not as three models."""

    pk: int
    created_at: datetime
    kind: str
    memo: str
    balance_delta: Decimal
    credit_delta: Decimal
    invoice_id: int | None
    invoice_number: str
    payment_id: int | None
    payment_received_on: date | None
    balance_after: Decimal
    credit_after: Decimal

    @property
    def kind_label(self) -> str:
        return str(LedgerEntry.Kind(self.kind).label)

    @property
    def invoice_label(self) -> str:
        """What the invoice is called (Invoice.__str__): its number, or Draft and its id."""
        return self.invoice_number or f"Draft {self.invoice_id}"


@dataclass(frozen=True)
class AccountHistory:
    page: Page
    rows: list[HistoryRow[HistoryEntry]]
    opening_balance: Decimal
    opening_credit: Decimal


@dataclass(frozen=True)
class ClientBillingFigures:
    """What a client's Billing tab reads before its lists: the account row's two balances
    and how many invoices, payments and ledger entries the client has (the lists' page
    counts), and how many packages they bought (none: the packages are not read). One
    query."""

    balance: Decimal
    credit_balance: Decimal
    invoices: int
    payments: int
    entries: int
    overdue: Decimal = ZERO
    packages: int = 0


_FIGURES_SQL = """
SELECT
    COALESCE((SELECT a.balance FROM {account} a WHERE a.practice_id = %(p)s AND a.client_id = c.id), 0),
    COALESCE((SELECT a.credit_balance FROM {account} a WHERE a.practice_id = %(p)s AND a.client_id = c.id), 0),
    (SELECT COUNT(*) FROM {invoice} i WHERE i.practice_id = %(p)s AND i.client_id = c.id),
    (SELECT COUNT(*) FROM {payment} y WHERE y.practice_id = %(p)s AND y.client_id = c.id),
    (SELECT COUNT(*) FROM {entry} e WHERE e.practice_id = %(p)s AND e.client_id = c.id),
    COALESCE((
        SELECT SUM(i.balance) FROM {invoice} i
        WHERE i.practice_id = %(p)s AND i.client_id = c.id AND i.kind = %(kind)s AND i.status = %(open)s
          AND i.due_date < %(today)s AND i.balance > 0
    ), 0),
    (SELECT COUNT(*) FROM {purchase} k WHERE k.practice_id = %(p)s AND k.client_id = c.id)
FROM {client} c
WHERE c.practice_id = %(p)s AND c.id = %(c)s
"""


def client_billing_figures(practice: Practice, client: Client) -> ClientBillingFigures:
    """One statement of fixed text: the tab asks for these on every view, and building the
    same six subqueries through the ORM cost more than PostgreSQL takes to answer them.
    The overdue rule is overdue_sum's (open invoices past due with a balance)."""
    sql = _FIGURES_SQL.format(
        account=ClientAccount._meta.db_table,
        invoice=Invoice._meta.db_table,
        payment=Payment._meta.db_table,
        entry=LedgerEntry._meta.db_table,
        client=Client._meta.db_table,
        purchase=PackagePurchase._meta.db_table,
    )
    params: dict[str, int | str | date] = {
        "p": practice.pk,
        "c": client.pk,
        "kind": Invoice.Kind.INVOICE.value,
        "open": Invoice.Status.OPEN.value,
        "today": practice.local_today(),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # not a client of this practice: nothing of theirs here
        return ClientBillingFigures(balance=ZERO, credit_balance=ZERO, invoices=0, payments=0, entries=0)
    balance, credit, invoices, payments, entries, overdue, packages = row
    return ClientBillingFigures(
        balance=Decimal(balance),
        credit_balance=Decimal(credit),
        invoices=invoices,
        payments=payments,
        entries=entries,
        overdue=Decimal(overdue),
        packages=packages,
    )


def _paginator(rows: QuerySet[Any], per_page: int, count: int | None) -> Paginator:
    return Paginator(rows, per_page) if count is None else CountedPaginator(rows, per_page, count=count)


def client_account_history(
    practice: Practice, client: Client, page_number: Any = None, *, count: int | None = None
) -> AccountHistory:
    """The client's ledger, oldest first, ``HISTORY_PAGE_SIZE`` a page (the newest page when
    none is asked for). A debit raises what the client owes (an invoice issued), a credit
    lowers it (a payment, credit applied, a write-off, a void); the credit balance moves
    with credit issued, overpaid, applied or refunded."""
    order = ("created_at", "id")
    entries = (
        LedgerEntry.objects.filter(practice=practice, client=client)
        # The balances after each entry, summed by PostgreSQL over the client's whole ledger
        # in the same query (a window is computed before the page's LIMIT), so a page needs
        # no second query for its opening balance and no Python sum over earlier pages.
        .annotate(
            balance_after=Window(Sum("balance_delta"), order_by=[F(name).asc() for name in order]),
            credit_after=Window(Sum("credit_delta"), order_by=[F(name).asc() for name in order]),
        )
        .order_by(*order)
        # Only what a row prints, as values: the invoice's number, the payment's date.
        .values_list(
            "pk",
            "created_at",
            "kind",
            "memo",
            "balance_delta",
            "credit_delta",
            "invoice_id",
            "invoice__number",
            "payment_id",
            "payment__received_on",
            "balance_after",
            "credit_after",
        )
    )
    paginator = _paginator(entries, HISTORY_PAGE_SIZE, count)
    page = paginator.get_page(page_number if page_number else paginator.num_pages)
    page_entries = [HistoryEntry(*row) for row in page.object_list]
    opening_balance = opening_credit = ZERO
    if page_entries:
        first = page_entries[0]
        opening_balance = first.balance_after - first.balance_delta
        opening_credit = first.credit_after - first.credit_delta
    rows = _history_rows(page_entries, opening_balance, opening_credit)
    return AccountHistory(page=page, rows=rows, opening_balance=opening_balance, opening_credit=opening_credit)


def _history_rows(entries: Sequence[E], opening_balance: Decimal, opening_credit: Decimal) -> list[HistoryRow[E]]:
    """The entries with their running balances, from the balances before the first."""
    rows = []
    balance, credit = opening_balance, opening_credit
    for entry in entries:
        balance += entry.balance_delta
        credit += entry.credit_delta
        rows.append(
            HistoryRow(
                entry=entry,
                debit=entry.balance_delta if entry.balance_delta > 0 else ZERO,
                credit=-entry.balance_delta if entry.balance_delta < 0 else ZERO,
                balance=balance,
                credit_balance=credit,
                credit_change=entry.credit_delta,
            )
        )
    return rows


@dataclass(frozen=True)
class PeriodHistory:
    """The account history between two local days, both included: the balances at the
    start of ``start`` and at the end of ``end`` and every movement between, oldest first."""

    start: date
    end: date
    rows: list[HistoryRow[LedgerEntry]]
    opening_balance: Decimal
    opening_credit: Decimal
    closing_balance: Decimal
    closing_credit: Decimal


def day_bounds(practice: Practice, start: date, end: date) -> tuple[datetime, datetime]:
    """The instants at which the practice's local ``start`` begins and ``end`` ends (the
    next local midnight): a day is the practice's, wherever the server is."""
    tz = practice.tzinfo
    begin = datetime.combine(start, time.min, tzinfo=tz)
    finish = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return begin, finish


def client_account_history_between(practice: Practice, client: Client, start: date, end: date) -> PeriodHistory:
    """What a statement prints: the client's account history from ``start`` to ``end``
    (the practice's local days, both included). Two queries whatever the length: the
    balances before the period in one aggregate, then the period's entries."""
    begin, finish = day_bounds(practice, start, end)
    entries = LedgerEntry.objects.filter(practice=practice, client=client)
    before = entries.filter(created_at__lt=begin).aggregate(balance=Sum("balance_delta"), credit=Sum("credit_delta"))
    opening_balance, opening_credit = before["balance"] or ZERO, before["credit"] or ZERO
    period = list(
        entries.filter(created_at__gte=begin, created_at__lt=finish)
        .select_related("invoice", "payment")
        .order_by("created_at", "id")
    )
    rows = _history_rows(period, opening_balance, opening_credit)
    return PeriodHistory(
        start=start,
        end=end,
        rows=rows,
        opening_balance=opening_balance,
        opening_credit=opening_credit,
        closing_balance=rows[-1].balance if rows else opening_balance,
        closing_credit=rows[-1].credit_balance if rows else opening_credit,
    )


# What a row of the tab prints (billing_tags.client_invoice_rows), its status included
# (Invoice.status_code): the other columns were most of the cost of reading the page.
_CLIENT_INVOICE_COLUMNS = (
    "practice_id",
    "kind",
    "status",
    "number",
    "issue_date",
    "due_date",
    "total",
    "balance",
    "amount_paid",
    "credit_applied",
    "written_off",
)


def client_invoices_page(
    practice: Practice, client: Client, page_number: Any = None, *, count: int | None = None
) -> Page:
    # Through the practice's own manager, each row's ``practice`` is this instance (its
    # status reads the practice's today): not a joined copy built for every row.
    rows = practice.invoices.filter(client=client).only(*_CLIENT_INVOICE_COLUMNS)
    return _paginator(rows.order_by("-created_at", "-id"), CLIENT_LIST_PAGE_SIZE, count).get_page(page_number)


def client_payments_page(
    practice: Practice, client: Client, page_number: Any = None, *, count: int | None = None
) -> Page:
    rows = Payment.objects.filter(practice=practice, client=client).order_by("-received_on", "-id")
    return _paginator(rows, CLIENT_LIST_PAGE_SIZE, count).get_page(page_number)


# --- the Credits tab ----------------------------------------------------------------------


@dataclass
class CreditUse:
    invoice_id: int
    number: str
    amount: Decimal


@dataclass
class CreditTrail:
    """Where one credit went: the invoices it paid (oldest credit is used first), and what
    is left of it."""

    left: Decimal = ZERO
    uses: list[CreditUse] = field(default_factory=list)


def _amount_field() -> DecimalField:
    return DecimalField(max_digits=14, decimal_places=3)


class CreditRows:
    """The Credits tab's rows, newest first: credit invoices and payments that left credit
    (an overpayment), one values row each (source, id, client_id, on, amount, number, note,
    status).

    PostgreSQL sorts the union of the two as a whole: it does not merge the two partial
    indexes (invoice_credit_issued, payment_credited_received) newest first. So a page is
    read as a union of each side's own newest rows up to the page's end (each an index
    scan that stops there), sorted and cut to the page: a first page reads 51 rows of each
    side, not every credit of the practice. The count reads only the ids, from the same
    indexes."""

    def __init__(self, invoices: QuerySet[Invoice], payments: QuerySet[Payment]) -> None:
        # Each side without the models' default ordering: the sides are ordered here.
        self.invoices = invoices.order_by()
        self.payments = payments.order_by()

    def _sides(self) -> tuple[QuerySet[Any], QuerySet[Any]]:
        invoice_rows = self.invoices.annotate(
            source=Value("invoice", output_field=CharField()),
            on=F("issue_date"),
            credit=Cast(-F("total"), _amount_field()),
            doc=F("number"),
            note=F("reason"),
            state=F("status"),
            seq=F("id"),
        ).values(*CREDIT_ROW_FIELDS)
        payment_rows = self.payments.annotate(
            source=Value("payment", output_field=CharField()),
            on=F("received_on"),
            credit=Cast(F("credited"), _amount_field()),
            doc=F("reference"),
            note=F("method"),
            state=F("status"),
            seq=F("id"),
        ).values(*CREDIT_ROW_FIELDS)
        return invoice_rows, payment_rows

    def _rows(self, upto: int | None) -> QuerySet[Any]:
        """The union, newest first; with ``upto``, of each side's newest ``upto`` rows only
        (all the union's first ``upto`` rows are among them)."""
        invoice_rows, payment_rows = self._sides()
        if upto is not None:
            # Each side in the order of its partial index, so the scan stops at ``upto``.
            invoice_rows = invoice_rows.order_by(F("issue_date").desc(nulls_first=True), "-id")[:upto]
            payment_rows = payment_rows.order_by(F("received_on").desc(nulls_first=True), "-id")[:upto]
        return invoice_rows.union(payment_rows, all=True).order_by(F("on").desc(nulls_first=True), "-seq", "source")

    def __getitem__(self, key: slice) -> list[dict[str, Any]]:
        if not isinstance(key, slice) or key.stop is None or key.step is not None:
            raise TypeError("Credit rows are read a page at a time: rows[start:stop].")
        start = key.start or 0
        if key.stop <= start:
            # What a paginator asks of an empty list: rows[0:0]. Cut to nothing, a side
            # would read as empty and the union would hand back the other side, already cut.
            return []
        return list(self._rows(key.stop)[start : key.stop])

    def capped_count(self, limit: int) -> int:
        """How many credits there are, counting no further than ``limit``."""
        ids = self.invoices.values("id").union(self.payments.values("id"), all=True)
        return int(ids[:limit].count())

    def iterator(self, chunk_size: int) -> Iterator[dict[str, Any]]:
        """Every row, newest first (the CSV export)."""
        return self._rows(None).iterator(chunk_size=chunk_size)


CREDIT_ROW_FIELDS = ("source", "id", "client_id", "on", "credit", "doc", "note", "state", "seq")


def credit_rows(
    practice: Practice,
    *,
    status: str = "",
    client_id: int | None = None,
    clinician_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str = "",
) -> CreditRows:
    """Every credit, newest first: credit invoices and payments that left credit (an
    overpayment), filtered (see CreditRows)."""
    invoices = Invoice.objects.filter(practice=practice, kind=Invoice.Kind.CREDIT)
    payments = Payment.objects.filter(practice=practice, credited__gt=0)
    if status == "issued":
        invoices = invoices.filter(status=Invoice.Status.OPEN)
        payments = payments.exclude(status=Payment.Status.REVERSED)
    elif status == "void":
        invoices = invoices.filter(status=Invoice.Status.VOID)
        payments = payments.filter(status=Payment.Status.REVERSED)
    elif status:
        invoices = invoices.filter(status=status)
        payments = payments.none()
    if client_id is not None:
        invoices, payments = invoices.filter(client_id=client_id), payments.filter(client_id=client_id)
    if clinician_id is not None:
        invoices = invoices.filter(_client_has_clinician(clinician_id))
        payments = payments.filter(_client_has_clinician(clinician_id))
    invoices = invoices.filter(_issued_or_created_between(date_from, date_to))
    if date_from:
        payments = payments.filter(received_on__gte=date_from)
    if date_to:
        payments = payments.filter(received_on__lte=date_to)
    for term in q.split():
        names = Q(client__first_name__icontains=term) | Q(client__last_name__icontains=term)
        invoices = invoices.filter(Q(number__icontains=term) | names)
        payments = payments.filter(Q(reference__icontains=term) | names)
    return CreditRows(invoices, payments)


def credit_trails(practice: Practice, client_ids: set[int]) -> dict[tuple[str, int], CreditTrail]:
    """Where each credit of these clients went, keyed ("invoice" | "payment", id).

    The ledger records credit applied to an invoice, not which credit paid it, so credit is
    matched oldest first, as a biller reads a statement. Movements tied to one credit (a
    credit invoice voided or edited, an overpayment deleted or refunded) change that credit;
    credit returned by voiding an invoice it paid goes back to the credits that paid it."""
    entries = (
        LedgerEntry.objects.filter(practice=practice, client_id__in=client_ids)
        .exclude(credit_delta=0)
        .order_by("client_id", "created_at", "id")
        .values("client_id", "kind", "credit_delta", "invoice_id", "invoice__kind", "invoice__number", "payment_id")
    )
    trails: dict[tuple[str, int], CreditTrail] = {}
    order: dict[int, list[tuple[str, int]]] = {}

    def take(client_id: int, amount: Decimal, target: tuple[int, str] | None) -> None:
        for key in order.get(client_id, []):
            if amount <= 0:
                return
            trail = trails[key]
            share = min(trail.left, amount)
            if share <= 0:
                continue
            trail.left -= share
            amount -= share
            if target is not None:
                trail.uses.append(CreditUse(invoice_id=target[0], number=target[1], amount=share))

    for row in entries:
        delta, client_id, kind = row["credit_delta"], row["client_id"], row["kind"]
        if row["invoice__kind"] == Invoice.Kind.CREDIT:
            source: tuple[str, int] | None = ("invoice", row["invoice_id"])
        elif row["payment_id"] is not None:
            source = ("payment", row["payment_id"])
        else:
            source = None
        if source is not None and delta > 0:
            if source not in trails:
                trails[source] = CreditTrail()
                order.setdefault(client_id, []).append(source)
            trails[source].left += delta
        elif source is not None:
            trail = trails.setdefault(source, CreditTrail())
            own = min(trail.left, -delta)
            trail.left -= own
            take(client_id, -delta - own, None)
        elif kind == LedgerEntry.Kind.CREDIT_APPLIED:
            take(client_id, -delta, (row["invoice_id"], row["invoice__number"] or ""))
        elif kind == LedgerEntry.Kind.CREDIT_RETURNED:
            back = delta
            for key in reversed(order.get(client_id, [])):
                trail = trails[key]
                for use in reversed(trail.uses):
                    if back <= 0 or use.invoice_id != row["invoice_id"]:
                        continue
                    share = min(use.amount, back)
                    use.amount -= share
                    trail.left += share
                    back -= share
                trail.uses = [u for u in trail.uses if u.amount > 0]
    for trail in trails.values():
        merged: dict[int, CreditUse] = {}
        for use in trail.uses:
            if use.invoice_id in merged:
                merged[use.invoice_id].amount += use.amount
            else:
                merged[use.invoice_id] = CreditUse(use.invoice_id, use.number, use.amount)
        trail.uses = list(merged.values())
    return trails


def credits_page_rows(practice: Practice, page: Page) -> list[dict[str, Any]]:
    """The page's rows with their client and where each credit went (two queries)."""
    rows = list(page.object_list)
    client_ids = {row["client_id"] for row in rows}
    clients = Client.objects.in_bulk(client_ids)
    trails = credit_trails(practice, client_ids)
    for row in rows:
        row["client"] = clients.get(row["client_id"])
        row["trail"] = trails.get((row["source"], row["id"]), CreditTrail())
        # An open credit invoice reads "Issued" (its credit is there to use), not "Open"
        row["badge"] = "issued" if row["source"] == "invoice" and row["state"] == "open" else row["state"]
    return rows
