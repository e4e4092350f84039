"""Rows of online payments, as Stripe's events leave them (no Stripe needed)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from billing import services
from billing.models import Payment
from clients.models import Client
from payments.models import StripePayment
from practice.models import Practice


def online_payment(
    practice: Practice,
    client: Client,
    amount: str = "100.00",
    *,
    fee: str | None = "3.20",
    allocations: dict[int, Decimal] | None = None,
    account: str = "acct_1FactoryAccount0",
) -> tuple[Payment, StripePayment]:
    """A card payment taken online (billing's row, as Checkout's settling records it) and its
    Stripe details (payments' row, as charge.succeeded leaves it): ``fee`` None is a charge
    whose balance transaction Stripe has not made yet."""
    tail = secrets.token_hex(8)
    payment = services.payment_record_settled(
        practice=practice,
        client=client,
        amount=Decimal(amount),
        currency=practice.currency,
        method=Payment.Method.CARD_ONLINE,
        external_id=f"pi_3Fake{tail}",
        allocations=allocations or {},
    ).payment
    details = StripePayment.objects.create(
        practice=practice,
        stripe_account_id=account,
        payment_intent_id=payment.external_id,
        charge_id=f"ch_3Fake{tail}",
        status="succeeded",
        fee=None if fee is None else Decimal(fee),
        net=None if fee is None else Decimal(amount) - Decimal(fee),
        currency=practice.currency,
    )
    return payment, details
