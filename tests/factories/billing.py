"""Builders of billing rows: uninvoiced items, draft and issued invoices, credit and payments.

Items are made either as BillingItem rows whose figures come from billing.money.line_amounts
(fast, any amount) or through a real completed session (make_appointment +
appointment_mark_completed), which is what a clinician's day produces. The figures a biller
reads back (the client's account, the ledger sums) are in tests/billing/helpers.py.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import timedelta
from decimal import Decimal

from appointments.models import Service
from appointments.services import appointment_mark_completed
from billing import services
from billing.models import BillingItem, Invoice, Package, PackagePurchase
from billing.money import line_amounts
from clients.models import Client
from practice.models import Practice, User

from .appointments import ServiceFactory, make_appointment, past_start

D = Decimal


def make_item(
    practice: Practice,
    client: Client,
    price: str | Decimal = "100.00",
    *,
    tax: str | Decimal = "0",
    units: str | Decimal = "1",
    days_ago: int = 3,
    on: Date | None = None,
    description: str = "Individual therapy",
) -> BillingItem:
    """An uninvoiced item dated ``on``, or ``days_ago`` (practice's local date), figures as
    billing.money rounds them."""
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
        date=on or practice.local_today() - timedelta(days=days_ago),
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


def invoice_for(item: BillingItem) -> Invoice:
    """Put ``item`` on a fresh draft invoice, as the invoicing work will."""
    invoice = Invoice.objects.create(practice=item.practice, client=item.client, currency=item.currency)
    item.invoice = invoice
    item.save(update_fields=["invoice"])
    return invoice


def draft_invoice(practice: Practice, client: Client, actor: User, *prices: str) -> Invoice:
    items = make_items(practice, client, *(prices or ("100.00",)))
    return services.invoice_create(practice=practice, client=client, actor=actor, item_ids=[i.pk for i in items])


def issued_invoice(
    practice: Practice, client: Client, actor: User, *prices: str, apply_credit: bool = False
) -> Invoice:
    """An issued invoice of one item per price (one of 100.00 if none is given)."""
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
    """A manual (cash) payment received today, recorded as the Add payment form records it."""
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


def paid_package(practice: Practice, client: Client, actor: User, package: Package) -> PackagePurchase:
    """``package`` sold to ``client``, its invoice marked paid in full."""
    purchase = services.package_sell(practice=practice, client=client, package=package, actor=actor)
    services.invoice_mark_paid(invoice=purchase.invoice, actor=actor, method="cash")
    purchase.invoice.refresh_from_db()
    assert purchase.invoice.status == "paid"
    return purchase
