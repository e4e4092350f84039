"""The StripeClient built from settings, and the idempotency keys every POST carries."""

from __future__ import annotations

from collections.abc import Callable

import stripe
from django.conf import settings
from stripe._base_address import BaseAddresses

# The fake Stripe takes any test key; this one is used when STRIPE_API_BASE points at it
# and no secret key is configured (``make run`` without keys, the tests).
FAKE_SECRET_KEY = "sk_test_fake_practica"
MAX_NETWORK_RETRIES = 2
# The client's key when the deployment has no platform key (a self-hosted practice that uses
# its own keys only). Never sent: ``request_options`` refuses a platform call first, and
# every call of a practice with its own keys carries that key instead.
NO_PLATFORM_KEY = "sk_unset"
NOT_CONFIGURED = "Stripe is not configured: set STRIPE_SECRET_KEY (or STRIPE_API_BASE)."

StripeError = stripe.StripeError


class StripeUnanswered(Exception):
    """Stripe did not answer (a timeout, a 5xx, a 429) however often the request was sent
    again with its key: it may or may not have been carried out. Sending it again later
    with the same key, or Stripe's webhook, tells which."""


def fake_in_use() -> bool:
    """Whether the app talks to the fake Stripe (no secret key, a base address set)."""
    return bool(settings.STRIPE_API_BASE) and not settings.STRIPE_SECRET_KEY


def _platform_key() -> str:
    return str(settings.STRIPE_SECRET_KEY or (FAKE_SECRET_KEY if settings.STRIPE_API_BASE else ""))


def client(*, max_network_retries: int = MAX_NETWORK_RETRIES, timeout: float | None = None) -> stripe.StripeClient:
    """The client every call goes through, with the platform's key; a request's options
    (``request_options``) name the account it acts for, or carry a practice's own key."""
    key = _platform_key() or NO_PLATFORM_KEY
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


# Stripe account id -> that practice's own secret key, or None for a connected account.
OwnKeyLookup = Callable[[str], str | None]


class OwnKeyUnreadable(Exception):
    """Raised by the lookup for a practice whose stored key cannot be read (the environment's
    encryption key changed): the request fails as Stripe's AuthenticationError would."""


def _no_own_keys(account_id: str) -> str | None:
    return None


_own_key_lookup: list[OwnKeyLookup] = [_no_own_keys]


def register_own_key_lookup(lookup: OwnKeyLookup) -> OwnKeyLookup:
    """Set how a practice's own secret key is found by its account id (payments/apps.py
    registers payments.own_keys'); returns the previous lookup."""
    previous = _own_key_lookup[0]
    _own_key_lookup[0] = lookup
    return previous


def request_options(account_id: str | None, *, idempotency_key: str | None = None) -> stripe.RequestOptions:
    """The options of one request made for the practice whose Stripe account is
    ``account_id`` (None: the platform's own request). Every gateway call builds its
    options here, so which key and header a request carries is decided in one place:

    - a practice that entered its own keys (self-hosted) is called with its own secret key
      and no Stripe-Account header: its account is not connected to any platform;
    - a connected account is called with the platform's key and its Stripe-Account header.

    Raises stripe's AuthenticationError when the request would need the platform's key and
    the deployment has none."""
    options: stripe.RequestOptions = {}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    try:
        own_key = _own_key_lookup[0](account_id) if account_id else None
    except OwnKeyUnreadable as exc:
        raise stripe.AuthenticationError(str(exc)) from exc
    if own_key:
        options["api_key"] = own_key
        return options
    if not _platform_key():
        raise stripe.AuthenticationError(NOT_CONFIGURED)
    if account_id:
        options["stripe_account"] = account_id
    return options


def on_connected_account(options: stripe.RequestOptions) -> bool:
    """Whether the request acts on a connected account through the platform: only such a
    charge can carry the platform's application fee (Stripe refuses one on a charge made
    with the account's own key, and there is no platform to take it)."""
    return bool(options.get("stripe_account"))
