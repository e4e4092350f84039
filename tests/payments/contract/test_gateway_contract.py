"""The gateway's contract with Stripe: what each call sends and what the app reads back, the
same from the fake as from Stripe's test mode (run with STRIPE_TEST_SECRET_KEY set to check the
fake against the real thing; see conftest.py)."""

from __future__ import annotations

import re
import time

import pytest
import stripe

from payments import gateway

from .conftest import ACCOUNT_VARIABLE, KEY_VARIABLE, NOT_A_TEST_KEY, Backend, stripe_test_key

# The gateway asks the database whether an account is a practice's own (its own keys).
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", ["sk_live_51Abc", "rk_test_51Abc", "pk_test_51Abc"])
def test_only_a_test_mode_secret_key_runs_the_suite_against_stripe(monkeypatch, key):
    monkeypatch.setenv(KEY_VARIABLE, key)
    with pytest.raises(pytest.fail.Exception, match=re.escape(NOT_A_TEST_KEY)):
        stripe_test_key()


def test_an_express_account_and_its_onboarding_link(stripe_backend: Backend):
    row = stripe_backend.row()

    account = gateway.account_create(onboarding_id=row, email="owner@example.com", country="US", practice_id=row)
    stripe_backend.made_accounts.append(account.id)
    again = gateway.account_create(onboarding_id=row, email="owner@example.com", country="US", practice_id=row)
    url, expires_at = gateway.account_link_create(
        onboarding_id=row,
        account_id=account.id,
        refresh_url="https://app.example.com/r",
        return_url="https://app.example.com/b",
    )
    read = gateway.account_retrieve(account.id)

    # A retry with the row's key is answered with the same account
    assert account.id.startswith("acct_") and again.id == account.id
    # A new account cannot take charges until its onboarding is done, and says what it needs
    assert (read.id, read.charges_enabled, read.payouts_enabled, read.details_submitted) == (
        account.id,
        False,
        False,
        False,
    )
    assert isinstance(read.requirements["currently_due"], list) and read.requirements["currently_due"]
    assert url.startswith("https://connect.stripe.com/" if stripe_backend.real else stripe_backend.fake.url)
    assert expires_at > time.time()


def test_the_same_key_with_other_parameters_is_stripes_idempotency_error(stripe_backend: Backend):
    row = stripe_backend.row()
    account = gateway.account_create(onboarding_id=row, email="owner@example.com", country="US", practice_id=row)
    stripe_backend.made_accounts.append(account.id)
    link = {"onboarding_id": row, "account_id": account.id, "refresh_url": "https://app.example.com/r"}
    gateway.account_link_create(**link, return_url="https://app.example.com/one")

    with pytest.raises(gateway.StripeError) as caught:
        gateway.account_link_create(**link, return_url="https://app.example.com/two")

    error = caught.value
    assert isinstance(error, stripe.IdempotencyError)
    assert error.http_status == 400 and error.error is not None and error.error.type == "idempotency_error"
    assert f"onboarding:{row}:link" in str(error.user_message)


def _checkout(backend: Backend, attempt_id: int, amount: int = 12345) -> gateway.CheckoutSession:
    assert backend.charge_account is not None
    return gateway.checkout_session_create(
        attempt_id=attempt_id,
        account_id=backend.charge_account,
        amount=amount,
        currency="usd",
        name="Invoice INV-0001",
        metadata={"invoice": "41", "attempt": str(attempt_id)},
        success_url="https://app.example.com/paid?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://app.example.com/invoice",
        application_fee_amount=None,
    )


def test_a_checkout_session_made_and_read_back(stripe_backend: Backend):
    if stripe_backend.charge_account is None:
        pytest.skip(f"{ACCOUNT_VARIABLE} is not set: no connected account that can take charges on real Stripe.")
    row = stripe_backend.row()

    made = _checkout(stripe_backend, row)
    retried = _checkout(stripe_backend, row)
    read = gateway.checkout_session_retrieve(made.id, stripe_backend.charge_account)

    assert made.id.startswith("cs_test_") and retried.id == made.id
    assert made.url and made.url.startswith(
        "https://checkout.stripe.com/" if stripe_backend.real else stripe_backend.fake.url
    )
    assert (read.id, read.status, read.payment_status, read.payment_intent) == (made.id, "open", "unpaid", None)
    assert (read.amount_total, read.currency, read.metadata) == (12345, "USD", {"invoice": "41", "attempt": str(row)})


def test_a_payment_intent_charged_and_read_back_with_stripes_fee(stripe_backend: Backend):
    row = stripe_backend.row()
    charge = {
        "row": ("attempt", row),
        "account_id": stripe_backend.charge_account,
        "amount": 2000,
        "currency": "usd",
        "metadata": {"invoice": "41"},
        "payment_method": "pm_card_visa",
    }

    made = gateway.payment_intent_create(**charge)
    retried = gateway.payment_intent_create(**charge)
    read = gateway.payment_intent_retrieve(made.id, stripe_backend.charge_account)

    assert made.id.startswith("pi_") and retried.id == made.id
    assert (read.id, read.status, read.amount, read.currency, read.livemode) == (
        made.id,
        "succeeded",
        2000,
        "USD",
        False,
    )
    assert read.metadata == {"invoice": "41"}
    assert read.charge is not None and read.charge.id.startswith("ch_") and read.charge.status == "succeeded"
    # The fee is Stripe's own, from the charge's balance transaction
    assert read.charge.balance_transaction and read.charge.balance_transaction.startswith("txn_")
    assert read.charge.fee is not None and 0 < read.charge.fee < 2000
    if read.charge.settlement_currency == "USD":  # (a platform outside the US settles in its own)
        assert read.charge.net == 2000 - read.charge.fee


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [("pm_card_chargeDeclined", "generic_decline"), ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds")],
)
def test_a_declined_card_is_stripes_card_error_with_its_decline_code(stripe_backend: Backend, card, decline_code):
    with pytest.raises(gateway.StripeError) as caught:
        gateway.payment_intent_create(
            row=("attempt", stripe_backend.row()),
            account_id=stripe_backend.charge_account,
            amount=2000,
            currency="usd",
            metadata={"invoice": "41"},
            payment_method=card,
        )

    error = caught.value
    assert isinstance(error, stripe.CardError)
    assert (error.http_status, error.code) == (402, "card_declined")
    assert error.error is not None and error.error.decline_code == decline_code
    assert error.error.payment_intent is not None and error.error.payment_intent.id.startswith("pi_")
    assert error.error.payment_intent.status == "requires_payment_method"


def test_a_payment_intent_of_another_account_is_not_found(stripe_backend: Backend):
    row = stripe_backend.row()
    made = gateway.payment_intent_create(
        row=("attempt", row),
        account_id=stripe_backend.charge_account,
        amount=2000,
        currency="usd",
        metadata={},
        payment_method="pm_card_visa",
    )
    stranger = gateway.account_create(onboarding_id=row, email="other@example.com", country="US", practice_id=row)
    stripe_backend.made_accounts.append(stranger.id)

    with pytest.raises(gateway.StripeError) as caught:
        gateway.payment_intent_retrieve(made.id, stranger.id)

    assert isinstance(caught.value, stripe.InvalidRequestError)
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"
