"""Nightly AutoPay survives a killed worker, two workers and a failing Stripe (issue 16,
"Faults that must be survived"), with real Celery worker processes on the real Redis and
PostgreSQL (tests/worker_processes.py) charging at the fake Stripe over real HTTP.

The night is run the way beat runs it: ``practice.tasks.job_run`` for the practice's
night, which commits the night's AutoPay rows and queues one charge task per client; a
worker runs those in turn. A worker killed anywhere in that is followed by a fresh one,
and by what production has for it, in production's order with shortened windows: beat's
tick (the night's run, once its JobRun is stale), beat's AutoPay sweeper (rows left
pending or charging), then the broker giving the killed worker's message back.

The workers' clocks are the machine's, so the practice is put in a time zone where it is
now the middle of the night (an ``Etc/GMT`` zone, 2 AM to 3 AM local time), and the
enrolments and invoices are made the evening before, with the test process's clock moved
there. What is compared is what the clients and the practice would see: at the fake
Stripe, one successful PaymentIntent per charged client for their balance; in the app, one
payment, the invoices paid, one AutoPay row per client settled, one receipt or decline
email each: exactly what one uninterrupted night makes of the same clients.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from billing.models import Invoice, Payment
from payments.autopay_night import NIGHT_JOB
from payments.models import AutoPayCharge, CardChargeAttempt, StripeCustomer
from practice.models import JobRun, OutgoingEmail
from tests.factories import issued_invoice
from tests.worker_processes import (
    STALE_AFTER_SECONDS,
    queue_for_test,
    run_with_kill,
    runs_left_running_are_stale,
    send,
    wait_for,
    workers,
)

from .autopay_helpers import CARD_CHARGE_FAILS, enrolled_client, fake_intents, intent_posts, takes_charges

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
# Each client, what they owe (one invoice per amount) and whether their card is declined.
CLIENTS = [
    ("Ana", ("150.00", "80.00"), False),
    ("Ben", ("100.00",), False),
    ("Cleo", ("60.00",), True),
    ("Dan", ("45.00",), False),
    ("Eve", ("90.00",), False),
]
CHARGED = {first: sum(map(D, amounts)) for first, amounts, declined in CLIENTS if not declined}
DECLINED = {first for first, _amounts, declined in CLIENTS if declined}


def night_zone(now: datetime) -> str:
    """A fixed-offset zone in which ``now`` is between 2 AM and 3 AM: inside AutoPay's
    12 AM to 6 AM window for as long as a test runs."""
    offset = (2 - now.astimezone(ZoneInfo("UTC")).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def a_night_of_autopay(fake, tenant) -> tuple[date, dict[str, Any]]:
    """Five clients who turned AutoPay on yesterday evening, each with invoices issued
    then; one card is declined. The practice's night is today, local time."""
    practice = tenant.practice
    practice.timezone = night_zone(timezone.now())
    practice.save(update_fields=["timezone"])
    night = practice.local_today()
    assert time(2) <= practice.local_now().time() < time(4), practice.local_now()
    yesterday_evening = datetime.combine(night - timedelta(days=1), time(19), tzinfo=practice.tzinfo)
    clients = {}
    with time_machine.travel(yesterday_evening, tick=True):
        takes_charges(fake, practice)
        for first, amounts, declined in CLIENTS:
            kwargs = {"card": CARD_CHARGE_FAILS} if declined else {}
            client, _ = enrolled_client(fake, practice, first=first, last="Night", **kwargs)
            for amount in amounts:
                issued_invoice(practice, client, tenant.biller, amount)
            clients[first] = client
    return night, clients


def worker_env(fake) -> dict[str, str]:
    """The app pointed at the fake Stripe, as the test process is (app_on_fake)."""
    return {
        "STRIPE_API_BASE": fake.url,
        "STRIPE_SECRET_KEY": "",
        "STRIPE_TIMEOUT_SECONDS": "5",
        "AUTOPAY_CHARGES_PER_SECOND": "1000",
    }


def night_done(count: int = len(CLIENTS)) -> bool:
    """Every JobRun succeeded and every client's row for the night is settled."""
    statuses = list(AutoPayCharge.objects.values_list("status", flat=True))
    runs = set(JobRun.objects.values_list("status", flat=True))
    return (
        runs == {JobRun.Status.SUCCEEDED}
        and len(statuses) == count
        and not any(s in AutoPayCharge.UNFINISHED for s in statuses)
    )


def nothing_fresh_left() -> bool:
    """What a kill left (a running JobRun, a row pending or charging) is older than the
    fresh worker's windows, so its tick and sweeper take it up."""
    cutoff = timezone.now() - timedelta(seconds=STALE_AFTER_SECONDS)
    fresh_rows = AutoPayCharge.objects.filter(status__in=AutoPayCharge.UNFINISHED, updated_at__gte=cutoff)
    return runs_left_running_are_stale() and not fresh_rows.exists()


def assert_charged_once_each(fake, night: date, clients: dict[str, Any]) -> None:
    """What one uninterrupted night makes of the five clients."""
    by_customer = dict(StripeCustomer.objects.values_list("stripe_customer_id", "client__first_name"))
    intents = fake_intents(fake)
    succeeded = Counter(by_customer[str(i["customer"])] for i in intents if i["status"] == "succeeded")
    taken = {by_customer[str(i["customer"])]: D(i["amount"]) / 100 for i in intents if i["status"] == "succeeded"}
    # At Stripe: one PaymentIntent per client (the declined one too), money taken once.
    assert len(intents) == len(CLIENTS)
    assert succeeded == Counter(list(CHARGED))
    assert taken == CHARGED
    # Every request carried its attempt's key, however often it was sent.
    keys = {post["idempotency_key"] for post in intent_posts(fake)}
    assert keys == {f"cardcharge:{pk}:intent" for pk in CardChargeAttempt.objects.values_list("pk", flat=True)}
    # In the app: one row and one attempt per client, settled; one payment per charge.
    rows = {c.client.first_name: (c.night, c.status, c.amount) for c in AutoPayCharge.objects.select_related("client")}
    assert rows == {
        first: (night, "failed" if first in DECLINED else "succeeded", sum(map(D, amounts)))
        for first, amounts, _declined in CLIENTS
    }
    assert CardChargeAttempt.objects.count() == len(CLIENTS)
    paid = dict(Payment.objects.values_list("client__first_name", "amount"))
    assert paid == CHARGED and Payment.objects.count() == len(CHARGED)
    for first, client in clients.items():
        statuses = set(Invoice.objects.filter(client=client).values_list("status", flat=True))
        assert statuses == ({Invoice.Status.OPEN} if first in DECLINED else {Invoice.Status.PAID}), first
    # One email per client's outcome: a receipt, or the decline with its link.
    outcome_emails = OutgoingEmail.objects.filter(topic__in=["payment_receipt", "autopay_failed"])
    emails = Counter((e.topic, e.to) for e in outcome_emails)
    assert emails == Counter(
        {
            ("autopay_failed" if first in DECLINED else "payment_receipt", client.email): 1
            for first, client in clients.items()
        }
    )


# Ten points of the night at which the worker dies: once the night is claimed, amid and
# after making the rows, and in the first, the declined, a middle and the last client's
# charge: with the attempt made and Stripe not yet called, with Stripe's answer not yet
# recorded, and once recorded; and just before the night is marked succeeded.
KILL_POINTS = [
    "job.claimed",
    "autopay.row_prepared:3",
    "autopay.after_prepare",
    "job.before_succeeded",
    "autopay.after_attempt",
    "autopay.after_attempt:3",
    "card_charge.after_stripe",
    "card_charge.after_stripe:3",
    "autopay.after_charge:2",
    "autopay.after_charge:5",
]


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_night_killed_at_any_point_charges_each_client_once(app_on_fake, tenant, kill_at):
    # Given five clients to charge tonight
    night, clients = a_night_of_autopay(app_on_fake, tenant)

    # When the night's worker is killed at that point, and a fresh worker takes over
    run_with_kill(
        "practice.tasks.job_run",
        [tenant.practice.pk, NIGHT_JOB, night.isoformat()],
        kill_at,
        done=night_done,
        env=worker_env(app_on_fake),
        beat=("practice.tasks.jobs_tick", "payments.tasks.autopay_sweep"),
        stale=nothing_fresh_left,
        killed_in_first_task=kill_at.startswith(("job.", "autopay.row_prepared", "autopay.after_prepare")),
        timeout=60,
    )

    # Then each client is charged once, as one uninterrupted night charges them
    assert_charged_once_each(app_on_fake, night, clients)
    run = JobRun.objects.get(practice=tenant.practice, job=NIGHT_JOB, local_date=night)
    assert run.status == JobRun.Status.SUCCEEDED


def test_two_workers_given_the_night_twice_charge_each_client_once(app_on_fake, tenant):
    # Given five clients to charge, and two AutoPay workers on the same queue
    night, clients = a_night_of_autopay(app_on_fake, tenant)
    # Slow answers keep one worker's charges in flight while the other reaches the rows.
    app_on_fake.control.fail_rate(["slow"], 0.5, seed=3, delay=0.3, path="/v1/payment_intents")
    with queue_for_test() as queue, workers(queue, count=2, env=worker_env(app_on_fake)) as (first, second):
        # When the night is sent twice (two ticks, or Run now beside the tick)
        ids = [send(queue, "practice.tasks.job_run", [tenant.practice.pk, NIGHT_JOB, night.isoformat()]) for _ in "ab"]
        wait_for(
            lambda: night_done() and all(first.has_finished(i) or second.has_finished(i) for i in ids),
            90,
            first,
            "the night to be charged",
        )
        both_worked = "autopay_charge" in first.log() and "autopay_charge" in second.log()

    # Then both workers charged, and each client was charged once
    assert both_worked
    assert_charged_once_each(app_on_fake, night, clients)
    run = JobRun.objects.get(practice=tenant.practice, job=NIGHT_JOB, local_date=night)
    assert (run.status, run.attempts) == (JobRun.Status.SUCCEEDED, 1)


def test_stripe_failing_a_fifth_of_requests_charges_each_client_once_on_two_workers(app_on_fake, tenant):
    # Given five clients to charge, and Stripe failing a fifth of the charge requests with
    # 500s and timeouts (some of the timeouts after charging the card)
    night, clients = a_night_of_autopay(app_on_fake, tenant)
    env = {**worker_env(app_on_fake), "STRIPE_TIMEOUT_SECONDS": "0.5", **fresh_windows()}
    app_on_fake.control.fail_rate(["500", "timeout", "timeout_performed"], 0.2, seed=7, delay=0.7)
    with queue_for_test() as queue, workers(queue, count=2, env=env) as (first, second):
        # When two workers run the night while Stripe fails
        night_task = send(queue, "practice.tasks.job_run", [tenant.practice.pk, NIGHT_JOB, night.isoformat()])
        wait_for(lambda: first.has_finished(night_task) or second.has_finished(night_task), 60, first, "the night")
        wait_for(lambda: AutoPayCharge.objects.filter(status="pending").count() == 0, 60, first, "every charge tried")
        wait_for(lambda: not worker_busy(first, second), 60, first, "the workers to be idle")
        faults = [r["fault"] for r in app_on_fake.control.requests() if r["fault"]]
        # Never twice, even while some outcomes are unknown
        taken = Counter(str(i["customer"]) for i in fake_intents(app_on_fake) if i["status"] == "succeeded")
        assert all(count == 1 for count in taken.values())
        assert set(AutoPayCharge.objects.values_list("status", flat=True)) <= {"succeeded", "failed", "charging"}

        # and Stripe recovers: beat's sweeper sends what is unfinished again, with its key
        app_on_fake.control.clear_faults()
        wait_for(nothing_fresh_left, 30, first, "the unfinished rows to be swept")
        send(queue, "payments.tasks.autopay_sweep")
        wait_for(night_done, 60, first, "the night to be finished")

    # Then each client was charged once or their decline recorded, none twice
    assert len(faults) >= 2, faults
    assert_charged_once_each(app_on_fake, night, clients)


def fresh_windows() -> dict[str, str]:
    return {"AUTOPAY_SWEEP_AFTER_SECONDS": str(STALE_AFTER_SECONDS)}


def worker_busy(*running: Any) -> bool:
    """Whether a worker has received a task it has not finished yet."""
    return any(worker.unfinished() for worker in running)
