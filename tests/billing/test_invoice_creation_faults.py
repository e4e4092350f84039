"""The invoice creation run survives a killed worker and a second worker (issue 16, "Faults
that must be survived"), with real Celery worker processes on the real Redis and
PostgreSQL (tests/worker_processes.py).

How a killed run is finished here, and why that is production's way: the worker is
started with PRACTICA_KILL_AT and dies by SIGKILL at that checkpoint (practice.faults),
its transaction rolled back and its task message unacknowledged (acks_late). In
production two things then bring the run back, in this order: beat's tick (every 5
minutes) queues the run again once its JobRun has been "running" for longer than
JOB_STALE_AFTER_SECONDS (30 minutes), and the broker hands the dead worker's message out
again after its visibility timeout (1 hour), by which time the run has succeeded and the
message changes nothing. The test keeps that order with both windows shortened for the
fresh worker (1 s and 3 s): it sends the tick as beat would once the run is stale, waits
until the run has succeeded and the killed worker's own message has been run again, and
only then compares.

What is compared is what a biller and the clients would see: each invoice (client,
number, status, figures, the items on it), every ledger entry and client balance, and
every email queued (OutgoingEmail rows: the workers' emails are not sent here), against a
reference run of the same data in this process, rolled back before the workers start.
"""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connections, transaction

from billing import locks, services
from billing.models import BillingItem, ClientAccount, Invoice, InvoiceCreationSetting, LedgerEntry
from clients.models import Client
from practice.models import JobRun, OutgoingEmail, Practice
from tests.factories import ClientFactory, PayerFactory, give_credit, make_item
from tests.helpers import signed_in, url
from tests.worker_processes import WorkerProcess, queue_for_test, run_with_kill, send, wait_for, workers

pytestmark = pytest.mark.django_db(transaction=True)

JOB = "invoice_creation"
SUMMARY = "invoice_creation_summary"
CLIENTS_IN_RUN = 6


def a_day_of_work(tenant) -> tuple[Practice, date, list[Client]]:
    """Yesterday's work at a practice that creates invoices daily and sends them: six
    clients to invoice (one with credit, one billed to a payer, one without an email
    address, whose invoice stays a draft), one invoiced by hand yesterday (skipped), and
    an item of today that waits for tomorrow's run."""
    practice = tenant.practice
    InvoiceCreationSetting.objects.create(practice=practice, cadence="daily", send_automatically=True)
    day = practice.local_today() - timedelta(days=1)
    clients = [
        ClientFactory(practice=practice),
        ClientFactory(practice=practice),
        ClientFactory(practice=practice, payer=PayerFactory(practice=practice)),
        ClientFactory(practice=practice, email=""),
        ClientFactory(practice=practice),
        ClientFactory(practice=practice),
    ]
    first, with_credit, billed_to_payer, no_email, several, last = clients
    make_item(practice, first, "150.00", on=day)
    make_item(practice, first, "90.00", on=day - timedelta(days=3))
    make_item(practice, first, "70.00", on=day + timedelta(days=1))
    make_item(practice, with_credit, "120.00", on=day)
    give_credit(practice, with_credit, tenant.owner, "30.00")
    make_item(practice, billed_to_payer, "80.00", tax="10", on=day)
    make_item(practice, no_email, "60.00", on=day)
    for price in ("45.00", "55.00", "65.00"):
        make_item(practice, several, price, on=day - timedelta(days=1))
    make_item(practice, last, "200.00", on=day)
    by_hand = ClientFactory(practice=practice)
    hand_made = services.invoice_create(
        practice=practice,
        client=by_hand,
        actor=tenant.biller,
        item_ids=[make_item(practice, by_hand, "75.00", on=day).pk],
        issue=True,
    )
    Invoice.objects.filter(pk=hand_made.pk).update(created_at=hand_made.created_at - timedelta(days=1))
    make_item(practice, by_hand, "40.00", on=day)
    return practice, day, clients


def outcome(practice: Practice) -> dict[str, Any]:
    """Everything the run leaves that a person would see, with invoices named by their
    number (drafts by their client) rather than by ids that differ between two runs."""
    invoices = list(Invoice.objects.filter(practice=practice))
    label = {inv.pk: inv.number or f"draft of client {inv.client_id}" for inv in invoices}
    items_on: dict[int | None, list[int]] = {}
    for item_id, invoice_id in BillingItem.objects.filter(practice=practice).values_list("pk", "invoice_id"):
        items_on.setdefault(invoice_id, []).append(item_id)
    emails = []
    for email in OutgoingEmail.objects.filter(practice=practice):
        key = email.key
        if email.about_id in label:
            key = key.replace(f":{email.about_id}:", f":{label[email.about_id]}:")
        emails.append((key, email.topic, email.to, email.subject, email.text if email.topic == SUMMARY else ""))
    return {
        "invoices": sorted(
            (
                inv.client_id,
                label[inv.pk],
                inv.kind,
                inv.status,
                inv.total,
                inv.tax,
                inv.credit_applied,
                inv.balance,
                inv.issue_date,
                inv.due_date,
                inv.bill_to_email,
                tuple(sorted(items_on.get(inv.pk, []))),
            )
            for inv in invoices
        ),
        "uninvoiced": sorted(items_on.get(None, [])),
        "ledger": sorted(
            (e.client_id, e.kind, e.balance_delta, e.credit_delta, label.get(e.invoice_id or 0))
            for e in LedgerEntry.objects.filter(practice=practice)
        ),
        "accounts": sorted(
            ClientAccount.objects.filter(practice=practice).values_list("client_id", "balance", "credit_balance")
        ),
        "emails": sorted(emails),
    }


def reference_outcome(practice: Practice, day: date) -> dict[str, Any]:
    """What one uninterrupted run of ``day`` leaves, made here and rolled back."""
    before = outcome(practice)
    with transaction.atomic():
        services.invoice_creation_run(practice=Practice.objects.get(pk=practice.pk), local_date=day)
        reference = outcome(practice)
        transaction.set_rollback(True)
    assert outcome(practice) == before
    return reference


def assert_the_reference_is_what_a_run_makes(reference: dict[str, Any], clients: list[Client]) -> None:
    """The reference itself is right: one invoice per client, the no-email one a draft,
    the others emailed, and one summary to the owner."""
    made = [row for row in reference["invoices"] if row[0] in {c.pk for c in clients} and row[2] == "invoice"]
    assert len(made) == CLIENTS_IN_RUN
    assert sorted(row[3] for row in made) == ["draft"] + ["open"] * (CLIENTS_IN_RUN - 1)
    topics = [row[1] for row in reference["emails"]]
    assert topics.count("invoice_sent") == CLIENTS_IN_RUN - 1
    summary = [row for row in reference["emails"] if row[1] == SUMMARY]
    assert len(summary) == 1 and summary[0][3].startswith(f"{CLIENTS_IN_RUN} invoices created")


# Fifteen points of the run at which the worker dies: around the claim, before, inside and
# after each client's transaction at the first, a middle and the last of the six clients,
# around the owner's summary email, and just before the run is marked succeeded.
KILL_POINTS = [
    "job.claimed",
    "invoice_creation.before_client",
    "invoice_creation.before_client:2",
    "invoice_creation.before_client:5",
    "invoice_creation.invoice_created",
    "invoice_creation.invoice_created:3",
    "invoice_creation.invoice_created:6",
    "invoice_creation.send_queued:2",
    "invoice_creation.send_queued:4",
    "invoice_creation.after_client",
    "invoice_creation.after_client:3",
    "invoice_creation.after_client:6",
    "invoice_creation.before_summary",
    "invoice_creation.after_summary",
    "job.before_succeeded",
]


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_run_killed_at_any_point_and_run_again_makes_what_one_run_makes(tenant, kill_at):
    # Given yesterday's work, and what one uninterrupted run makes of it
    practice, day, clients = a_day_of_work(tenant)
    reference = reference_outcome(practice, day)
    assert_the_reference_is_what_a_run_makes(reference, clients)

    # When the run's worker is killed at that point, and a fresh worker takes over
    run_with_kill("practice.tasks.job_run", [practice.pk, JOB, day.isoformat()], kill_at)

    # Then the invoices, their items, the ledger and the emails are those of one run
    assert outcome(practice) == reference
    run = JobRun.objects.get(practice=practice, job=JOB, local_date=day)
    assert (run.status, run.attempts) == (JobRun.Status.SUCCEEDED, 2)


def hold_client(client: Client) -> tuple[threading.Event, threading.Thread]:
    """Another connection holds the client's account lock (as a biller invoicing them by
    hand would) until the event is set, so a run that reaches them waits there."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                locks.lock_client(client)
                locked.set()
                release.wait(120)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(30)
    return release, thread


def waiting_for_locks() -> int:
    """How many connections to the test database wait for a row lock right now."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def ran_one_each(ids: list[str], first: WorkerProcess, second: WorkerProcess) -> bool:
    """Whether one worker ran the first message and the other the second."""
    return (first.has_finished(ids[0]) and second.has_finished(ids[1])) or (
        first.has_finished(ids[1]) and second.has_finished(ids[0])
    )


def summary_counts() -> list[int]:
    subjects = OutgoingEmail.objects.filter(topic=SUMMARY).values_list("subject", flat=True)
    return sorted(int(re.match(r"(\d+) invoice", subject).group(1)) for subject in subjects)


def test_two_workers_given_the_same_run_make_it_once(tenant):
    # Given yesterday's work and two worker processes on the same queue
    practice, day, clients = a_day_of_work(tenant)
    reference = reference_outcome(practice, day)
    release, holder = hold_client(clients[0])
    try:
        with queue_for_test() as queue, workers(queue, count=2) as (first, second):
            # When the run is sent twice (two ticks, or a tick redelivered) and both workers
            # take it while the first client is held, so the first run cannot finish
            ids = [send(queue, "practice.tasks.job_run", [practice.pk, JOB, day.isoformat()]) for _ in range(2)]
            wait_for(lambda: waiting_for_locks() >= 1, 60, None, "the first run to wait at the held client")
            wait_for(lambda: any(w.has_finished(i) for w in (first, second) for i in ids), 60, None, "one to return")
            run = JobRun.objects.get(practice=practice, job=JOB, local_date=day)
            assert (run.status, run.attempts) == (JobRun.Status.RUNNING, 1)
            release.set()
            wait_for(
                lambda: all(any(w.has_finished(i) for w in (first, second)) for i in ids), 60, None, "both to finish"
            )
            each_ran_one = ran_one_each(ids, first, second)
    finally:
        release.set()
        holder.join()

    # Then each worker took one of the two, and the practice has what one run makes: one
    # set of invoices, one summary email
    assert each_ran_one
    assert outcome(practice) == reference
    run.refresh_from_db()
    assert (run.status, run.attempts) == (JobRun.Status.SUCCEEDED, 1)


def test_two_workers_running_the_same_day_at_the_same_time_make_it_once(tenant):
    """Even when both workers take the run at once (the first counted as stale while it
    was still running: a run longer than JOB_STALE_AFTER_SECONDS), each client is invoiced
    once: the client's lock and the day's invoices decide, not the JobRun."""
    practice, day, clients = a_day_of_work(tenant)
    reference = reference_outcome(practice, day)
    release, holder = hold_client(clients[0])
    try:
        with (
            queue_for_test() as queue,
            workers(queue, count=2, env={"JOB_STALE_AFTER_SECONDS": "0"}) as (first, second),
        ):
            ids = [send(queue, "practice.tasks.job_run", [practice.pk, JOB, day.isoformat()]) for _ in range(2)]
            # Both claim the run: one waits at the held client, the other behind it
            wait_for(lambda: JobRun.objects.filter(attempts=2).exists(), 60, None, "both workers to claim the run")
            wait_for(lambda: waiting_for_locks() >= 2, 60, None, "both runs to wait")
            release.set()
            wait_for(
                lambda: all(any(w.has_finished(i) for w in (first, second)) for i in ids), 60, None, "both to finish"
            )
            each_ran_one = ran_one_each(ids, first, second)
    finally:
        release.set()
        holder.join()

    assert each_ran_one
    assert outcome(practice) == reference
    run = JobRun.objects.get(practice=practice, job=JOB, local_date=day)
    assert (run.status, run.attempts) == (JobRun.Status.SUCCEEDED, 2)


def test_run_now_while_the_scheduled_run_is_running_invoices_each_client_once(tenant):
    """Run now runs the practice's local today (practice.jobs.job_run_now), while the
    scheduled run after midnight is for the day just ended: clicked while that run is under
    way, the two runs share the clients between them. Each client is invoiced once, each
    item once, and the owner's summaries add up to the invoices made; today's run also
    takes the items of the client invoiced by hand yesterday, which waited for it."""
    practice, day, clients = a_day_of_work(tenant)
    reference = reference_outcome(practice, day)
    six = {client.pk for client in clients}
    by_hand = Client.objects.filter(practice=practice).exclude(pk__in=six).get()
    owner = signed_in(tenant.owner)
    release, holder = hold_client(clients[0])
    clicked: list[int] = []

    def click_run_now() -> None:
        try:
            clicked.append(owner.post(url(tenant, "automation_run_now", job_name=JOB)).status_code)
        finally:
            connections.close_all()

    try:
        with queue_for_test() as queue, workers(queue) as (worker,):
            # Given the scheduled run under way on a worker, held at its first client
            task_id = send(queue, "practice.tasks.job_run", [practice.pk, JOB, day.isoformat()])
            wait_for(lambda: waiting_for_locks() >= 1, 60, worker, "the scheduled run to wait at the held client")
            # When the owner clicks Run now, which waits behind it
            click = threading.Thread(target=click_run_now)
            click.start()
            wait_for(lambda: waiting_for_locks() >= 2, 60, worker, "Run now to wait behind it")
            release.set()
            click.join(60)
            wait_for(lambda: worker.has_finished(task_id), 60, worker, "the scheduled run to finish")
    finally:
        release.set()
        holder.join()

    # Then the six clients have what one run makes of them, whichever run made each
    assert clicked == [302]
    after = outcome(practice)

    def of_six(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [row for row in rows if row[0] in six]

    for part in ("invoices", "ledger", "accounts"):
        assert of_six(after[part]) == of_six(reference[part]), part
    # and the client invoiced by hand yesterday has today's run invoice for what was left
    today = day + timedelta(days=1)
    leftover = BillingItem.objects.get(client=by_hand, invoice__created_by__isnull=True)
    assert leftover.invoice.creation_run_date == today
    assert after["uninvoiced"] == [pk for pk in reference["uninvoiced"] if pk != leftover.pk]
    emailed = sorted(row[2] for row in after["emails"] if row[1] == "invoice_sent")
    assert emailed == sorted([*(row[2] for row in reference["emails"] if row[1] == "invoice_sent"), by_hand.email])
    assert sum(summary_counts()) == CLIENTS_IN_RUN + 1
    assert set(JobRun.objects.values_list("local_date", "status")) == {
        (day, JobRun.Status.SUCCEEDED),
        (today, JobRun.Status.SUCCEEDED),
    }
