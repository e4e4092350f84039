"""Real Celery worker processes for the fault tests, against the test database and Redis.

Each worker is ``celery -A practice worker`` started as an OS process of its own, as
``make run`` and docker-compose start it: the task runs in that process, not in a thread
of the test, so a SIGKILL ends it the way a power cut or the kernel's OOM killer ends a
worker. It runs the solo pool (the task runs in the worker's main process, so a kill at a
checkpoint takes the whole worker down and nothing gives the message back) with the
project's settings, but for what tests/worker_settings.py changes: every task to the
test's own queue, emails to a queue no worker reads (the test compares the OutgoingEmail
rows), and the broker's visibility timeout.

The test that starts workers must be ``@pytest.mark.django_db(transaction=True)``: the
workers see only committed rows, and they must be stopped before the test's database is
flushed (every helper here stops what it starts).

``run_with_kill(task_name, args, kill_at)`` is the kill test in one call: a worker started
with PRACTICA_KILL_AT=kill_at takes the task and dies at that checkpoint; a fresh worker
then finishes the work the way production does (see ``run_with_kill``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone

from practice.celery import app as celery_app
from practice.models import JobRun

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
RUN_TIMEOUT = 90.0
# The fresh worker's windows, shortened from production's 30 minutes and 1 hour in the
# same order: the run counts as left by a dead worker first, the message comes back later.
STALE_AFTER_SECONDS = 1
VISIBILITY_TIMEOUT_SECONDS = 3


def database_url() -> str:
    """The database the test runs against (pytest-django's test database, whose name is in
    the settings once it has been created), as a URL for another process."""
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "postgres", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    if host.startswith("/"):  # a socket folder (the embedded PostgreSQL of `make test`)
        return f"postgres://{auth}@/{host}/{db['NAME']}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def new_queue() -> str:
    return f"test-practica-{uuid.uuid4().hex[:12]}"


class WorkerProcess:
    """One ``celery worker`` process consuming ``queue``; its log goes to a file."""

    def __init__(self, queue: str, *, kill_at: str | None = None, env: dict[str, str] | None = None) -> None:
        self.queue = queue
        self.name = f"w{uuid.uuid4().hex[:8]}@test"
        self.kill_at = kill_at
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "DJANGO_ENV": "test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "PRACTICA_TEST_QUEUE": queue,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        environment.pop("PRACTICA_KILL_AT", None)
        if kill_at is not None:
            environment["PRACTICA_KILL_AT"] = kill_at
        handle, log_path = tempfile.mkstemp(prefix="practica-worker-", suffix=".log")
        self.log_path = Path(log_path)
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "practice",
            "worker",
            "--pool=solo",
            f"--queues={queue}",
            f"--hostname={self.name}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        os.close(handle)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def describe(self) -> str:
        tail = "\n".join(self.log().splitlines()[-40:])
        return f"worker {self.name} (kill at {self.kill_at}, exit {self.process.poll()}); its log ends:\n{tail}"

    def wait_ready(self, timeout: float = START_TIMEOUT) -> WorkerProcess:
        wait_for(lambda: f"{self.name} ready." in self.log(), timeout, self, "to be ready", alive=True)
        return self

    def has_finished(self, task_id: str) -> bool:
        """Whether this worker ran the task with that id to its end."""
        return f"[{task_id}] succeeded" in self.log()

    def unfinished(self) -> set[str]:
        """The ids of the tasks this worker received and did not run to their end (after a
        kill: the one it died in, whose message the broker gives back)."""
        log = self.log()
        received = set(re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] received", log))
        return {task_id for task_id in received if f"[{task_id}] succeeded" not in log}

    def wait_killed(self, timeout: float = RUN_TIMEOUT, *, in_first_task: bool = True) -> None:
        """Wait until the process has died of SIGKILL; fail if it finished the work instead
        (``in_first_task``: the first task it ran ended; else: ``timeout`` passed)."""

        def died() -> bool:
            if in_first_task and self.process.poll() is None and "succeeded in" in self.log():
                raise AssertionError(f"the task ended without reaching kill point {self.kill_at}: {self.describe()}")
            return self.process.poll() is not None

        wait_for(died, timeout, self, f"to die at {self.kill_at}")
        assert self.process.returncode == -signal.SIGKILL, self.describe()

    def take(self, queue: str) -> None:
        """Start consuming ``queue`` too (Celery's add_consumer control command)."""
        replies = celery_app.control.add_consumer(queue, destination=[self.name], reply=True, timeout=10)
        assert replies and "ok" in next(iter(replies[0].values())), f"{replies}: {self.describe()}"

    def stop(self) -> None:
        """Warm shutdown (the current task finishes; prefetched messages go back), then gone."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log_path.unlink(missing_ok=True)


def wait_for(
    condition: Callable[[], bool], timeout: float, worker: WorkerProcess | None, what: str, *, alive: bool = False
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if alive and worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"the worker exited while waiting for it {what}: {worker.describe()}")
        if time.monotonic() > deadline:
            detail = worker.describe() if worker is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}. {detail}")
        time.sleep(0.05)


@contextmanager
def queue_for_test() -> Iterator[str]:
    """A fresh queue name; on the way out the queue and its email queue are deleted, and the
    test process's Celery app sends to the broker again instead of running tasks eagerly."""
    queue = new_queue()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = eager
        with celery_app.connection_for_write() as conn:
            channel: Any = conn.default_channel  # kombu's Redis channel; its stub lacks queue_delete
            for name in (queue, f"{queue}.emails", f"{queue}.standby"):
                channel.queue_delete(name)


@contextmanager
def workers(queue: str, count: int = 1, **options: Any) -> Iterator[list[WorkerProcess]]:
    """``count`` worker processes on ``queue``, started together, ready, stopped on the way out."""
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            worker = WorkerProcess(queue, **options)
            stack.callback(worker.stop)
            started.append(worker)
        for worker in started:
            worker.wait_ready()
        yield started


def send(queue: str, task_name: str, args: Sequence[Any] = ()) -> str:
    """Send a task by name to ``queue``, as beat or a view would; its id."""
    return str(celery_app.send_task(task_name, args=list(args), queue=queue).id)


def all_runs_succeeded() -> bool:
    statuses = set(JobRun.objects.values_list("status", flat=True))
    return statuses == {JobRun.Status.SUCCEEDED}


def run_with_kill(
    task_name: str,
    args: Sequence[Any],
    kill_at: str,
    *,
    done: Callable[[], bool] = all_runs_succeeded,
    timeout: float = RUN_TIMEOUT,
    env: dict[str, str] | None = None,
    beat: Sequence[str] = ("practice.tasks.jobs_tick",),
    stale: Callable[[], bool] | None = None,
    killed_in_first_task: bool = True,
) -> None:
    """Run ``task_name(*args)`` on a worker process that is killed (SIGKILL) at checkpoint
    ``kill_at`` ("name" or "name:N"), then let a fresh worker finish it, as production does:

    1. a worker started with PRACTICA_KILL_AT takes the task (and whatever it queues) and
       dies at the checkpoint, its message unacknowledged (acks_late) and its open
       transaction rolled back;
    2. a fresh worker starts on the same queue. Production's windows are shortened in the
       same order: a JobRun counts as left by a dead worker after 1 s (30 minutes in
       production, JOB_STALE_AFTER_SECONDS), an AutoPay charge after 1 s too (15 minutes,
       AUTOPAY_SWEEP_AFTER_SECONDS), the broker gives the killed worker's message back
       after 3 s (the 1 hour visibility timeout);
    3. once what the kill left counts as stale (``stale``; by default: no JobRun younger
       than the window is running), beat's periodic tasks named in ``beat`` are sent
       (by default its tick, practice.tasks.jobs_tick, which queues the run again); the
       fresh worker runs them to the end;
    4. the killed worker's own message comes back and is run too, and must change nothing.

    Returns when ``done()`` holds (by default: every JobRun has succeeded) and each task
    the killed worker had not finished has been run to its end by the fresh worker; both
    workers are stopped. ``env`` is added to both workers' environment. When the kill point
    is in a task the first one queues (``killed_in_first_task=False``), the killed worker
    runs the first to its end and dies in a later one.
    """
    with queue_for_test() as queue:
        # Both start at once (starting is most of a test's time); the fresh one waits on a
        # queue of its own until the other has died, then is told to take the test's queue.
        doomed = WorkerProcess(queue, kill_at=kill_at, env=env)
        fresh = WorkerProcess(f"{queue}.standby", env={**(env or {}), **fresh_worker_env()})
        try:
            doomed.wait_ready()
            fresh.wait_ready()
            send(queue, task_name, args)
            doomed.wait_killed(timeout, in_first_task=killed_in_first_task)
            left = doomed.unfinished()
            assert left, f"the killed worker was running no task: {doomed.describe()}"
            fresh.take(queue)
            wait_for(stale or runs_left_running_are_stale, timeout, fresh, "what the kill left to count as stale")
            for periodic in beat:
                send(queue, periodic)
            wait_for(
                lambda: done() and all(fresh.has_finished(task_id) for task_id in left),
                timeout,
                fresh,
                "the run to be finished",
            )
        finally:
            doomed.stop()
            fresh.stop()


def fresh_worker_env() -> dict[str, str]:
    return {
        "JOB_STALE_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
        "AUTOPAY_SWEEP_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
        "PRACTICA_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS),
    }


def runs_left_running_are_stale() -> bool:
    cutoff = timezone.now() - timedelta(seconds=STALE_AFTER_SECONDS)
    return not JobRun.objects.filter(status=JobRun.Status.RUNNING, started_at__gte=cutoff).exists()
