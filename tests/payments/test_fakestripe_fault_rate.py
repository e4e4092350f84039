"""The fake Stripe's fault rate (payments/fakestripe): a share of requests fails at random,
drawn from a seed, so a test of faults is repeatable; clear_faults stops it."""

from __future__ import annotations

import pytest
import requests
import stripe

from .conftest import TEST_KEY


def read_balance(fake) -> str:
    """One GET, over real HTTP: "ok", or the fault met."""
    try:
        fake.client(timeout=0.3).v1.balance.retrieve()
    except stripe.APIConnectionError:
        return "timeout"
    except stripe.APIError:
        return "500"
    return "ok"


def test_a_seeded_rate_fails_the_same_requests_each_time(fake_stripe):
    outcomes = []
    for _ in range(2):
        fake_stripe.control.reset()
        fake_stripe.control.fail_rate(["500", "timeout"], 0.25, seed=42, delay=0.5)
        outcomes.append([read_balance(fake_stripe) for _ in range(24)])

    assert outcomes[0] == outcomes[1]
    failed = [o for o in outcomes[0] if o != "ok"]
    assert failed and len(failed) < 24 and {"500", "timeout"} >= set(failed)
    logged = [r["fault"] for r in fake_stripe.control.requests() if r["fault"]]
    assert len(logged) == len(failed)

    fake_stripe.control.clear_faults()
    assert {read_balance(fake_stripe) for _ in range(5)} == {"ok"}


def test_a_bad_rate_or_kind_is_refused(fake_stripe):
    for body in ({"kinds": ["teapot"], "rate": 0.5}, {"kinds": ["500"], "rate": 2}):
        answer = requests.post(f"{fake_stripe.url}/_control/faults/rate", json=body, timeout=5)
        assert answer.status_code == 400
    assert requests.get(f"{fake_stripe.url}/v1/balance", headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=5).ok


@pytest.mark.parametrize("kind", ["timeout_performed"])
def test_a_timeout_after_the_work_still_does_it(fake_stripe, kind):
    fake_stripe.control.fail_rate([kind], 1.0, delay=0.5, method="POST", path="/v1/customers")
    client = fake_stripe.client(timeout=0.3)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create({"name": "A Payer"}, {"idempotency_key": "test:rate:customer"})
    fake_stripe.control.clear_faults()
    again = client.v1.customers.create({"name": "A Payer"}, {"idempotency_key": "test:rate:customer"})
    state = fake_stripe.control.call("GET", "state")
    assert [o["id"] for o in state.values() if o["object"] == "customer"] == [again.id]
