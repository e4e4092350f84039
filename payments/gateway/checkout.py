"""Checkout Sessions in payment mode, as direct charges on a connected account."""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from stripe.params.checkout import SessionCreateParams

from .client import client, idempotency_key, on_connected_account, request_options


@dataclass(frozen=True)
class CheckoutSession:
    """What the app reads of a Checkout Session."""

    id: str
    url: str | None
    status: str
    payment_status: str
    payment_intent: str | None
    amount_total: int | None
    currency: str
    metadata: dict[str, str]
    mode: str = "payment"
    setup_intent: str | None = None


def _metadata(raw: object) -> dict[str, str]:
    data = raw.to_dict() if isinstance(raw, stripe.StripeObject) else raw
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _session(obj: stripe.checkout.Session) -> CheckoutSession:
    intent = obj.payment_intent
    intent_id = intent if isinstance(intent, str) or intent is None else str(intent.id)
    setup = obj.setup_intent
    setup_id = setup if isinstance(setup, str) or setup is None else str(setup.id)
    return CheckoutSession(
        id=str(obj.id),
        url=obj.url,
        status=str(obj.status or ""),
        payment_status=str(obj.payment_status),
        payment_intent=intent_id,
        amount_total=obj.amount_total,
        currency=str(obj.currency or "").upper(),
        metadata=_metadata(obj.metadata),
        mode=str(obj.mode),
        setup_intent=setup_id,
    )


def checkout_session_create(
    *,
    attempt_id: int,
    account_id: str,
    amount: int,
    currency: str,
    name: str,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    application_fee_amount: int | None,
) -> CheckoutSession:
    """A payment-mode session for one line of ``amount`` minor units, keyed by the local
    attempt row so a retry or a double click gets the same session back."""
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {"currency": currency.lower(), "unit_amount": amount, "product_data": {"name": name}},
            }
        ],
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    options = request_options(account_id, idempotency_key=idempotency_key("checkout", attempt_id, "session"))
    if application_fee_amount and on_connected_account(options):
        params["payment_intent_data"] = {"application_fee_amount": application_fee_amount, "metadata": metadata}
    return _session(client().v1.checkout.sessions.create(params, options))


def checkout_session_retrieve(session_id: str, account_id: str) -> CheckoutSession:
    return _session(client().v1.checkout.sessions.retrieve(session_id, None, request_options(account_id)))


def checkout_session_read(data: dict[str, object]) -> CheckoutSession:
    """A session from its plain-dict form (a webhook's re-read)."""
    return _session(stripe.checkout.Session.construct_from(data, ""))
