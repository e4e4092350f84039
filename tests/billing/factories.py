"""Helpers for billing tests: uninvoiced items made quickly, issued invoices, credit, and the
figures a biller reads (the client's account and the ledger sums).

Items are made either as BillingItem rows whose figures come from billing.money.line_amounts
(fast, any amount) or through a real completed session (make_appointment +
appointment_mark_completed), which is what a clinician's day produces.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Sum

from appointments.models import Service
from appointments.services import appointment_mark_completed
from billing import services
from billing.models import BillingItem, ClientAccount, Invoice, LedgerEntry
from billing.money import line_amounts
from clients.models import Client
from practice.models import Practice, User
from tests.appointments.factories import ClientFactory, ServiceFactory, make_appointment, past_start

D = Decimal


def make_client(practice: Practice, **kwargs: object) -> Client:
    return ClientFactory(practice=practice, **kwargs)


def make_item(
    practice: Practice,
    client: Client,
    price: str | Decimal = "100.00",
    *,
    tax: str | Decimal = "0",
    units: str | Decimal = "1",
    days_ago: int = 3,
    description: str = "Individual therapy",
) -> BillingItem:
    """An uninvoiced item ``days_ago`` (practice's local date), figures as billing.money rounds them."""
    figures = line_amounts(
        units=D(units),
        unit_price=D(price),
        tax_percent=D(tax),
        currency=practice.currency,
        prices_include_tax=practice.prices_include_tax,
    )
    return BillingItem.objects.create(
        practice=practice,
        client=client,
        kind=BillingItem.Kind.MANUAL,
        date=practice.local_today() - timedelta(days=days_ago),
        description=description,
        units=D(units),
        unit_price=D(price),
        tax_percent=D(tax),
        net=figures.net,
        tax=figures.tax,
        amount=figures.gross,
        currency=practice.currency,
    )


def make_items(practice: Practice, client: Client, *prices: str, days_ago: int = 3) -> list[BillingItem]:
    return [make_item(practice, client, price, days_ago=days_ago) for price in prices]


def completed_session_items(
    practice: Practice, actor: User, clinician: User, client: Client, service: Service | None = None, days_ago: int = 3
) -> list[BillingItem]:
    """The items a completed session of ``service`` makes (none if a package paid for it)."""
    service = service or ServiceFactory(practice=practice)
    appointment = make_appointment(
        practice, actor, clinician, [client], [service], start=past_start(practice, days=days_ago)
    )
    return appointment_mark_completed(appointment=appointment, actor=actor)


def draft_invoice(practice: Practice, client: Client, actor: User, *prices: str) -> Invoice:
    items = make_items(practice, client, *(prices or ("100.00",)))
    return services.invoice_create(practice=practice, client=client, actor=actor, item_ids=[i.pk for i in items])


def issued_invoice(
    practice: Practice, client: Client, actor: User, *prices: str, apply_credit: bool = False
) -> Invoice:
    items = make_items(practice, client, *(prices or ("100.00",)))
    return services.invoice_create(
        practice=practice,
        client=client,
        actor=actor,
        item_ids=[i.pk for i in items],
        issue=True,
        apply_credit=apply_credit,
    )


def give_credit(
    practice: Practice, client: Client, actor: User, amount: str = "30.00", reason: str = "Goodwill"
) -> Invoice:
    """An issued credit invoice of ``amount``: the client's credit balance grows by it."""
    return services.credit_invoice_create(
        practice=practice,
        client=client,
        actor=actor,
        reason=reason,
        lines=[services.LineInput(description="Goodwill credit", unit_price=D(amount))],
    )


def pay(
    practice: Practice, client: Client, actor: User, amount: str, *, to_credit: bool = False, **kwargs: object
) -> services.PaymentResult:
    return services.payment_record_manual(
        practice=practice,
        client=client,
        actor=actor,
        amount=D(amount),
        received_on=practice.local_today(),
        method="cash",
        overpayment_to_credit=to_credit,
        **kwargs,
    )


def account(client: Client) -> ClientAccount:
    """The client's balance and credit balance as the client header shows them."""
    return ClientAccount.objects.get_or_create(practice_id=client.practice_id, client=client)[0]


def ledger_sums(client: Client) -> tuple[Decimal, Decimal]:
    """(balance, credit balance) summed from the client's ledger rows."""
    sums = LedgerEntry.objects.filter(client=client).aggregate(b=Sum("balance_delta"), c=Sum("credit_delta"))
    return sums["b"] or D("0"), sums["c"] or D("0")


def ledger_kinds(client: Client) -> list[tuple[str, Decimal, Decimal]]:
    """The client's ledger rows, oldest first, as (kind, balance_delta, credit_delta)."""
    return list(
        LedgerEntry.objects.filter(client=client)
        .order_by("created_at", "pk")
        .values_list("kind", "balance_delta", "credit_delta")
    )


def uninvoiced(client: Client) -> set[int]:
    return set(BillingItem.objects.filter(client=client, invoice__isnull=True).values_list("pk", flat=True))


def reload(obj):  # type: ignore[no-untyped-def]
    obj.refresh_from_db()
    return obj


__all__ = [
    "ClientFactory",
    "ServiceFactory",
    "account",
    "completed_session_items",
    "draft_invoice",
    "give_credit",
    "issued_invoice",
    "ledger_kinds",
    "ledger_sums",
    "make_client",
    "make_item",
    "make_items",
    "pay",
    "reload",
    "uninvoiced",
]
