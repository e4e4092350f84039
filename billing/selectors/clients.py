"""Reads of one client's billing: their Billing tab (invoices, payments, open invoices,
packages, account) and what the client portal and payment links read of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from clients.models import Client
from practice.models import Practice

from ..models import ClientAccount, Invoice, Payment
from ..money import ZERO


def clients_for_invoicing(practice: Practice) -> QuerySet[Client]:
    return Client.objects.filter(practice=practice, status=Client.Status.ACTIVE).order_by("last_name", "first_name")


def overdue_sum(practice: Practice, today: date) -> Coalesce:
    """What the outer query's client owes on invoices past their due date, as a subquery:
    open invoices with a balance whose due date is before ``today``."""
    overdue = Invoice.objects.filter(
        practice=practice,
        client=OuterRef("pk"),
        kind=Invoice.Kind.INVOICE,
        status=Invoice.Status.OPEN,
        due_date__lt=today,
        balance__gt=0,
    ).order_by()
    total = overdue.values("client").annotate(total=Sum("balance")).values("total")
    return Coalesce(Subquery(total, output_field=DecimalField()), ZERO)


def clients_with_money(practice: Practice, clients: QuerySet[Client]) -> QuerySet[Client]:
    """The clients list's Balance, Credit and Overdue columns (clients.hooks), read in the
    list's own query: ``account_balance``, ``account_credit`` and ``overdue_amount``."""
    return clients.annotate(**_money_columns(practice))


def _money_columns(practice: Practice) -> dict[str, Coalesce]:
    account = ClientAccount.objects.filter(practice=practice, client=OuterRef("pk"))
    return {
        "account_balance": Coalesce(Subquery(account.values("balance")), ZERO),
        "account_credit": Coalesce(Subquery(account.values("credit_balance")), ZERO),
        "overdue_amount": overdue_sum(practice, practice.local_today()),
    }


def client_header_figures(practice: Practice, client: Client) -> tuple[Decimal, Decimal, Decimal]:
    """The record header's Balance, Credit balance and Overdue of one client (one query)."""
    row: dict[str, Decimal] | None = (
        Client.objects.filter(practice=practice, pk=client.pk)
        .values(**_money_columns(practice))  # type: ignore[assignment]  # names come from the dict
        .first()
    )
    if row is None:
        return ZERO, ZERO, ZERO
    return row["account_balance"], row["account_credit"], row["overdue_amount"]


def client_account(practice: Practice, client: Client) -> ClientAccount | None:
    return ClientAccount.objects.filter(practice=practice, client=client).first()


def client_invoices(practice: Practice, client: Client, limit: int = 50) -> list[Invoice]:
    return list(
        Invoice.objects.filter(practice=practice, client=client)
        .select_related("practice")
        .order_by("-created_at", "-id")[:limit]
    )


def client_payments(practice: Practice, client: Client, limit: int = 50) -> list[Payment]:
    return list(Payment.objects.filter(practice=practice, client=client).order_by("-received_on", "-id")[:limit])


def client_open_invoices(practice: Practice, client: Client) -> list[Invoice]:
    """Open invoices with a balance, oldest first: the default order of a payment's allocation."""
    return list(
        Invoice.objects.filter(
            practice=practice,
            client=client,
            kind=Invoice.Kind.INVOICE,
            status=Invoice.Status.OPEN,
            balance__gt=0,
        )
        .select_related("practice")
        .order_by("issue_date", "sequence", "pk")
    )


# --- what the client portal and payment links read (the seam the payments app uses) ------


@dataclass(frozen=True)
class ClientBalance:
    """What a client owes across their open invoices and the credit they hold."""

    balance: Decimal
    credit_balance: Decimal


def invoice_payable(client: Client, invoice_id: int) -> Invoice | None:
    """``client``'s own open invoice with something left to pay, or None (another client's,
    a draft, paid, void or credit invoice, or no such invoice: the caller cannot tell which)."""
    return (
        Invoice.objects.select_related("practice")
        .filter(
            practice_id=client.practice_id,
            client=client,
            pk=invoice_id,
            kind=Invoice.Kind.INVOICE,
            status=Invoice.Status.OPEN,
            balance__gt=0,
        )
        .first()
    )


def client_balance(client: Client) -> ClientBalance:
    """The client's balance and credit balance from their account (zeros before any)."""
    account = ClientAccount.objects.filter(practice_id=client.practice_id, client=client).first()
    if account is None:
        return ClientBalance(balance=ZERO, credit_balance=ZERO)
    return ClientBalance(balance=account.balance, credit_balance=account.credit_balance)
