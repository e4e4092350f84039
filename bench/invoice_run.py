"""The daily invoice creation run at scale: 500 practices with 40 clients each (2 uninvoiced
items per client, Send automatically on), run by a real Celery worker process (prefork,
``--concurrency 2``, as ``make run`` starts it) from one beat tick.

The data is written set-based (not through the services). The clock starts when the tick
is sent and stops when every practice's JobRun has succeeded: the tick finding the 500
runs due, then each run making its practice's invoices (its 40 clients in one batch
transaction, billing.services.invoice_creation), issuing each and queuing its email (on a
queue no worker reads: sending is not timed), and the owner's summary. Figures:
``total_s``, ``invoices_per_s``, and ``queries``: the queries of one more practice's run
made in this process, the same run as each of the 500. Goal: at most 60 s on 2 cores,
where the worker shares them with PostgreSQL and Redis.

The wall time counts whatever else the machine runs. Beside it, the CPU the run itself
took in the worker's processes, from the tick to the last run (``worker_cpu_s``, and per
core), and for the one practice run in this process its CPU here and in its PostgreSQL
connection (``one_practice_cpu_ms``, ``one_practice_postgres_cpu_ms``, when PostgreSQL
runs on this machine): on a machine doing nothing else, the wall time is at least the
worker's CPU per core plus PostgreSQL's share.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
from django.db import connection

from billing.models import BillingItem, Invoice, InvoiceCreationSetting
from billing.services import invoice_creation_run
from clients.models import Client
from practice.models import JobRun, Membership, Practice, Role

from .harness import Context

# BENCH_INVOICE_RUN_PRACTICES runs it smaller (a quick look on a busy machine); the figure
# records how many practices it ran.
PRACTICES = int(os.environ.get("BENCH_INVOICE_RUN_PRACTICES", 500))
CLIENTS_PER_PRACTICE = 40
ITEMS_PER_CLIENT = 2
CONCURRENCY = 2
ZONES = ("America/New_York", "America/Los_Angeles", "Europe/London", "Australia/Sydney", "Pacific/Auckland")
SETTINGS = "bench.job_settings"
SLUG = "bench-run-{n:03d}"
TIMEOUT_S = 1800
INVOICE_JOB = "invoice_creation"


def _practices(ctx: Context, count: int, first: int) -> list[Practice]:
    """``count`` practices (each with 40 clients of 2 uninvoiced items, Daily invoice creation
    with Send automatically, the demo owner as their owner), written set-based."""
    practices = Practice.objects.bulk_create(
        [
            Practice(
                name=f"Bench run {n:03d}",
                slug=SLUG.format(n=n),
                timezone=ZONES[n % len(ZONES)],
                currency="USD",
                email=f"practice{n:03d}@run.bench.test",
            )
            for n in range(first, first + count)
        ]
    )
    Membership.objects.bulk_create([Membership(user=ctx.owner, practice=p, role=Role.OWNER) for p in practices])
    InvoiceCreationSetting.objects.bulk_create(
        [InvoiceCreationSetting(practice=p, cadence="daily", send_automatically=True) for p in practices]
    )
    # Set up before the local midnight that ended yesterday: a setting made since is only
    # for days to come (billing.jobs.invoice_creation_day), so yesterday would not run.
    InvoiceCreationSetting.objects.filter(practice__in=practices).update(
        updated_at=datetime.now(UTC) - timedelta(days=3)
    )
    clients = Client.objects.bulk_create(
        [
            Client(
                practice=p,
                first_name=f"First{n:02d}",
                last_name=f"Last{p.pk}",
                email=f"c{n:02d}.{p.pk}@run.bench.test",
            )
            for p in practices
            for n in range(CLIENTS_PER_PRACTICE)
        ],
        batch_size=2000,
    )
    # Two days before today in UTC is before yesterday in every practice's zone.
    day = datetime.now(UTC).date() - timedelta(days=2)
    BillingItem.objects.bulk_create(
        [
            BillingItem(
                practice_id=client.practice_id,
                client=client,
                kind=BillingItem.Kind.MANUAL,
                date=day - timedelta(days=n),
                description=f"Session {n + 1}",
                unit_price=Decimal("120.00"),
                net=Decimal("120.00"),
                tax=Decimal("0"),
                amount=Decimal("120.00"),
                currency="USD",
            )
            for client in clients
            for n in range(ITEMS_PER_CLIENT)
        ],
        batch_size=5000,
    )
    return practices


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _start_worker(
    log: Path, extra_env: dict[str, str] | None = None, concurrency: int = CONCURRENCY
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "CONN_MAX_AGE": "60", **(extra_env or {})}
    from . import job_settings

    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "practice",
        "worker",
        f"--queues={job_settings.BENCH_QUEUE}",
        f"--concurrency={concurrency}",
        "--hostname=bench-jobs@%h",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_ready() -> None:
    from practice.celery import app

    deadline = time.monotonic() + 60
    while not app.control.ping(destination=["bench-jobs@" + os.uname().nodename], timeout=0.5):
        if time.monotonic() > deadline:
            raise RuntimeError("the bench worker did not start")


def _drop_queues() -> None:
    from practice.celery import app

    from . import job_settings

    with app.connection_for_write() as conn:
        channel: Any = conn.default_channel  # kombu's Redis channel; its stub type lacks queue_delete
        for queue in (job_settings.BENCH_QUEUE, job_settings.BENCH_EMAIL_QUEUE):
            channel.queue_delete(queue)


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) of a process and its children alive now."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _backend_cpu() -> float | None:
    """CPU seconds this process's database connection has used, or None when PostgreSQL
    does not run on this machine (or its processes cannot be read)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return float(times.user + times.system)


def invoice_run_500_practices(ctx: Context) -> dict[str, Any]:
    from practice.celery import app

    from . import job_settings

    practices = _practices(ctx, PRACTICES, 0)
    (spare,) = _practices(ctx, 1, PRACTICES)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    # One practice's run in this process: the statements each of the 500 runs.
    counter = _QueryCounter()
    backend_before = _backend_cpu()
    routes = app.conf.task_routes
    # Its emails go where the worker's will: to a queue no worker reads, dropped afterwards.
    app.conf.task_routes = {"practice.tasks.email_send": {"queue": job_settings.BENCH_EMAIL_QUEUE}}
    try:
        with connection.execute_wrapper(counter):
            started, cpu_started = time.perf_counter(), time.process_time()
            counts = invoice_creation_run(practice=spare, local_date=spare.local_today() - timedelta(days=1))
            one_ms = (time.perf_counter() - started) * 1000
            one_cpu_ms = (time.process_time() - cpu_started) * 1000
    finally:
        app.conf.task_routes = routes
    backend_after = _backend_cpu()
    one_postgres_ms = (backend_after - backend_before) * 1000 if backend_after and backend_before else None
    if counts["invoices"] != CLIENTS_PER_PRACTICE:
        raise RuntimeError(f"one practice's run made {counts}")

    _drop_queues()
    ids = [p.pk for p in practices]
    log = Path(tempfile.mkstemp(prefix="bench-worker-", suffix=".log")[1])
    worker = _start_worker(log)
    try:
        _wait_ready()
        cpu_before = _tree_cpu(worker.pid)
        started = time.perf_counter()
        app.send_task("practice.tasks.jobs_tick", queue=job_settings.BENCH_QUEUE)
        deadline = time.monotonic() + TIMEOUT_S
        # The tick queues every job due (overdue marking too): the invoice runs are timed.
        runs = JobRun.objects.filter(practice_id__in=ids, job=INVOICE_JOB, status=JobRun.Status.SUCCEEDED)
        while runs.count() < PRACTICES:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the runs did not finish: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        worker_cpu = _tree_cpu(worker.pid) - cpu_before
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        _drop_queues()
        log.unlink(missing_ok=True)
    invoices = Invoice.objects.filter(practice_id__in=ids).exclude(status=Invoice.Status.DRAFT).count()
    if invoices != PRACTICES * CLIENTS_PER_PRACTICE:
        raise RuntimeError(f"expected {PRACTICES * CLIENTS_PER_PRACTICE} issued invoices, got {invoices}")
    return {
        "median_ms": round(elapsed * 1000, 1),
        "runs": 1,
        "queries": counter.count,
        "total_s": round(elapsed, 2),
        "invoices": invoices,
        "invoices_per_s": round(invoices / elapsed, 1),
        "practices": PRACTICES,
        "clients_per_practice": CLIENTS_PER_PRACTICE,
        "items_per_client": ITEMS_PER_CLIENT,
        "worker_concurrency": CONCURRENCY,
        "one_practice_ms": round(one_ms, 1),
        "one_practice_cpu_ms": round(one_cpu_ms, 1),
        "one_practice_postgres_cpu_ms": round(one_postgres_ms, 1) if one_postgres_ms is not None else None,
        "worker_cpu_s": round(worker_cpu, 1),
        "worker_cpu_s_per_core": round(worker_cpu / CONCURRENCY, 1),
        "goal_s": 60,
    }
