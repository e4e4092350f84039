"""A client's statement for a period: the balance they owed at its start, every movement
of their account during it (invoices, payments, refunds, credits, write-offs) with the
running balance, and the balance at its end.

It is the account history (billing.selectors.client_account_history_between) as paper:
the opening and closing balances are the ledger's sums at those instants, so a statement
agrees with the ledger to the cent. Days are the practice's local days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from clients.models import Client
from practice.dates import day_label
from practice.models import InvoiceTemplate, Practice
from practice.money import practice_money

from ..models import LedgerEntry
from ..selectors import PeriodHistory, client_account_history_between
from .letterhead import Letterhead, letterhead_of

# Error messages a user sees (tests assert on them).
PERIOD_BACKWARDS = "The start of the period must be on or before its end."
PERIOD_TOO_LONG = "Choose a period of at most two years."
PERIOD_IN_FUTURE = "The period cannot end after today."
MAX_PERIOD_DAYS = 731  # two years, a leap day included


def default_period(today: date) -> tuple[date, date]:
    """The first of last month to today: last month's statement with this month so far."""
    first_of_this_month = today.replace(day=1)
    return (first_of_this_month - timedelta(days=1)).replace(day=1), today


def period_check(start: date, end: date, *, today: date) -> None:
    """Refuse a period that runs backwards, is longer than two years or ends in the future
    (a statement of days not yet lived would read as final)."""
    if start > end:
        raise ValidationError({"start": PERIOD_BACKWARDS})
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValidationError({"start": PERIOD_TOO_LONG})
    if end > today:
        raise ValidationError({"end": PERIOD_IN_FUTURE})


@dataclass(frozen=True)
class StatementRow:
    date: str
    description: str
    charge: str
    payment: str
    balance: str
    credit_balance: str
    credit_change: str


@dataclass(frozen=True)
class Statement:
    letterhead: Letterhead
    client_name: str
    client_address: str
    client_email: str
    period: str
    issued: str
    opening_balance: str
    opening_credit: str
    closing_balance: str
    closing_credit: str
    total_charges: str
    total_payments: str
    rows: list[StatementRow]
    # The figures as the ledger holds them, for whoever checks the paper against it.
    history: PeriodHistory
    filename: str


def _describe(entry: LedgerEntry) -> str:
    words = [entry.get_kind_display()]
    if entry.invoice_id and entry.invoice is not None and entry.invoice.number:
        words.append(entry.invoice.number)
    elif entry.payment_id and entry.payment is not None:
        payment = entry.payment
        words.append(payment.get_method_display() + (f" {payment.reference}" if payment.reference else ""))
    if entry.memo and entry.memo not in words[-1]:
        words.append(entry.memo)
    return " · ".join(words)


def client_statement(
    practice: Practice, client: Client, start: date, end: date, template: InvoiceTemplate
) -> Statement:
    """The statement of ``client`` from ``start`` to ``end`` (both included), in
    ``template``'s look. The period is assumed checked (``period_check``)."""
    history = client_account_history_between(practice, client, start, end)
    tz = practice.tzinfo

    def money(amount: Decimal) -> str:
        return practice_money(practice, amount)

    def signed(amount: Decimal) -> str:
        return ("+" if amount > 0 else "") + money(amount)

    rows = [
        StatementRow(
            date=day_label(row.entry.created_at.astimezone(tz).date()),
            description=_describe(row.entry),
            charge=money(row.debit) if row.debit else "",
            payment=money(row.credit) if row.credit else "",
            balance=money(row.balance),
            credit_balance=money(row.credit_balance),
            credit_change=signed(row.credit_change) if row.credit_change else "",
        )
        for row in history.rows
    ]
    payer = client.payer if client.payer_id else None
    name = f"{client.full_name}" + (f" (paid by {payer.first_name} {payer.last_name})" if payer else "")
    slug = slugify(f"{client.last_name} {client.first_name}") or "client"
    return Statement(
        letterhead=letterhead_of(template),
        client_name=name,
        client_address=payer.address if payer and payer.address else client.address,
        client_email=client.billing_email,
        period=f"{day_label(start)} to {day_label(end)}",
        issued=day_label(practice.local_today()),
        opening_balance=money(history.opening_balance),
        opening_credit=money(history.opening_credit),
        closing_balance=money(history.closing_balance),
        closing_credit=money(history.closing_credit),
        total_charges=money(sum((r.debit for r in history.rows), Decimal("0"))),
        total_payments=money(sum((r.credit for r in history.rows), Decimal("0"))),
        rows=rows,
        history=history,
        filename=f"statement-{slug}-{start.isoformat()}-{end.isoformat()}.pdf",
    )
