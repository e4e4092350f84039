"""A real Celery worker for the tests that need one, against the real Redis.

It runs in a thread of the test process (pool "solo"), so it shares the database
connection settings and Django's locmem outbox with the test, and it listens on a queue
of its own, so that no other worker using the same Redis (another test run, ``make run``)
can take the job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery.contrib.testing.worker import start_worker

from practice.celery import app as celery_app


@contextmanager
def real_worker(*tasks: str) -> Iterator[Any]:
    """A worker taking ``tasks`` (routed to its queue) for the length of the block."""
    queue = f"test-practica-{uuid.uuid4().hex[:12]}"
    previous_routes = celery_app.conf.task_routes
    celery_app.conf.task_always_eager = False
    celery_app.conf.update(task_routes={task: {"queue": queue} for task in tasks})
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue]) as running:
            yield running
    finally:
        celery_app.conf.update(task_routes=previous_routes)
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
