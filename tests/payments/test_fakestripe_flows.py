"""The fake Stripe server, driven by stripe-python over real HTTP: onboarding, Checkout, cards."""

from __future__ import annotations

import pytest
import requests
import stripe

from payments.fakestripe.formdata import parse

from .conftest import TEST_KEY
from .helpers import (
    CARD_3DS,
    CARD_3DS_ALWAYS,
    CARD_DECLINED,
    CARD_OK,
    connected_account,
    pay_on_page,
    payment_session,
    received_events,
)

EXPRESS = {
    "controller": {
        "stripe_dashboard": {"type": "express"},
        "fees": {"payer": "application"},
        "losses": {"payments": "application"},
        "requirement_collection": "stripe",
    },
    "country": "US",
    "email": "owner@kowhai.test",
}


def test_onboarding_click_through_enables_charges_and_sends_signed_account_updated(fake_stripe):
    client = fake_stripe.client()
    account = client.v1.accounts.create(EXPRESS)
    assert account.id.startswith("acct_")
    assert (account.type, account.charges_enabled, account.details_submitted) == ("express", False, False)
    assert account.requirements.currently_due
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.login_links.create(account.id)

    link = client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "return_url": "http://app.test/return",
            "refresh_url": "http://app.test/refresh",
        }
    )
    page = requests.get(link.url, timeout=10)
    assert page.status_code == 200 and "Set up payments with Stripe" in page.text
    done = requests.post(link.url, data={"outcome": "complete"}, allow_redirects=False, timeout=10)

    assert (done.status_code, done.headers["Location"]) == (303, "http://app.test/return")
    account = client.v1.accounts.retrieve(account.id)
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (True, True, True)
    assert account.requirements.currently_due == []
    [event] = received_events(fake_stripe, "account.updated")
    assert event.account == account.id
    assert event.data.object.charges_enabled is True
    assert event.data.previous_attributes.charges_enabled is False
    with fake_stripe.webhooks.lock:
        body, signature = fake_stripe.webhooks.received[0].body, fake_stripe.webhooks.received[0].signature
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), signature, "whsec_wrong")
    # An account link is single use: opening it again goes to refresh_url.
    again = requests.get(link.url, allow_redirects=False, timeout=10)
    assert (again.status_code, again.headers["Location"]) == (303, "http://app.test/refresh")
    login = client.v1.accounts.login_links.create(account.id)
    assert requests.get(login.url, timeout=10).status_code == 200


def test_onboarding_can_end_pending_verification(fake_stripe):
    client = fake_stripe.client()
    account = client.v1.accounts.create(EXPRESS)
    link = client.v1.account_links.create(
        {"account": account.id, "type": "account_onboarding", "return_url": "http://a/r", "refresh_url": "http://a/f"}
    )
    requests.post(link.url, data={"outcome": "pending"}, allow_redirects=False, timeout=10)

    account = client.v1.accounts.retrieve(account.id)
    assert (account.details_submitted, account.charges_enabled) == (True, False)
    assert account.requirements.pending_verification == ["individual.verification.document"]


def test_checkout_with_4242_completes_the_session_and_emits_events(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    session = payment_session(client, account, payment_intent_data={"application_fee_amount": 250})
    assert session.id.startswith("cs_test_") and session.status == "open" and session.amount_total == 12000
    page = requests.get(session.url, timeout=10)
    assert "120.00 USD" in page.text and 'lang="en"' in page.text

    response = pay_on_page(fake_stripe, session.url, CARD_OK)

    assert response.status_code == 303
    assert response.headers["Location"] == f"http://app.test/paid?session={session.id}"
    session = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["payment_intent.latest_charge.balance_transaction"]}, {"stripe_account": account}
    )
    assert (session.status, session.payment_status) == ("complete", "paid")
    intent = session.payment_intent
    assert (intent.status, intent.amount_received, intent.application_fee_amount) == ("succeeded", 12000, 250)
    charge = intent.latest_charge
    assert charge.payment_method_details.card.last4 == "4242"
    txn = charge.balance_transaction
    assert (txn.type, txn.amount, txn.fee, txn.net) == ("charge", 12000, 378 + 250, 12000 - 628)
    assert session.customer_details.email == "payer@example.test"
    [completed] = received_events(fake_stripe, "checkout.session.completed")
    assert completed.data.object.id == session.id and completed.account == account
    assert [e.data.object.id for e in received_events(fake_stripe, "payment_intent.succeeded")] == [intent.id]
    types = {e.type for e in client.v1.events.list({"limit": 100}, {"stripe_account": account}).data}
    assert {"checkout.session.completed", "payment_intent.succeeded", "charge.succeeded"} <= types
    # Paying a completed session again: refused, no second charge.
    again = pay_on_page(fake_stripe, f"{fake_stripe.url}/c/pay/{session.id}", CARD_OK)
    assert again.status_code == 409 and "already complete" in again.text
    assert len(client.v1.charges.list({}, {"stripe_account": account}).data) == 1


def test_declined_card_shows_the_decline_and_the_session_stays_payable(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    session = payment_session(client, account)

    declined = pay_on_page(fake_stripe, session.url, CARD_DECLINED)

    assert declined.status_code == 402 and "Your card was declined." in declined.text
    session = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["payment_intent"]}, {"stripe_account": account}
    )
    assert session.status == "open"
    assert session.payment_intent.status == "requires_payment_method"
    assert session.payment_intent.last_payment_error.decline_code == "generic_decline"
    assert received_events(fake_stripe, "payment_intent.payment_failed")
    assert pay_on_page(fake_stripe, session.url, CARD_OK).status_code == 303


def test_3ds_card_asks_for_authentication_on_the_hosted_page(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    session = payment_session(client, account)

    challenge = pay_on_page(fake_stripe, session.url, CARD_3DS)
    assert challenge.status_code == 303 and "/c/authenticate/pi_" in challenge.headers["Location"]
    auth_url = fake_stripe.url + challenge.headers["Location"]
    assert "Complete authentication" in requests.get(auth_url, timeout=10).text
    failed = requests.post(auth_url, data={"action": "fail"}, allow_redirects=False, timeout=10)
    assert "/c/pay/" in failed.headers["Location"]

    retry = pay_on_page(fake_stripe, session.url, CARD_3DS)
    done = requests.post(
        fake_stripe.url + retry.headers["Location"], data={"action": "complete"}, allow_redirects=False, timeout=10
    )

    assert done.headers["Location"] == f"http://app.test/paid?session={session.id}"
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account}).payment_intent,
        options={"stripe_account": account},
    )
    assert intent.status == "succeeded"


def test_setup_mode_saves_a_card_that_charges_off_session(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    opts = {"stripe_account": account}
    customer = client.v1.customers.create({"email": "payer@example.test", "name": "A Payer"}, opts)
    session = client.v1.checkout.sessions.create(
        {"mode": "setup", "currency": "usd", "customer": customer.id, "success_url": "http://app.test/saved"}, opts
    )
    assert "Save card" in requests.get(session.url, timeout=10).text

    assert pay_on_page(fake_stripe, session.url, CARD_OK).status_code == 303

    session = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["setup_intent.payment_method"]}, opts)
    assert (session.status, session.payment_status) == ("complete", "no_payment_required")
    pm = session.setup_intent.payment_method
    assert (pm.customer, pm.card.brand, pm.card.last4, pm.card.exp_month, pm.card.exp_year) == (
        customer.id,
        "visa",
        "4242",
        12,
        2039,
    )
    assert [m.id for m in client.v1.customers.payment_methods.list(customer.id, options=opts).data] == [pm.id]
    intent = client.v1.payment_intents.create(
        {
            "amount": 8000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": pm.id,
            "confirm": True,
            "off_session": True,
            "metadata": {"attempt": "7"},
        },
        opts,
    )
    assert intent.status == "succeeded"
    detached = client.v1.payment_methods.detach(pm.id, options=opts)
    assert detached.customer is None
    assert client.v1.customers.payment_methods.list(customer.id, options=opts).data == []


def charge_off_session(client, customer: str, payment_method: str, opts) -> None:
    """$50.00 charged to a saved card with the client absent, as AutoPay and Pay now do."""
    client.v1.payment_intents.create(
        {
            "amount": 5000,
            "currency": "usd",
            "customer": customer,
            "payment_method": payment_method,
            "confirm": True,
            "off_session": True,
        },
        opts,
    )


def test_off_session_decline_raises_card_error_with_the_payment_intent(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    opts = {"stripe_account": account}
    customer = client.v1.customers.create({"email": "p@example.test"}, opts)
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": customer.id}, opts)

    with pytest.raises(stripe.CardError) as caught:
        charge_off_session(client, customer.id, pm.id, opts)

    error = caught.value
    assert (error.http_status, error.code, error.error.decline_code) == (402, "card_declined", "generic_decline")
    assert error.error.payment_intent.status == "requires_payment_method"
    assert client.v1.charges.retrieve(error.error.charge, options=opts).status == "failed"
    with pytest.raises(stripe.CardError) as attach_error:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", {"customer": customer.id}, opts)
    assert attach_error.value.error.decline_code == "generic_decline"


def test_off_session_charge_that_needs_authentication(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    opts = {"stripe_account": account}
    customer = client.v1.customers.create({"email": "p@example.test"}, opts)
    # 3155 attached without being set up for off-session use.
    pm = client.v1.payment_methods.attach("pm_card_authenticationRequiredOnSetup", {"customer": customer.id}, opts)

    with pytest.raises(stripe.CardError) as caught:
        charge_off_session(client, customer.id, pm.id, opts)

    assert caught.value.code == "authentication_required"
    assert caught.value.error.decline_code == "authentication_required"
    assert caught.value.error.payment_intent.status == "requires_payment_method"

    # 3184 asks every time, even when saved through Checkout with authentication.
    session = client.v1.checkout.sessions.create(
        {"mode": "setup", "currency": "usd", "customer": customer.id, "success_url": "http://a/s"}, opts
    )
    challenge = pay_on_page(fake_stripe, session.url, CARD_3DS_ALWAYS)
    requests.post(
        fake_stripe.url + challenge.headers["Location"], data={"action": "complete"}, timeout=10, allow_redirects=False
    )
    saved = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["setup_intent"]}, opts).setup_intent
    assert saved.status == "succeeded"
    with pytest.raises(stripe.CardError) as again:
        client.v1.payment_intents.create(
            {
                "amount": 5000,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": saved.payment_method,
                "confirm": True,
                "off_session": True,
            },
            opts,
        )
    assert again.value.code == "authentication_required"


def test_stripe_account_scopes_every_object(fake_stripe):
    client = fake_stripe.client()
    account_a = connected_account(fake_stripe)
    account_b = connected_account(fake_stripe)
    customer = client.v1.customers.create({"email": "a@example.test"}, {"stripe_account": account_a})
    session = payment_session(client, account_a)

    for opts in ({"stripe_account": account_b}, {}):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.customers.retrieve(customer.id, options=opts)
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.checkout.sessions.retrieve(session.id, options=opts)
    assert client.v1.customers.list(options={"stripe_account": account_b}).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.retrieve(account_a, options={"stripe_account": account_b})


def test_expired_session_cannot_be_paid(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    session = payment_session(client, account)
    other = payment_session(client, account)

    fake_stripe.control.advance_clock(24 * 3600 + 1)

    response = pay_on_page(fake_stripe, session.url, CARD_OK)
    assert response.status_code == 409 and "expired" in response.text
    assert client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account}).status == "expired"
    assert client.v1.payment_intents.list(options={"stripe_account": account}).data == []
    assert {e.data.object.id for e in received_events(fake_stripe, "checkout.session.expired")} == {
        session.id,
        other.id,
    }
    fresh = payment_session(client, account)
    expired = client.v1.checkout.sessions.expire(fresh.id, options={"stripe_account": account})
    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(fresh.id, options={"stripe_account": account})


def test_requests_are_checked_like_stripe_checks_them(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.customers.create({"emial": "x@example.test"}, {"stripe_account": account})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.param == "emial"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.create({"mode": "payment", "success_url": "http://a"}, {"stripe_account": account})
    assert missing.value.param == "line_items"
    with pytest.raises(stripe.InvalidRequestError) as fee:
        client.v1.payment_intents.create(
            {"amount": 5000, "currency": "usd", "application_fee_amount": 10}
        )  # platform: no direct charge
    assert fee.value.param == "application_fee_amount"
    no_key = requests.get(fake_stripe.url + "/v1/customers", timeout=10)
    assert no_key.status_code == 401
    live = requests.get(fake_stripe.url + "/v1/customers", headers={"Authorization": "Bearer sk_live_x"}, timeout=10)
    assert live.status_code == 401
    ok = requests.get(fake_stripe.url + "/v1/customers", headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=10)
    assert ok.json()["object"] == "list"


def test_bracket_notation_parses_into_nested_params():
    params = parse(
        "line_items[0][price_data][unit_amount]=100&line_items[0][quantity]=1&line_items[1][quantity]=2"
        "&metadata[2024]=x&metadata[invoice]=7&expand[]=a&expand[]=b.c&confirm=true"
    )
    assert params == {
        "line_items": [{"price_data": {"unit_amount": "100"}, "quantity": "1"}, {"quantity": "2"}],
        "metadata": {"2024": "x", "invoice": "7"},
        "expand": ["a", "b.c"],
        "confirm": "true",
    }
