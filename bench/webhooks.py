"""Stripe webhook ingestion through gunicorn (2 sync workers, as ``make run`` starts it).

1,000 Connect events, each delivered three times, shuffled, by 8 client threads over real
HTTP to POST /stripe/webhook/ (verify, store once, queue the task for a worker). The
figures: ``events_per_s`` (deliveries answered per second over the whole run),
``median_ms`` and ``p99_ms`` of one delivery as the client sees it, ``duplicates`` (rows or
queued tasks beyond one per event: must be 0). Beside them the floor: the same deliveries
to a bare Django view that only verifies the signature (``floor_events_per_s``,
``floor_ms`` its median, ``floor_p99_ms``). Goals: at least 300 events/s, p99 at most 100 ms.

The client threads run on the same 2 cores as gunicorn, PostgreSQL and Redis, so the
figures are for comparing commits on one machine.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from payments.fakestripe import sign
from payments.models import WebhookEvent

from .harness import Context

EVENTS = 1000
COPIES = 3
THREADS = 8
WARMUP = 60
ACCOUNT = "acct_1BenchPractice"
SETTINGS = "bench.webhook_settings"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bodies(count: int, secret: str) -> list[tuple[str, str]]:
    out = []
    for _ in range(count):
        body = json.dumps(
            {
                "id": f"evt_{uuid.uuid4().hex[:24]}",
                "object": "event",
                "api_version": "2025-03-31.basil",
                "account": ACCOUNT,
                "created": int(time.time()),
                "data": {"object": {"id": ACCOUNT, "object": "account", "charges_enabled": True}},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": "account.updated",
            },
            indent=2,
        )
        out.append((body, sign(body, secret)))
    return out


def _post(port: int, path: str, body: str, signature: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", "Stripe-Signature": signature}
        )
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def _load(port: int, path: str, deliveries: list[tuple[str, str]]) -> tuple[float, list[float]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda d: _post(port, path, *d), deliveries))
    elapsed = time.perf_counter() - started
    bad = [status for status, _ in results if status != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} deliveries failed, e.g. HTTP {bad[0]}")
    return elapsed, [ms for _, ms in results]


def _p99(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=100)[98], 2)


def _queued(queue: str) -> int:
    from practice.celery import app

    with app.connection_for_write() as conn:
        try:
            channel: Any = conn.default_channel  # kombu's Redis channel; its stub type lacks the queue calls
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
        except Exception:
            return 0


def _drop_queue(queue: str) -> None:
    from practice.celery import app

    with app.connection_for_write() as conn:
        channel: Any = conn.default_channel
        channel.queue_delete(queue)


def webhook_ingestion(ctx: Context) -> dict[str, Any]:
    from . import webhook_settings

    queue = webhook_settings.BENCH_QUEUE
    _drop_queue(queue)
    WebhookEvent.objects.all().delete()
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "CONN_MAX_AGE": "60"}
    command = [sys.executable, "-m", "gunicorn", "practice.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "--workers", "2", "--log-level", "warning"], env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        secret = webhook_settings.STRIPE_CONNECT_WEBHOOK_SECRET
        # Warm both workers and both views (imports, connections) before timing.
        _load(port, "/stripe/webhook/", _bodies(WARMUP, secret))
        _load(port, "/bench/webhook-floor/", _bodies(WARMUP, secret))

        events = _bodies(EVENTS, secret)
        deliveries = [d for d in events for _ in range(COPIES)]
        random.Random(14).shuffle(deliveries)  # noqa: S311  (an order, not a secret)
        floor_s, floor_ms = _load(port, "/bench/webhook-floor/", deliveries)
        rows_before, queued_before = WebhookEvent.objects.count(), _queued(queue)
        elapsed, times = _load(port, "/stripe/webhook/", deliveries)
        rows = WebhookEvent.objects.count() - rows_before
        queued = _queued(queue) - queued_before
    finally:
        server.terminate()
        server.wait(timeout=30)
        _drop_queue(queue)
    return {
        "median_ms": round(statistics.median(times), 2),
        "p99_ms": _p99(times),
        "events_per_s": round(len(deliveries) / elapsed, 1),
        "unique_events": EVENTS,
        "deliveries": len(deliveries),
        "duplicates": (rows - EVENTS) + (queued - EVENTS),
        "rows": rows,
        "tasks_queued": queued,
        "floor_ms": round(statistics.median(floor_ms), 2),
        "floor_p99_ms": _p99(floor_ms),
        "floor_events_per_s": round(len(deliveries) / floor_s, 1),
        "ratio": round(statistics.median(times) / statistics.median(floor_ms), 2),
        "threads": THREADS,
        "queries": 1,
        "runs": len(deliveries),
    }
