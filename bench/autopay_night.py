"""A night of AutoPay at scale: 5,000 enrolled clients, each owing one open invoice, charged
by a real Celery worker process (prefork, ``--concurrency 4``: an AutoPay worker mostly waits on Stripe)
against the fake Stripe over real HTTP, every API call answered after 50 ms.

The data is written set-based: the clients, their invoices with lines, ledger entries and
account balances, their enrolments (made the evening before), and for each a Customer and
an attached card in the fake Stripe's store and the app's StripeCustomer and SavedCard rows.
The clock starts when the night's ``practice.tasks.job_run`` is sent and stops when every
client's AutoPay row has succeeded: the run making the 5,000 rows and queuing a charge
task each, the worker charging them paced by ``AUTOPAY_CHARGES_PER_SECOND`` (the setting's
value, shared through Redis by every worker), each charge recording the payment, the
ledger entry and the receipt email (on a queue no worker reads: sending is not timed).

Figures: ``total_s``; ``charges_per_s`` over the charging (the first attempt made to the
last row settled) beside ``rate_limit_per_s`` and their ratio (goal: within 10%); the
worker's peak memory, sampled every 0.2 s: ``worker_peak_rss_mb`` (its largest process,
goal at most 300 MB) and ``worker_tree_peak_rss_mb`` (the main process and its children
together); ``queries``: those of one more client's charge made in this process.
BENCH_AUTOPAY_CLIENTS runs it smaller (a quick look); the figure records the count.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from billing.models import ClientAccount, Invoice, InvoiceLine, LedgerEntry
from clients.models import AutoPayEnrolment, Client
from payments.autopay_night import NIGHT_JOB, autopay_charge_prepare, autopay_charge_process
from payments.fakestripe import shapes
from payments.fakestripe.server import FakeStripe
from payments.models import AutoPayCharge, CardChargeAttempt, SavedCard, StripeAccount, StripeCustomer
from practice.models import Practice

from .data import bench_practice
from .harness import Context
from .invoice_run import _drop_queues, _QueryCounter, _start_worker, _wait_ready

CLIENTS = int(os.environ.get("BENCH_AUTOPAY_CLIENTS", 5000))
# An AutoPay worker waits on Stripe most of the time (50 ms a call, two or three calls a
# charge), so it runs more processes than cores: with 2, one charge takes about 275 ms
# and two processes reach 6.4 charges a second, under the 10 a second allowed.
CONCURRENCY = int(os.environ.get("BENCH_AUTOPAY_CONCURRENCY", 4))
LATENCY_S = 0.05
AMOUNT = Decimal("120.00")
SLUG = "bench-autopay"
TIMEOUT_S = 3600
CARD = "4242424242424242"


def _night_of(practice: Practice) -> tuple[datetime, datetime]:
    """The night to charge (today, local time) as its window's start, and the evening
    before it, when the clients enrolled and their invoices were issued."""
    night = practice.local_today()
    start = datetime.combine(night, clock(0), tzinfo=practice.tzinfo)
    return start, start - timedelta(hours=6)


def _invoices(practice: Practice, clients: list[Client], evening: datetime) -> None:
    """One open invoice of AMOUNT per client, issued the evening before, with its line, its
    ledger entry and the client's balance."""
    invoices = Invoice.objects.bulk_create(
        [
            Invoice(
                practice=practice,
                client=client,
                currency=practice.currency,
                status=Invoice.Status.OPEN,
                number=f"AP-{n:06d}",
                sequence=n + 1,
                issue_date=evening.date(),
                issued_at=evening,
                due_date=evening.date() + timedelta(days=14),
                subtotal=AMOUNT,
                total=AMOUNT,
                balance=AMOUNT,
            )
            for n, client in enumerate(clients)
        ],
        batch_size=2000,
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                position=0,
                date=invoice.issue_date,
                description="Individual session",
                unit_price=AMOUNT,
                net=AMOUNT,
                tax=Decimal(0),
                amount=AMOUNT,
            )
            for invoice in invoices
        ],
        batch_size=2000,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                practice=practice,
                client_id=invoice.client_id,
                kind=LedgerEntry.Kind.INVOICE_ISSUED,
                balance_delta=AMOUNT,
                credit_delta=Decimal(0),
                currency=practice.currency,
                actor_label="bench",
                invoice=invoice,
            )
            for invoice in invoices
        ],
        batch_size=2000,
    )
    ClientAccount.objects.bulk_create(
        [ClientAccount(practice=practice, client=client, balance=AMOUNT) for client in clients], batch_size=2000
    )


def _cards(fake: FakeStripe, practice: Practice, clients: list[Client], evening: datetime) -> None:
    """A connected account that takes charges and, on it, a Customer and an attached card
    per client, in the fake's store and in the app's rows; AutoPay turned on the evening
    before, the balance included."""
    store, api = fake.store, fake.api
    account_id = fake_account(fake)
    StripeAccount.objects.create(practice=practice, stripe_account_id=account_id, charges_enabled=True)
    customer_ids, card_ids = [], []
    with store.lock:
        for _client in clients:
            customer = store.add(shapes.customer(store.new_id("cus"), store.now()), account_id)
            card = api.payment_method_from_card(account_id, CARD, 12, api.store_year() + 3, name=None, email=None)
            card["customer"] = customer["id"]
            customer_ids.append(customer["id"])
            card_ids.append(card["id"])
    customers = StripeCustomer.objects.bulk_create(
        [
            StripeCustomer(practice=practice, client=client, stripe_account_id=account_id, stripe_customer_id=cus)
            for client, cus in zip(clients, customer_ids, strict=True)
        ],
        batch_size=2000,
    )
    SavedCard.objects.bulk_create(
        [
            SavedCard(
                practice=practice,
                client_id=customer.client_id,
                customer=customer,
                stripe_payment_method_id=pm,
                brand="visa",
                last4=CARD[-4:],
                exp_month=12,
                exp_year=evening.year + 3,
                is_default=True,
            )
            for customer, pm in zip(customers, card_ids, strict=True)
        ],
        batch_size=2000,
    )
    AutoPayEnrolment.objects.bulk_create(
        [
            AutoPayEnrolment(
                practice=practice,
                client=client,
                started_at=evening,
                balance_cutoff_at=evening,
                include_balance=True,
                open_balance=AMOUNT,
            )
            for client in clients
        ],
        batch_size=2000,
    )


def fake_account(fake: FakeStripe) -> str:
    from payments.fakestripe.control import ControlClient

    return str(ControlClient(fake.url).create_account(onboarding="complete")["id"])


class _Memory:
    """The worker's resident memory, sampled every 0.2 s on a thread: the peak of its
    largest process and of the main process and its children together."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.largest = 0
        self.tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = []
            for process in [self.root, *self.root.children(recursive=True)]:
                try:
                    sizes.append(process.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue
            if sizes:
                self.largest = max(self.largest, max(sizes))
                self.tree = max(self.tree, sum(sizes))
            self._stop.wait(0.2)

    def __enter__(self) -> _Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def autopay_night_5000_clients(ctx: Context) -> dict[str, Any]:
    from practice.celery import app

    from . import job_settings

    with FakeStripe() as fake:
        practice, clients = bench_practice(ctx.owner, SLUG, CLIENTS + 1)
        start, evening = _night_of(practice)
        _invoices(practice, clients, evening)
        _cards(fake, practice, clients, evening)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        from payments.fakestripe.control import ControlClient

        control = ControlClient(fake.url)
        # Every API call the app makes is answered after 50 ms.
        control.fail_rate(["slow"], 1.0, delay=LATENCY_S)
        settings.STRIPE_API_BASE = fake.url
        settings.STRIPE_SECRET_KEY = ""

        # One client's charge in this process (the spare client): the statements each of
        # the worker's charges runs.
        spare = clients.pop()
        enrolment = AutoPayEnrolment.objects.select_related("practice").get(client=spare)
        charge = autopay_charge_prepare(enrolment=enrolment, night=start.date())
        assert charge is not None
        counter = _QueryCounter()
        routes = app.conf.task_routes
        app.conf.task_routes = {"practice.tasks.email_send": {"queue": job_settings.BENCH_EMAIL_QUEUE}}
        try:
            with connection.execute_wrapper(counter):
                one_started = time.perf_counter()
                done = autopay_charge_process(charge_id=charge.pk)
                one_ms = (time.perf_counter() - one_started) * 1000
        finally:
            app.conf.task_routes = routes
        if done.status != AutoPayCharge.Status.SUCCEEDED:
            raise RuntimeError(f"the spare client's charge ended {done.status}: {done.reason}")

        _drop_queues()
        env = {"STRIPE_API_BASE": fake.url, "STRIPE_SECRET_KEY": ""}
        log = Path(tempfile.mkstemp(prefix="bench-autopay-", suffix=".log")[1])
        worker = _start_worker(log, env, CONCURRENCY)
        rows = AutoPayCharge.objects.filter(practice=practice).exclude(client=spare)
        try:
            _wait_ready()
            with _Memory(worker.pid) as memory:
                started = time.perf_counter()
                app.send_task(
                    "practice.tasks.job_run",
                    args=[practice.pk, NIGHT_JOB, start.date().isoformat()],
                    queue=job_settings.BENCH_QUEUE,
                )
                deadline = time.monotonic() + TIMEOUT_S
                while rows.filter(status=AutoPayCharge.Status.SUCCEEDED).count() < len(clients):
                    if time.monotonic() > deadline or worker.poll() is not None:
                        raise RuntimeError(f"the night did not finish: {log.read_text()[-3000:]}")
                    time.sleep(0.5)
                elapsed = time.perf_counter() - started
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
            _drop_queues()
            log.unlink(missing_ok=True)
        span = rows.aggregate(last=Max("updated_at"))
        attempts = CardChargeAttempt.objects.filter(practice=practice).exclude(client=spare)
        first = attempts.aggregate(at=Min("created_at"))
        charging_s = (span["last"] - first["at"]).total_seconds()
        succeeded = rows.filter(status=AutoPayCharge.Status.SUCCEEDED).count()
        intents = sum(1 for key in fake.store.objects if key.startswith("pi_"))
        if intents != len(clients) + 1:
            raise RuntimeError(f"expected {len(clients) + 1} PaymentIntents at the fake, found {intents}")
    rate = float(settings.AUTOPAY_CHARGES_PER_SECOND)
    per_s = succeeded / charging_s
    return {
        "median_ms": round(elapsed * 1000, 1),
        "runs": 1,
        "queries": counter.count,
        "total_s": round(elapsed, 2),
        "clients": succeeded,
        "charging_s": round(charging_s, 2),
        "charges_per_s": round(per_s, 2),
        "rate_limit_per_s": rate,
        "rate_ratio": round(per_s / rate, 3),
        "goal_rate_ratio": "0.9 to 1.1",
        "stripe_latency_ms": LATENCY_S * 1000,
        "one_charge_ms": round(one_ms, 1),
        "worker_concurrency": CONCURRENCY,
        "worker_peak_rss_mb": round(memory.largest / 2**20, 1),
        "worker_tree_peak_rss_mb": round(memory.tree / 2**20, 1),
        "goal_worker_peak_rss_mb": 300,
    }
