"""Scheduled jobs run once a day per practice, at a time of day in the practice's own zone.

Apps register their jobs here (practice is the lowest layer, so any app can); a beat entry
calls ``jobs_tick`` every few minutes, which queues ``practice.tasks.job_run`` for every job
that is due in a practice's local day and has not run yet for that day. The run claims its
``JobRun`` row first (unique per practice, job and local date), so a second tick, a second
worker or a Run now click for the same day does nothing. Jobs must be safe to run twice:
a failed run, or one left running by a killed worker, is run again by a later tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .actor import Actor
from .audit import audit_write
from .faults import checkpoint
from .models import JobRun, Practice

logger = logging.getLogger(__name__)

# A failed run is tried again by later ticks until it has been tried this many times that day.
MAX_ATTEMPTS = 3


def stale_after() -> timedelta:
    """How long a run may stay "running" before it counts as left by a worker that died,
    and a tick runs it again (settings.JOB_STALE_AFTER_SECONDS, 30 minutes): longer than
    any run takes, shorter than the broker's visibility timeout (1 hour), so the tick, not
    the redelivered message, is what finishes a killed run."""
    return timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)


JobFunction = Callable[[Practice, date], dict[str, int]]
DueFunction = Callable[[Practice, datetime], date | None]


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    due_at: time | DueFunction
    run: JobFunction

    def due(self, practice: Practice, local_now: datetime) -> date | None:
        """The local date of the run due at ``local_now``, or None before the day's run time."""
        if isinstance(self.due_at, time):
            return local_now.date() if local_now.time() >= self.due_at else None
        return self.due_at(practice, local_now)

    def next_run(self, local_now: datetime) -> datetime | None:
        """The next scheduled run time, in the practice's local time (time-of-day jobs only)."""
        if not isinstance(self.due_at, time):
            return None
        today = datetime.combine(local_now.date(), self.due_at, tzinfo=local_now.tzinfo)
        return today if local_now < today else today + timedelta(days=1)


_registry: dict[str, Job] = {}


def register_job(name: str, label: str, due_at: time | DueFunction, run: JobFunction) -> Job:
    job = Job(name=name, label=label, due_at=due_at, run=run)
    _registry[name] = job
    return job


def unregister_job(name: str) -> None:
    _registry.pop(name, None)


def registered_jobs() -> list[Job]:
    return sorted(_registry.values(), key=lambda job: job.label)


def get_job(name: str) -> Job | None:
    return _registry.get(name)


def _wants_a_run(run: JobRun | None, now: datetime) -> bool:
    if run is None:
        return True
    if run.status == JobRun.Status.FAILED:
        return run.attempts < MAX_ATTEMPTS
    if run.status == JobRun.Status.RUNNING:
        return run.started_at < now - stale_after()
    return False


def jobs_due() -> list[tuple[int, str, date]]:
    """(practice id, job name, local date) of every run due now and not done yet."""
    jobs = registered_jobs()
    if not jobs:
        return []
    now = timezone.now()
    due: list[tuple[int, str, date]] = []
    for practice in Practice.objects.order_by("pk"):
        local_now = timezone.localtime(now, practice.tzinfo)
        wanted = [(job, job.due(practice, local_now)) for job in jobs]
        wanted = [(job, day) for job, day in wanted if day is not None]
        if not wanted:
            continue
        runs = {
            (run.job, run.local_date): run
            for run in JobRun.objects.filter(practice=practice, job__in=[job.name for job, _ in wanted]).filter(
                local_date__in={day for _, day in wanted}
            )
        }
        for job, day in wanted:
            assert day is not None
            if _wants_a_run(runs.get((job.name, day)), now):
                due.append((practice.pk, job.name, day))
    return due


def _claim(practice_id: int, job_name: str, local_date: date) -> JobRun | None:
    """The JobRun row this worker now owns (status running), or None if the run is not ours."""
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                return JobRun.objects.create(
                    practice_id=practice_id, job=job_name, local_date=local_date, started_at=now
                )
        except IntegrityError:
            pass
        run = JobRun.objects.select_for_update().get(practice_id=practice_id, job=job_name, local_date=local_date)
        if not _wants_a_run(run, now):
            return None
        run.status = JobRun.Status.RUNNING
        run.attempts += 1
        run.started_at = now
        run.finished_at = None
        run.error = ""
        run.save(update_fields=["status", "attempts", "started_at", "finished_at", "error"])
        return run


def job_run(*, practice_id: int, job_name: str, local_date: date) -> JobRun | None:
    """Run one job for one practice's local day, unless that run is done or under way.

    Returns the run this call made (succeeded or failed), or None if it made none.
    """
    job = get_job(job_name)
    if job is None:
        logger.warning("No job named %s is registered", job_name)
        return None
    run = _claim(practice_id, job_name, local_date)
    if run is None:
        return None
    checkpoint("job.claimed")
    practice = Practice.objects.get(pk=practice_id)
    try:
        counts = job.run(practice, local_date)
    except Exception as exc:  # any failure is recorded, and retried by a later tick
        logger.exception("Job %s for practice %s on %s failed", job_name, practice_id, local_date)
        run.status = JobRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.counts = {}
    else:
        checkpoint("job.before_succeeded")
        run.status = JobRun.Status.SUCCEEDED
        run.counts = dict(counts or {})
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "counts", "finished_at"])
    return run


def job_run_now(*, practice: Practice, job_name: str, actor: Actor) -> JobRun | None:
    """Run now (Settings > Automations): the scheduled run of the practice's local today,
    through the same claim, so it runs at most once that day whoever asks first."""
    run = job_run(practice_id=practice.pk, job_name=job_name, local_date=practice.local_today())
    if run is not None:
        audit_write(
            practice=practice,
            actor=actor,
            action="job.run_now",
            obj=run,
            changes={"status": [None, run.status], "counts": [None, run.counts]},
        )
    return run


RUNS_SHOWN = 5


def automation_rows(practice: Practice) -> list[dict[str, Any]]:
    """Each registered job with its latest runs for ``practice`` and its next run time."""
    local_now = practice.local_now()
    rows = []
    for job in registered_jobs():
        runs = list(JobRun.objects.filter(practice=practice, job=job.name).order_by("-local_date")[:RUNS_SHOWN])
        rows.append({"job": job, "runs": runs, "next_run": job.next_run(local_now)})
    return rows
