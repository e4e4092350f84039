"""Reads of one client's billing: their Billing tab (invoices, payments, open invoices,
packages, account) and what the client portal and payment links read of them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from clients.models import Client
from practice.models import Practice

from ..models import ClientAccount, Invoice, Payment
from ..money import ZERO


def clients_for_invoicing(practice: Practice) -> QuerySet[Client]:
    return Client.objects.filter(practice=practice, status=Client.Status.ACTIVE).order_by("last_name", "first_name")


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
