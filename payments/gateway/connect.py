"""Stripe Connect: Express accounts, onboarding links and dashboard login links; and the
account a practice's own secret key belongs to (a self-hosted practice, no Connect)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe
from stripe.params import AccountCreateParams, AccountLinkCreateParams

from .client import client, idempotency_key, request_options


@dataclass(frozen=True)
class Account:
    """What the app keeps of a connected account."""

    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements: dict[str, Any]


def _account(obj: stripe.Account) -> Account:
    requirements = obj.requirements.to_dict() if obj.requirements is not None else {}
    return Account(
        id=str(obj.id),
        charges_enabled=bool(obj.charges_enabled),
        payouts_enabled=bool(obj.payouts_enabled),
        details_submitted=bool(obj.details_submitted),
        requirements=dict(requirements),
    )


def account_create(*, onboarding_id: int, email: str, country: str, practice_id: int) -> Account:
    """An Express account (controller properties: Express dashboard, Stripe collects
    requirements), keyed by the local onboarding row so a repeat makes no second account."""
    params: AccountCreateParams = {
        "controller": {
            "stripe_dashboard": {"type": "express"},
            "requirement_collection": "stripe",
            "fees": {"payer": "application"},
            "losses": {"payments": "application"},
        },
        "country": country,
        "email": email,
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        "metadata": {"practice": str(practice_id)},
    }
    key = idempotency_key("onboarding", onboarding_id, "account")
    return _account(client().v1.accounts.create(params, request_options(None, idempotency_key=key)))


def account_link_create(*, onboarding_id: int, account_id: str, refresh_url: str, return_url: str) -> tuple[str, int]:
    """An onboarding link: (url, expires_at)."""
    params: AccountLinkCreateParams = {
        "account": account_id,
        "type": "account_onboarding",
        "refresh_url": refresh_url,
        "return_url": return_url,
    }
    key = idempotency_key("onboarding", onboarding_id, "link")
    link = client().v1.account_links.create(params, request_options(None, idempotency_key=key))
    return str(link.url), int(link.expires_at)


def login_link_create(*, account_id: str, click_id: int) -> str:
    """A one-time link into the account's Express dashboard, keyed by the local row of the
    click that asked for it (``click_id``).

    Stripe honours the key for 24 hours like any POST's, answering a repeat with the first
    response. A login link is single use and short lived, so a key must name one click: a
    retry of that click (stripe-python's, after a timeout) gets its link back, while the
    next click, with a row of its own, gets a fresh one instead of a link already spent."""
    key = idempotency_key("login", click_id, "link")
    options = request_options(None, idempotency_key=key)
    return str(client().v1.accounts.login_links.create(account_id, None, options).url)


def account_retrieve(account_id: str) -> Account:
    """The account as Stripe has it now: a connected account as the platform sees it, or a
    practice's own account read with its own key (GET /v1/account)."""
    options = request_options(account_id)
    if options.get("api_key"):
        return _account(client().v1.accounts.retrieve_current(None, options))
    # The platform reads its connected account as its own object (no Stripe-Account header).
    return _account(client().v1.accounts.retrieve(account_id, None, request_options(None)))


class KeyRefused(Exception):
    """Stripe answered that a secret key cannot be used (unknown, rolled, or without the
    permission to read its account); the message is Stripe's."""


def account_for_key(secret_key: str) -> Account:
    """The account a secret key belongs to, read with that key (GET /v1/account): the test
    call that a practice's own keys pass before they are saved. Raises KeyRefused when
    Stripe refuses the key, and StripeError when Stripe could not be asked."""
    try:
        obj = client().v1.accounts.retrieve_current(None, {"api_key": secret_key})
    except (stripe.AuthenticationError, stripe.PermissionError, stripe.InvalidRequestError) as exc:
        raise KeyRefused(exc.user_message or str(exc)) from exc
    return _account(obj)
