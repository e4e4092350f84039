"""The gateway against the fake Stripe over real HTTP: keys on every POST, one account per retry."""

from __future__ import annotations

import pytest
import stripe

from payments import gateway
from payments.services import application_fee_amount

# The gateway asks the database whether an account is a practice's own (its own keys).
pytestmark = pytest.mark.django_db


def _posts(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST"]


def test_every_connect_post_carries_the_key_of_its_local_row(app_on_fake):
    account = gateway.account_create(onboarding_id=7, email="owner@example.test", country="NZ", practice_id=3)
    url, expires_at = gateway.account_link_create(
        onboarding_id=8, account_id=account.id, refresh_url="http://app.test/r", return_url="http://app.test/b"
    )
    app_on_fake.control.onboard(account.id, "complete")
    dashboard = gateway.login_link_create(account_id=account.id, click_id=9)
    fresh = gateway.account_retrieve(account.id)

    assert url.startswith(app_on_fake.url + "/setup/") and expires_at > 0
    assert dashboard.startswith(app_on_fake.url + "/express/")
    assert (fresh.charges_enabled, fresh.payouts_enabled, fresh.details_submitted) == (True, True, True)
    assert fresh.requirements["currently_due"] == []
    keys = [(r["path"], r["idempotency_key"]) for r in _posts(app_on_fake)]
    assert keys == [
        ("/v1/accounts", "onboarding:7:account"),
        ("/v1/account_links", "onboarding:8:link"),
        (f"/v1/accounts/{account.id}/login_links", "login:9:link"),
    ]
    created = _posts(app_on_fake)[0]["params"]
    assert created["controller"]["stripe_dashboard"]["type"] == "express"
    assert created["metadata"] == {"practice": "3"}


@pytest.mark.parametrize("performed", [True, False])
def test_a_create_retried_after_a_timeout_makes_one_account(app_on_fake, settings, performed):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    app_on_fake.control.fail_next("timeout", delay=1.0, perform=performed, path="/v1/accounts", method="POST")

    account = gateway.account_create(onboarding_id=41, email="o@example.test", country="US", practice_id=1)
    again = gateway.account_create(onboarding_id=41, email="o@example.test", country="US", practice_id=1)

    assert again.id == account.id
    assert len(gateway.client().v1.accounts.list().data) == 1
    log = [r for r in _posts(app_on_fake) if r["path"] == "/v1/accounts"]
    assert {r["idempotency_key"] for r in log} == {"onboarding:41:account"}
    assert len(log) == 3  # the timed-out try, stripe-python's retry, our repeat


def test_a_stripe_error_is_the_gateways_error(app_on_fake):
    with pytest.raises(gateway.StripeError) as caught:
        gateway.account_retrieve("acct_doesnotexist00")
    assert isinstance(caught.value, stripe.InvalidRequestError)


def test_without_a_key_or_a_base_the_gateway_refuses(settings):
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_SECRET_KEY = ""
    assert not gateway.fake_in_use()
    with pytest.raises(gateway.StripeError, match="Stripe is not configured"):
        gateway.account_retrieve("acct_1Fakeplatformcall")
    with pytest.raises(gateway.StripeError, match="Stripe is not configured"):
        gateway.request_options(None)


@pytest.mark.parametrize(
    ("percent", "fixed", "amount", "currency", "fee"),
    [
        ("0", "0", "120.00", "USD", None),
        ("2.5", "0", "120.00", "USD", 300),
        ("2.5", "0.30", "120.00", "USD", 330),
        ("1", "0", "0.50", "USD", 1),  # half up
        ("0", "50", "5000", "JPY", 50),
        ("0", "10", "5.00", "USD", 500),  # never more than the charge
    ],
)
def test_application_fee_amount(settings, percent, fixed, amount, currency, fee):
    from decimal import Decimal

    settings.STRIPE_PLATFORM_FEE_PERCENT = percent
    settings.STRIPE_PLATFORM_FEE_FIXED = fixed
    assert application_fee_amount(Decimal(amount), currency) == fee
