"""PaymentIntents on a connected account: making one, and reading one with its charge and the
fee Stripe took (from the charge's balance transaction), and where the Dashboard shows it."""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings
from stripe.params import PaymentIntentCreateParams, PaymentIntentRetrieveParams

from .client import client, fake_in_use, idempotency_key, on_connected_account, request_options

DASHBOARD = "https://dashboard.stripe.com"


@dataclass(frozen=True)
class Charge:
    """A PaymentIntent's latest charge, with its balance transaction's money when it has one.

    ``fee`` and ``net`` are in the balance transaction's currency (the account's settlement
    currency, which may differ from the charge's), in its minor units; None while Stripe has
    not made the balance transaction yet (charge.updated follows when it does)."""

    id: str
    status: str
    balance_transaction: str | None
    fee: int | None
    net: int | None
    settlement_currency: str | None


@dataclass(frozen=True)
class PaymentIntent:
    """What the app reads of a PaymentIntent."""

    id: str
    status: str
    amount: int
    currency: str
    livemode: bool
    metadata: dict[str, str]
    charge: Charge | None


def _charge(raw: object) -> Charge | None:
    if not isinstance(raw, stripe.Charge):
        # Not expanded (an id) or none yet: the caller asked for the expansion, so none yet.
        return None
    txn = raw.balance_transaction
    if isinstance(txn, stripe.BalanceTransaction):
        return Charge(
            id=str(raw.id),
            status=str(raw.status),
            balance_transaction=str(txn.id),
            fee=int(txn.fee),
            net=int(txn.net),
            settlement_currency=str(txn.currency).upper(),
        )
    return Charge(
        id=str(raw.id),
        status=str(raw.status),
        balance_transaction=txn if isinstance(txn, str) else None,
        fee=None,
        net=None,
        settlement_currency=None,
    )


def _intent(obj: stripe.PaymentIntent) -> PaymentIntent:
    metadata = obj.metadata.to_dict() if obj.metadata is not None else {}
    return PaymentIntent(
        id=str(obj.id),
        status=str(obj.status),
        amount=int(obj.amount),
        currency=str(obj.currency).upper(),
        livemode=bool(obj.livemode),
        metadata={str(k): str(v) for k, v in metadata.items()},
        charge=_charge(obj.latest_charge),
    )


def payment_intent_create(
    *,
    row: tuple[str, int],
    account_id: str | None,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    customer: str | None = None,
    payment_method: str | None = None,
    off_session: bool = False,
    application_fee_amount: int | None = None,
) -> PaymentIntent:
    """A PaymentIntent for ``amount`` minor units, confirmed at once when a payment method is
    given (off-session for a saved card). ``row`` is the local row the charge is made for
    (``("attempt", 12)``): its key makes a retry answer with the same PaymentIntent.

    A decline raises stripe's CardError (``decline_code`` set; ``authentication_required``
    for a card that needs its holder); ``account_id`` None charges the platform itself."""
    params: PaymentIntentCreateParams = {
        "amount": amount,
        "currency": currency.lower(),
        "metadata": metadata,
        "expand": ["latest_charge.balance_transaction"],
    }
    if customer:
        params["customer"] = customer
    if payment_method:
        params["payment_method"] = payment_method
        params["confirm"] = True
        # Confirmed here, with no page to come back to: no payment method that redirects.
        params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
        if off_session:
            params["off_session"] = True
    kind, pk = row
    options = request_options(account_id, idempotency_key=idempotency_key(kind, pk, "payment_intent"))
    if application_fee_amount and on_connected_account(options):
        params["application_fee_amount"] = application_fee_amount
    return _intent(client().v1.payment_intents.create(params, options))


def payment_intent_retrieve(intent_id: str, account_id: str | None) -> PaymentIntent:
    """The PaymentIntent as Stripe has it now, with its latest charge and balance transaction."""
    params: PaymentIntentRetrieveParams = {"expand": ["latest_charge.balance_transaction"]}
    return _intent(client().v1.payment_intents.retrieve(intent_id, params, request_options(account_id)))


def dashboard_payment_url(*, account_id: str, intent_id: str, livemode: bool) -> str:
    """Where the payment opens in the Stripe Dashboard: the platform's view of the connected
    account's payment (``/test/`` for a test-mode one), or the fake's page of it."""
    if fake_in_use():
        return f"{str(settings.STRIPE_API_BASE).rstrip('/')}/dashboard/{account_id}/test/payments/{intent_id}"
    mode = "" if livemode else "test/"
    return f"{DASHBOARD}/{account_id}/{mode}payments/{intent_id}"
