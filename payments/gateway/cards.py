"""Saved cards: Customers, Checkout in setup mode, PaymentMethods, and PaymentIntents that
charge a saved card: off-session with the client absent (Pay now, AutoPay), or on-session
when the client clicks Pay with their card in the portal.

Everything lives on the practice's connected account (the Stripe-Account header): a
direct charge needs the Customer and the PaymentMethod there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import stripe
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams
from stripe.params.checkout import SessionCreateParams

from .checkout import CheckoutSession, _metadata, _session
from .client import StripeUnanswered, client, idempotency_key, on_connected_account, request_options

T = TypeVar("T")

# Tries of one POST when Stripe does not answer (a timeout, a 5xx, a 429, or the same key
# still in flight), each with the same idempotency key, waiting RETRY_WAIT_SECONDS * 2**n
# between them. stripe-python's own retries are off here so these are the only ones.
CHARGE_TRIES = 4
RETRY_WAIT_SECONDS = 0.25


@dataclass(frozen=True)
class Card:
    """What the app keeps of a card PaymentMethod (never its number)."""

    id: str
    customer: str | None
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class SetupIntent:
    id: str
    status: str
    customer: str | None
    payment_method: str | None


@dataclass(frozen=True)
class CardIntent:
    """What the app reads of a PaymentIntent, with its last error (a decline) if any."""

    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    customer: str | None
    payment_method: str | None
    metadata: dict[str, str]
    error_code: str | None = None
    decline_code: str | None = None
    error_message: str | None = None
    # Where to send a client who is present to confirm the payment with their bank (3D
    # Secure): the redirect_to_url next action of an on-session PaymentIntent.
    next_action_url: str | None = None


@dataclass(frozen=True)
class OffSessionCharge:
    """Stripe's answer to an off-session charge: the PaymentIntent as the answer left it
    (None when Stripe refused before making one), and the card error when it failed."""

    intent: CardIntent | None
    error_code: str | None = None
    decline_code: str | None = None
    message: str | None = None


def _id(value: str | stripe.Customer | stripe.PaymentMethod | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value.id)


def _card(obj: stripe.PaymentMethod) -> Card:
    card = obj.card
    return Card(
        id=str(obj.id),
        customer=_id(obj.customer),
        brand=str(card.brand) if card else "",
        last4=str(card.last4) if card else "",
        exp_month=int(card.exp_month) if card else 0,
        exp_year=int(card.exp_year) if card else 0,
    )


def _intent(obj: stripe.PaymentIntent) -> CardIntent:
    error = obj.last_payment_error
    action = obj.next_action
    redirect = action.redirect_to_url if action is not None and action.type == "redirect_to_url" else None
    return CardIntent(
        id=str(obj.id),
        status=str(obj.status),
        amount=int(obj.amount),
        amount_received=int(obj.amount_received or 0),
        currency=str(obj.currency or "").upper(),
        customer=_id(obj.customer),
        payment_method=_id(obj.payment_method),
        metadata=_metadata(obj.metadata),
        # Stripe leaves out the fields an error does not have (an authentication failure
        # has no decline_code), and stripe-python raises on a missing one.
        error_code=getattr(error, "code", None),
        decline_code=getattr(error, "decline_code", None),
        error_message=getattr(error, "message", None),
        next_action_url=redirect.url if redirect is not None else None,
    )


def _transient(exc: stripe.StripeError) -> bool:
    """Whether Stripe may not have answered (so the same request should be sent again)."""
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError | stripe.RateLimitError):
        return True
    # The same key still being worked on by an earlier request (a double click joining it).
    return isinstance(exc, stripe.IdempotencyError) and exc.http_status == 409


def _retrying(call: Callable[[], T], *, tries: int) -> T:
    for n in range(tries):
        try:
            return call()
        except stripe.StripeError as exc:
            if not _transient(exc):
                raise
            if n == tries - 1:
                raise StripeUnanswered(str(exc)) from exc
            time.sleep(RETRY_WAIT_SECONDS * 2**n)
    raise AssertionError("unreachable")  # pragma: no cover


def customer_create(*, customer_row_id: int, account_id: str, name: str, email: str, client_id: int) -> str:
    """A Customer for a client on the connected account: its id. Only the payer's name and
    email (for receipts) and the client's id go to Stripe."""
    params: CustomerCreateParams = {"name": name, "metadata": {"client": str(client_id)}}
    if email:
        params["email"] = email
    options = request_options(account_id, idempotency_key=idempotency_key("customer", customer_row_id, "create"))
    return str(client().v1.customers.create(params, options).id)


def setup_session_create(
    *,
    setup_id: int,
    account_id: str,
    customer_id: str,
    currency: str,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
) -> CheckoutSession:
    """A setup-mode Checkout Session that saves a card to ``customer_id`` for charges made
    later with the client absent; keyed by the local setup row."""
    params: SessionCreateParams = {
        "mode": "setup",
        "customer": customer_id,
        "currency": currency.lower(),
        "metadata": metadata,
        "setup_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    options = request_options(account_id, idempotency_key=idempotency_key("cardsetup", setup_id, "session"))
    return _session(client().v1.checkout.sessions.create(params, options))


def setup_intent_retrieve(setup_intent_id: str, account_id: str) -> SetupIntent:
    obj = client().v1.setup_intents.retrieve(setup_intent_id, None, request_options(account_id))
    return SetupIntent(
        id=str(obj.id), status=str(obj.status), customer=_id(obj.customer), payment_method=_id(obj.payment_method)
    )


def payment_method_retrieve(payment_method_id: str, account_id: str) -> Card:
    return _card(client().v1.payment_methods.retrieve(payment_method_id, None, request_options(account_id)))


def payment_method_detach(*, card_id: int, payment_method_id: str, account_id: str) -> None:
    """Detach a saved card from its Customer, so it can never be charged again. A card
    already detached (a retry after the first detach's answer was lost) or gone counts as
    done."""
    options = request_options(account_id, idempotency_key=idempotency_key("cardremove", card_id, "detach"))
    try:
        _retrying(
            lambda: client(max_network_retries=0).v1.payment_methods.detach(payment_method_id, None, options),
            tries=CHARGE_TRIES,
        )
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            return
        if payment_method_retrieve(payment_method_id, account_id).customer is None:
            return
        raise


def payment_intent_off_session(
    *,
    attempt_id: int,
    account_id: str,
    customer_id: str,
    payment_method_id: str,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    application_fee_amount: int | None,
    tries: int = CHARGE_TRIES,
) -> OffSessionCharge:
    """Charge a saved card now, the client absent: a PaymentIntent confirmed off-session as
    a direct charge on the connected account, keyed by the local attempt row.

    Stripe not answering (a timeout, a 5xx, a 429) is retried with the same key, so Stripe
    answers a retry of a charge it made with that charge: at most one exists. A decline
    or ``authentication_required`` is an answer (a 402 carrying the PaymentIntent), not an
    exception. Raises StripeUnanswered when no try got an answer, and StripeError when
    Stripe refused the request (a detached card, a deleted Customer)."""
    params: PaymentIntentCreateParams = {
        "amount": amount,
        "currency": currency.lower(),
        "customer": customer_id,
        "payment_method": payment_method_id,
        "confirm": True,
        "off_session": True,
        "metadata": metadata,
    }
    return _card_intent_create(params, attempt_id, account_id, application_fee_amount, tries)


def payment_intent_on_session(
    *,
    attempt_id: int,
    account_id: str,
    customer_id: str,
    payment_method_id: str,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    application_fee_amount: int | None,
    return_url: str,
    tries: int = CHARGE_TRIES,
) -> OffSessionCharge:
    """Charge a saved card now with the client present (Pay with Visa •••• 4242 in the
    portal): a PaymentIntent confirmed on-session, so the bank may ask the client to
    authenticate; then it is ``requires_action`` with a ``next_action_url`` to send them
    to, and Stripe sends them back to ``return_url``. Keys, retries and answers are
    ``payment_intent_off_session``'s."""
    params: PaymentIntentCreateParams = {
        "amount": amount,
        "currency": currency.lower(),
        "customer": customer_id,
        "payment_method": payment_method_id,
        "confirm": True,
        "return_url": return_url,
        "metadata": metadata,
    }
    return _card_intent_create(params, attempt_id, account_id, application_fee_amount, tries)


def _card_intent_create(
    params: PaymentIntentCreateParams,
    attempt_id: int,
    account_id: str,
    application_fee_amount: int | None,
    tries: int,
) -> OffSessionCharge:
    options = request_options(account_id, idempotency_key=idempotency_key("cardcharge", attempt_id, "intent"))
    if application_fee_amount and on_connected_account(options):
        params["application_fee_amount"] = application_fee_amount
    try:
        obj = _retrying(lambda: client(max_network_retries=0).v1.payment_intents.create(params, options), tries=tries)
    except stripe.CardError as exc:
        error = exc.error
        raw = error.payment_intent if error is not None else None
        return OffSessionCharge(
            intent=_intent(raw) if raw is not None else None,
            error_code=exc.code,
            decline_code=error.decline_code if error is not None else None,
            message=exc.user_message or (error.message if error is not None else None),
        )
    return OffSessionCharge(intent=_intent(obj))


def payment_intent_cancel(*, attempt_id: int, payment_intent_id: str, account_id: str) -> CardIntent:
    """Cancel a card charge's PaymentIntent still waiting for the client (3D Secure never
    finished), so it can no longer succeed: the client pays another way instead. Keyed by
    the attempt; a PaymentIntent that meanwhile succeeded or was canceled is returned as
    Stripe has it."""
    options = request_options(account_id, idempotency_key=idempotency_key("cardcharge", attempt_id, "cancel"))
    try:
        obj = _retrying(
            lambda: client(max_network_retries=0).v1.payment_intents.cancel(payment_intent_id, None, options),
            tries=CHARGE_TRIES,
        )
    except stripe.InvalidRequestError as exc:
        if exc.code != "payment_intent_unexpected_state":
            raise
        return card_intent_retrieve(payment_intent_id, account_id)
    return _intent(obj)


def card_intent_retrieve(payment_intent_id: str, account_id: str) -> CardIntent:
    return _intent(client().v1.payment_intents.retrieve(payment_intent_id, None, request_options(account_id)))


def payment_intent_read(data: dict[str, object]) -> CardIntent:
    """A PaymentIntent from its plain-dict form (a webhook's re-read)."""
    return _intent(stripe.PaymentIntent.construct_from(data, ""))
