"""Re-reading an object from Stripe by its type and id, as webhook handlers do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe
from stripe import RequestOptions

from .client import client, request_options


def _readers(c: stripe.StripeClient) -> dict[str, Callable[[str, RequestOptions], stripe.StripeObject]]:
    v1 = c.v1
    return {
        # A practice's own account (its own key) reads itself; the platform reads a connected one.
        "account": lambda id_, options: (
            v1.accounts.retrieve_current(None, options) if options.get("api_key") else v1.accounts.retrieve(id_)
        ),
        "checkout.session": lambda id_, options: v1.checkout.sessions.retrieve(id_, None, options),
        "payment_intent": lambda id_, options: v1.payment_intents.retrieve(id_, None, options),
        "setup_intent": lambda id_, options: v1.setup_intents.retrieve(id_, None, options),
        "payment_method": lambda id_, options: v1.payment_methods.retrieve(id_, None, options),
        "charge": lambda id_, options: v1.charges.retrieve(id_, None, options),
        "refund": lambda id_, options: v1.refunds.retrieve(id_, None, options),
        "dispute": lambda id_, options: v1.disputes.retrieve(id_, None, options),
        "customer": lambda id_, options: v1.customers.retrieve(id_, None, options),
        "payout": lambda id_, options: v1.payouts.retrieve(id_, None, options),
    }


def object_retrieve(object_type: str, object_id: str, account: str | None) -> dict[str, Any]:
    """The object as Stripe has it now, as a plain dict (on the connected account ``account``)."""
    reader = _readers(client()).get(object_type)
    if reader is None:
        raise ValueError(f"The gateway does not re-read {object_type} objects.")
    return reader(object_id, request_options(account)).to_dict()
