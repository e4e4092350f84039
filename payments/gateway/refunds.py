"""Refunds of a charge on a connected account, and disputes as Stripe has them.

A refund is created under the key of the local refund attempt (``refund:<pk>:refund``) and
is retried with that same key when Stripe answers 500 or 429 or does not answer: Stripe
replays the first refund instead of making a second one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import stripe
from stripe.params import RefundCreateParams, RefundListParams

from .client import client, idempotency_key, request_options

# stripe-python retries a timeout or a 500 itself (MAX_NETWORK_RETRIES, the same key) but
# gives up on a 429 at once: that one is retried here, after these waits.
RATE_LIMIT_DELAYS = (0.25, 0.5, 1.0)
# Errors that leave the outcome unknown: the refund may exist. Try again with the same key.
TRANSIENT = (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError)


@dataclass(frozen=True)
class Refund:
    """What the app reads of a refund: ``amount`` in minor units; ``status`` is Stripe's
    (pending, requires_action, succeeded, failed or canceled)."""

    id: str
    amount: int
    currency: str
    status: str
    charge: str | None
    payment_intent: str | None
    failure_reason: str | None
    created: int
    metadata: dict[str, str]


@dataclass(frozen=True)
class Dispute:
    """What the app reads of a dispute: ``status`` is Stripe's (warning_needs_response,
    warning_under_review, warning_closed, needs_response, under_review, won, lost)."""

    id: str
    amount: int
    currency: str
    status: str
    reason: str
    charge: str | None
    payment_intent: str | None
    due_by: int | None


def _id(field: Any) -> str | None:
    if field is None or isinstance(field, str):
        return field
    return str(field.id)


def _metadata(raw: object) -> dict[str, str]:
    data = raw.to_dict() if isinstance(raw, stripe.StripeObject) else raw
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _refund(obj: stripe.Refund) -> Refund:
    # Stripe sends failure_reason only on a failed refund.
    failure: object = getattr(obj, "failure_reason", None)
    return Refund(
        id=str(obj.id),
        amount=int(obj.amount),
        currency=str(obj.currency).upper(),
        status=str(obj.status or ""),
        charge=_id(obj.charge),
        payment_intent=_id(obj.payment_intent),
        failure_reason=str(failure) if failure else None,
        created=int(obj.created),
        metadata=_metadata(obj.metadata),
    )


def _dispute(obj: stripe.Dispute) -> Dispute:
    details = obj.evidence_details
    return Dispute(
        id=str(obj.id),
        amount=int(obj.amount),
        currency=str(obj.currency).upper(),
        status=str(obj.status),
        reason=str(obj.reason),
        charge=_id(obj.charge),
        payment_intent=_id(obj.payment_intent),
        due_by=details.due_by if details is not None else None,
    )


def refund_create(
    *, attempt_id: int, account_id: str, payment_intent: str, amount: int, metadata: dict[str, str]
) -> Refund:
    """Refund ``amount`` minor units of the payment intent's charge, keyed by the local
    attempt row: a retry (ours, stripe-python's, or a later click) gets the same refund.
    Raises a TRANSIENT error when Stripe still cannot be reached after the retries (the
    refund may or may not exist: try again with the same attempt), or another StripeError
    when Stripe refused it (nothing was refunded)."""
    params: RefundCreateParams = {
        "payment_intent": payment_intent,
        "amount": amount,
        "reason": "requested_by_customer",
        "metadata": metadata,
    }
    options = request_options(account_id, idempotency_key=idempotency_key("refund", attempt_id, "refund"))
    for delay in RATE_LIMIT_DELAYS:
        try:
            return _refund(client().v1.refunds.create(params, options))
        except stripe.RateLimitError:
            time.sleep(delay)
    return _refund(client().v1.refunds.create(params, options))


def payment_refunds(payment_intent: str, account_id: str) -> list[Refund]:
    """Every refund of a payment intent's charges as Stripe has it now, oldest first."""
    params: RefundListParams = {"payment_intent": payment_intent, "limit": 100}
    page = client().v1.refunds.list(params, request_options(account_id))
    return sorted((_refund(r) for r in page.auto_paging_iter()), key=lambda r: (r.created, r.id))


def refund_read(data: dict[str, object]) -> Refund:
    """A refund from its plain-dict form (a webhook's re-read)."""
    return _refund(stripe.Refund.construct_from(data, ""))


def dispute_read(data: dict[str, object]) -> Dispute:
    """A dispute from its plain-dict form (a webhook's re-read)."""
    return _dispute(stripe.Dispute.construct_from(data, ""))
