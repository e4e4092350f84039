"""The StripeClient built from settings, and the idempotency keys every POST carries."""

from __future__ import annotations

import stripe
from django.conf import settings
from stripe._base_address import BaseAddresses

# The fake Stripe takes any test key; this one is used when STRIPE_API_BASE points at it
# and no secret key is configured (``make run`` without keys, the tests).
FAKE_SECRET_KEY = "sk_test_fake_practica"
MAX_NETWORK_RETRIES = 2

StripeError = stripe.StripeError


class StripeUnanswered(Exception):
    """Stripe did not answer (a timeout, a 5xx, a 429) however often the request was sent
    again with its key: it may or may not have been carried out. Sending it again later
    with the same key, or Stripe's webhook, tells which."""


def fake_in_use() -> bool:
    """Whether the app talks to the fake Stripe (no secret key, a base address set)."""
    return bool(settings.STRIPE_API_BASE) and not settings.STRIPE_SECRET_KEY


def client(*, max_network_retries: int = MAX_NETWORK_RETRIES, timeout: float | None = None) -> stripe.StripeClient:
    key = settings.STRIPE_SECRET_KEY or (FAKE_SECRET_KEY if settings.STRIPE_API_BASE else "")
    if not key:
        raise stripe.AuthenticationError("Stripe is not configured: set STRIPE_SECRET_KEY (or STRIPE_API_BASE).")
    base = str(settings.STRIPE_API_BASE).rstrip("/")
    addresses: BaseAddresses = {"api": base, "connect": base, "files": base} if base else {}
    return stripe.StripeClient(
        key,
        base_addresses=addresses,
        max_network_retries=max_network_retries,
        http_client=stripe.RequestsClient(timeout=timeout or float(settings.STRIPE_TIMEOUT_SECONDS)),
    )


def idempotency_key(kind: str, pk: int | str, step: str) -> str:
    """The key for one POST made on behalf of a local row: ``onboarding:12:account``.

    The same row and step always give the same key, so a retry (ours or stripe-python's)
    is answered with the first response."""
    return f"{kind}:{pk}:{step}"
