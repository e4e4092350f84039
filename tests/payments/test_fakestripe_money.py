"""The fake Stripe server: idempotency, injected faults, refunds, disputes, payouts, webhook delivery."""

from __future__ import annotations

import json

import pytest
import stripe

from .helpers import CARD_OK, connected_account, pay_on_page, payment_session, received_events


def _charge(client, account, amount=10000, key=None, fee=None):
    customer = client.v1.customers.create({"email": "p@example.test"}, {"stripe_account": account})
    params = {
        "amount": amount,
        "currency": "usd",
        "customer": customer.id,
        "payment_method": "pm_card_visa",
        "confirm": True,
        "off_session": True,
        "metadata": {"attempt": "1"},
    }
    if fee is not None:
        params["application_fee_amount"] = fee
    opts = {"stripe_account": account}
    if key:
        opts["idempotency_key"] = key
    return client.v1.payment_intents.create(params, opts)


def test_idempotency_key_replays_the_first_response(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    opts = {"stripe_account": account, "idempotency_key": "attempt:1"}
    params = {"amount": 5000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}

    first = client.v1.payment_intents.create(params, opts)
    second = client.v1.payment_intents.create(params, opts)

    assert first.id == second.id and second.status == "succeeded"
    assert len(client.v1.charges.list(options={"stripe_account": account}).data) == 1
    log = [r for r in fake_stripe.control.requests() if r["idempotency_key"] == "attempt:1"]
    assert [r["replayed"] for r in log] == [False, True]
    assert log[0]["stripe_account"] == account and log[0]["params"]["amount"] == "5000"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create({**params, "amount": 6000}, opts)
    # The same key on another account is another key.
    other = connected_account(fake_stripe)
    assert client.v1.payment_intents.create(params, {**opts, "stripe_account": other}).id != first.id


def test_a_decline_is_replayed_too(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    opts = {"stripe_account": account, "idempotency_key": "attempt:2"}
    params = {"amount": 5000, "currency": "usd", "payment_method": "pm_card_chargeDeclined", "confirm": True}
    with pytest.raises(stripe.CardError) as first:
        client.v1.payment_intents.create(params, opts)
    with pytest.raises(stripe.CardError) as second:
        client.v1.payment_intents.create(params, opts)
    assert first.value.error.payment_intent.id == second.value.error.payment_intent.id
    assert second.value.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("perform", [True, False], ids=["timed-out-but-charged", "timed-out-not-charged"])
def test_timeout_then_retry_with_the_same_key_charges_once(fake_stripe, perform):
    client = fake_stripe.client(timeout=0.5, retries=2)
    account = connected_account(fake_stripe)
    fake_stripe.control.fail_next("timeout", delay=1.0, perform=perform, path="/v1/payment_intents")

    intent = _charge(client, account, key="attempt:9")

    assert intent.status == "succeeded"
    assert len(client.v1.payment_intents.list(options={"stripe_account": account}).data) == 1
    assert len(client.v1.charges.list(options={"stripe_account": account}).data) == 1
    log = [r for r in fake_stripe.control.requests() if r["path"] == "/v1/payment_intents" and r["method"] == "POST"]
    assert [r["idempotency_key"] for r in log] == ["attempt:9", "attempt:9"]
    assert [r["replayed"] for r in log] == [False, perform]


def test_500_is_retried_by_stripe_python_and_429_raises_rate_limit(fake_stripe):
    client = fake_stripe.client(retries=2)
    account = connected_account(fake_stripe)
    fake_stripe.control.fail_next("500", path="/v1/payment_intents")

    intent = _charge(client, account)  # stripe-python adds its own idempotency key when it may retry

    assert intent.status == "succeeded"
    log = [r for r in fake_stripe.control.requests() if r["path"] == "/v1/payment_intents"]
    assert [r["status"] for r in log] == [500, 200]
    assert log[0]["idempotency_key"] == log[1]["idempotency_key"] is not None
    fake_stripe.control.fail_next("429", count=3)
    with pytest.raises(stripe.RateLimitError):
        client.v1.customers.list(options={"stripe_account": account})
    fake_stripe.control.clear_faults()


def test_slow_answers_are_slow(fake_stripe):
    client = fake_stripe.client(timeout=0.3)
    account = connected_account(fake_stripe)
    fake_stripe.control.fail_next("slow", delay=0.6)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.list(options={"stripe_account": account})
    assert client.v1.customers.list(options={"stripe_account": account}).data == []


def test_refunds_update_the_charge_and_make_balance_transactions(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    opts = {"stripe_account": account}
    intent = _charge(client, account, amount=10000)

    partial = client.v1.refunds.create(
        {"payment_intent": intent.id, "amount": 2500, "reason": "requested_by_customer"}, opts
    )
    rest = client.v1.refunds.create({"charge": intent.latest_charge}, opts)

    assert (partial.amount, rest.amount, rest.status) == (2500, 7500, "succeeded")
    charge = client.v1.charges.retrieve(intent.latest_charge, options=opts)
    assert (charge.amount_refunded, charge.refunded) == (10000, True)
    refunds = client.v1.balance_transactions.list({"type": "refund"}, opts).data
    assert sorted(t.amount for t in refunds) == [-7500, -2500]
    assert [e.data.object.amount_refunded for e in received_events(fake_stripe, "charge.refunded")] == [2500, 10000]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create({"charge": charge.id, "amount": 1}, opts)
    assert caught.value.code == "charge_already_refunded"


def test_dispute_opened_and_won_moves_money_both_ways(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    opts = {"stripe_account": account}
    intent = _charge(client, account, amount=10000)

    dispute = fake_stripe.control.open_dispute(intent.latest_charge)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"charge": intent.latest_charge}, opts)
    assert refused.value.code == "charge_disputed"
    fake_stripe.control.close_dispute(dispute["id"], "won")

    dispute = client.v1.disputes.retrieve(dispute["id"], options=opts)
    assert dispute.status == "won"
    assert [(t.amount, t.fee) for t in dispute.balance_transactions] == [(-10000, 1500), (10000, 0)]
    [created] = received_events(fake_stripe, "charge.dispute.created")
    [closed] = received_events(fake_stripe, "charge.dispute.closed")
    assert (created.data.object.status, closed.data.object.status) == ("needs_response", "won")
    assert client.v1.charges.retrieve(intent.latest_charge, options=opts).disputed is True


def test_payout_sweeps_the_balance_and_lists_its_transactions(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    opts = {"stripe_account": account}
    first = _charge(client, account, amount=10000, fee=300)
    _charge(client, account, amount=5000)
    client.v1.refunds.create({"payment_intent": first.id, "amount": 1000}, opts)
    nets = [t.net for t in client.v1.balance_transactions.list({}, opts).data]

    payout = fake_stripe.control.payout(account)

    assert payout["amount"] == sum(nets) == (10000 - 320 - 300) + (5000 - 175) - 1000
    listed = client.v1.balance_transactions.list({"payout": payout["id"], "limit": 100}, opts).data
    assert sorted(t.type for t in listed) == ["charge", "charge", "payout", "refund"]
    assert sum(t.net for t in listed) == 0
    assert client.v1.payouts.retrieve(payout["id"], options=opts).status == "paid"
    assert client.v1.balance.retrieve(options=opts).available[0].amount == 0
    assert received_events(fake_stripe, "payout.paid")


def test_webhooks_are_retried_until_the_receiver_answers_2xx(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    fake_stripe.control.wait_for_webhooks()
    with fake_stripe.webhooks.lock:
        fake_stripe.webhooks.received.clear()
        fake_stripe.webhooks.answers.extend([500, 503])
    client.v1.customers.create({"email": "p@example.test"}, {"stripe_account": account})

    [event] = received_events(fake_stripe, "customer.created")

    tries = [d for d in fake_stripe.control.deliveries() if d["event"] == event.id]
    assert [(d["attempt"], d["status"]) for d in tries] == [(1, 500), (2, 503), (3, 200)]


def test_webhooks_can_arrive_three_times_out_of_order(fake_stripe):
    client = fake_stripe.client()
    account = connected_account(fake_stripe)
    fake_stripe.control.wait_for_webhooks()
    fake_stripe.webhooks.clear()
    fake_stripe.control.webhooks(hold=True)
    session = payment_session(client, account)
    pay_on_page(fake_stripe, session.url, CARD_OK)

    released = fake_stripe.control.flush_webhooks(order="reverse", duplicate=3)

    assert fake_stripe.control.wait_for_webhooks()
    with fake_stripe.webhooks.lock:
        delivered = [json.loads(r.body) for r in fake_stripe.webhooks.received if r.path == "/connect"]
    ids = [e["id"] for e in delivered]
    assert len(ids) == released and len(set(ids)) * 3 == released
    types = [e["type"] for e in delivered]
    assert types.index("checkout.session.completed") < types.index("payment_intent.created")


def test_platform_events_go_to_the_platform_endpoint(fake_stripe):
    client = fake_stripe.client()
    customer = client.v1.customers.create({"email": "platform@example.test"})
    [event] = received_events(fake_stripe, "customer.created", secret="whsec_test_platform", path="/platform")
    assert event.data.object.id == customer.id and "account" not in event
