"""Issue 16's faults for AutoPay: Stripe failing a fifth of requests with 500s and timeouts
(some of them after doing the work), and the night run by two workers at once. Whatever
happens, each client is charged once or marked failed, never twice; a rerun once the
faults stop finishes the night (the fake counts the PaymentIntents)."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from billing.models import Payment
from payments import gateway
from payments.autopay_night import autopay_night_run
from payments.models import AutoPayCharge, CardChargeAttempt, StripeCustomer
from tests.factories import issued_invoice

from .autopay_helpers import enrolled_client, fake_intents, intent_posts, succeeded_by_customer, takes_charges

NEW_YORK = ZoneInfo("America/New_York")
NIGHT = date(2026, 3, 5)
CLIENTS = 20
OFF_SESSION = gateway.payment_intent_off_session


def enrol_many(fake, tenant, count: int) -> list:
    takes_charges(fake, tenant.practice)
    found = []
    for n in range(count):
        client, _ = enrolled_client(fake, tenant.practice, first=f"Client{n:02d}", last="Night")
        issued_invoice(tenant.practice, client, tenant.biller, f"{20 + n}.00")
        found.append(client)
    return found


def charged_once_each(fake, clients) -> None:
    """Each client: one succeeded PaymentIntent at the fake, one payment, one attempt."""
    customers = dict(StripeCustomer.objects.filter(client__in=clients).values_list("stripe_customer_id", "client_id"))
    per_customer = succeeded_by_customer(fake)
    assert sorted(per_customer) == sorted(customers)
    assert set(per_customer.values()) == {1}
    for client in clients:
        assert Payment.objects.filter(client=client).count() == 1
        assert CardChargeAttempt.objects.filter(client=client).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tries",
    [
        # As configured: each charge is sent up to CHARGE_TRIES times with its key.
        gateway.cards.CHARGE_TRIES,
        # Sent once: every fault leaves its charge's outcome unknown until the rerun.
        1,
    ],
)
def test_stripe_failing_a_fifth_of_requests_charges_each_client_once(
    app_on_fake, tenant, time_machine, settings, monkeypatch, tries
):
    settings.AUTOPAY_CHARGES_PER_SECOND = 1000
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    monkeypatch.setattr(gateway, "payment_intent_off_session", partial(OFF_SESSION, tries=tries))
    time_machine.move_to(datetime(2026, 3, 4, 19, 0, tzinfo=NEW_YORK), tick=True)
    clients = enrol_many(app_on_fake, tenant, CLIENTS)
    time_machine.move_to(datetime(2026, 3, 5, 0, 30, tzinfo=NEW_YORK), tick=True)
    app_on_fake.control.fail_rate(["500", "timeout", "timeout_performed"], 0.2, seed=7, delay=0.7)

    first = autopay_night_run(practice=tenant.practice, night=NIGHT)

    faults = [r["fault"] for r in app_on_fake.control.requests() if r["fault"]]
    assert first["to_charge"] == CLIENTS and len(faults) >= 3
    statuses = list(AutoPayCharge.objects.values_list("status", flat=True))
    assert set(statuses) <= {"succeeded", "charging"}
    if tries == 1:
        assert statuses.count("charging") == len(faults)
    # Never twice, even while some outcomes are unknown.
    assert all(count == 1 for count in succeeded_by_customer(app_on_fake).values())

    # The faults stop; the rerun (the sweeper or a rerun of the night) finishes the rest.
    app_on_fake.control.clear_faults()
    autopay_night_run(practice=tenant.practice, night=NIGHT)

    assert set(AutoPayCharge.objects.values_list("status", flat=True)) == {"succeeded"}
    charged_once_each(app_on_fake, clients)
    # Every request for a charge carried its attempt's key, however often it was sent.
    keys = {p["idempotency_key"] for p in intent_posts(app_on_fake)}
    assert keys == {f"cardcharge:{pk}:intent" for pk in CardChargeAttempt.objects.values_list("pk", flat=True)}
    assert len(fake_intents(app_on_fake)) == CLIENTS


@pytest.mark.django_db(transaction=True)
def test_the_night_run_by_two_workers_at_once_charges_each_client_once(app_on_fake, tenant, time_machine, settings):
    settings.AUTOPAY_CHARGES_PER_SECOND = 1000
    time_machine.move_to(datetime(2026, 3, 4, 19, 0, tzinfo=NEW_YORK), tick=True)
    clients = enrol_many(app_on_fake, tenant, 6)
    time_machine.move_to(datetime(2026, 3, 5, 0, 30, tzinfo=NEW_YORK), tick=True)
    # Slow answers keep one worker's charges in flight while the other reaches them.
    app_on_fake.control.fail_rate(["slow"], 0.5, seed=3, delay=0.3, path="/v1/payment_intents")
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(autopay_night_run(practice=tenant.practice, night=NIGHT))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert not errors and len(results) == 2
    assert AutoPayCharge.objects.count() == 6
    assert set(AutoPayCharge.objects.values_list("status", flat=True)) == {"succeeded"}
    charged_once_each(app_on_fake, clients)
    assert sum(Payment.objects.values_list("amount", flat=True), Decimal(0)) == sum(Decimal(20 + n) for n in range(6))
