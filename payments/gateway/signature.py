"""Checking a webhook's Stripe-Signature with stripe-python's own verifier."""

from __future__ import annotations

from collections.abc import Iterable

import stripe

# Stripe's own default: a signature older than five minutes is refused, so a captured
# delivery cannot be replayed later.
TOLERANCE_SECONDS = 300


def webhook_secret_matching(*, payload: bytes, header: str, secrets: Iterable[str]) -> str | None:
    """The secret (of those configured) that signed this payload within the tolerance, or None.

    Stripe's ``t=<ts>,v1=<hmac>`` scheme: any of several v1 signatures matches (as while a
    secret is being rolled), and the timestamp's age is checked."""
    if not header:
        return None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    for secret in secrets:
        if not secret:
            continue
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            continue
        return secret
    return None
