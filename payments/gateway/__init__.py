"""The only code that talks to Stripe (``lint-imports`` forbids ``import stripe`` elsewhere).

Every POST carries an idempotency key derived from a local row (``idempotency_key``), so a
retry after a timeout returns the object the first attempt made instead of a second one.
Parameters are stripe-python's typed request params, and mypy checks this package strictly.
"""

from .cards import (
    Card,
    CardIntent,
    OffSessionCharge,
    SetupIntent,
    card_intent_retrieve,
    customer_create,
    payment_intent_cancel,
    payment_intent_off_session,
    payment_intent_on_session,
    payment_intent_read,
    payment_method_detach,
    payment_method_retrieve,
    setup_intent_retrieve,
    setup_session_create,
)
from .checkout import CheckoutSession, checkout_session_create, checkout_session_read, checkout_session_retrieve
from .client import (
    OwnKeyUnreadable,
    StripeError,
    StripeUnanswered,
    client,
    fake_in_use,
    idempotency_key,
    register_own_key_lookup,
    request_options,
)
from .connect import (
    Account,
    KeyRefused,
    account_create,
    account_for_key,
    account_link_create,
    account_retrieve,
    login_link_create,
)
from .objects import object_retrieve
from .payment_intents import (
    Charge,
    PaymentIntent,
    dashboard_payment_url,
    payment_intent_create,
    payment_intent_retrieve,
)
from .payouts import BalanceTransaction, Payout, payout_read, payout_retrieve, payout_transactions, payouts_list
from .refunds import TRANSIENT, Dispute, Refund, dispute_read, payment_refunds, refund_create, refund_read
from .signature import webhook_secret_matching

__all__ = [
    "TRANSIENT",
    "Account",
    "BalanceTransaction",
    "Card",
    "CardIntent",
    "Charge",
    "CheckoutSession",
    "Dispute",
    "KeyRefused",
    "OffSessionCharge",
    "OwnKeyUnreadable",
    "PaymentIntent",
    "Payout",
    "Refund",
    "SetupIntent",
    "StripeError",
    "StripeUnanswered",
    "account_create",
    "account_for_key",
    "account_link_create",
    "account_retrieve",
    "card_intent_retrieve",
    "checkout_session_create",
    "checkout_session_read",
    "checkout_session_retrieve",
    "client",
    "customer_create",
    "dashboard_payment_url",
    "dispute_read",
    "fake_in_use",
    "idempotency_key",
    "login_link_create",
    "object_retrieve",
    "payment_intent_cancel",
    "payment_intent_create",
    "payment_intent_off_session",
    "payment_intent_on_session",
    "payment_intent_read",
    "payment_intent_retrieve",
    "payment_method_detach",
    "payment_method_retrieve",
    "payment_refunds",
    "payout_read",
    "payout_retrieve",
    "payout_transactions",
    "payouts_list",
    "refund_create",
    "refund_read",
    "register_own_key_lookup",
    "request_options",
    "setup_intent_retrieve",
    "setup_session_create",
    "webhook_secret_matching",
]
