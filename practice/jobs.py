"""Scheduled jobs run once a day per practice, at a time of day in the practice's own zone.

Apps register their jobs here (practice is the lowest layer, so any app can); a beat entry
calls ``jobs_tick`` every few minutes, which queues ``practice.tasks.job_run`` for every job
that is due in a practice's local day and has not run yet for that day. The run claims its
``JobRun`` row first (unique per practice, job and local date), so a second tick, a second
worker or a Run now click for the same day does nothing. Jobs must be safe to run twice:
a failed run, or one left running by a killed worker, is run again by a later tick.

Catch-up: when beat or the workers were down at a job's time (the machine was off over
midnight), the next tick also queues the days missed, up to ``CATCH_UP_DAYS`` local days
back, oldest first and each through its own claim, so a day still runs once. Only days
after the job's first run for the practice are caught up: a new practice, or a job just
added, starts from today. A job whose missed days must not run late (a charge meant for
the night) registers with ``catch_up_days=1``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
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
# How many local days (today included) a tick looks at for runs it missed.
CATCH_UP_DAYS = 3


def stale_after() -> timedelta:
    """How long a run may stay "running" before it counts as left by a worker that died,
    and a tick runs it again (settings.JOB_STALE_AFTER_SECONDS, 30 minutes): longer than
    any run takes, shorter than the broker's visibility timeout (1 hour), so the tick, not
    the redelivered message, is what finishes a killed run."""
    return timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)


JobFunction = Callable[[Practice, date], dict[str, int]]
DueFunction = Callable[[Practice, datetime], date | None]
NextRunFunction = Callable[[Practice, datetime], datetime | None]


@dataclass(frozen=True)
class Job:
    """A daily job. ``due_at`` is a local time of day (due from then until the day ends)
    or a function of (practice, local now) giving the local date of the run due then, or
    None. ``next_run_at`` says when a function job runs next (None: it is off)."""

    name: str
    label: str
    due_at: time | DueFunction
    run: JobFunction
    next_run_at: NextRunFunction | None = None
    catch_up_days: int = CATCH_UP_DAYS

    def due(self, practice: Practice, local_now: datetime) -> date | None:
        """The local date of the run due at ``local_now``, or None before the day's run time."""
        if isinstance(self.due_at, time):
            return local_now.date() if local_now.time() >= self.due_at else None
        return self.due_at(practice, local_now)

    def missed_dates(self, practice: Practice, local_now: datetime) -> list[date]:
        """The local dates this job was due for on the previous ``catch_up_days - 1`` local
        days, oldest first: what ``due`` said at the last moment of each of those days."""
        found: set[date] = set()
        for back in range(1, self.catch_up_days):
            day_end = datetime.combine(local_now.date() - timedelta(days=back), time.max, tzinfo=local_now.tzinfo)
            if (day := self.due(practice, day_end)) is not None:
                found.add(day)
        return sorted(found)

    @property
    def has_schedule_function(self) -> bool:
        return self.next_run_at is not None

    def next_run(self, local_now: datetime, practice: Practice | None = None) -> datetime | None:
        """The next scheduled run time, in the practice's local time; None for a function
        job that is off (or that cannot say)."""
        if not isinstance(self.due_at, time):
            if self.next_run_at is None or practice is None:
                return None
            return self.next_run_at(practice, local_now)
        today = datetime.combine(local_now.date(), self.due_at, tzinfo=local_now.tzinfo)
        return today if local_now < today else today + timedelta(days=1)


_registry: dict[str, Job] = {}


def register_job(
    name: str,
    label: str,
    due_at: time | DueFunction,
    run: JobFunction,
    *,
    next_run_at: NextRunFunction | None = None,
    catch_up_days: int = CATCH_UP_DAYS,
) -> Job:
    if catch_up_days < 1:
        raise ValueError("catch_up_days counts today: it is at least 1.")
    job = Job(name=name, label=label, due_at=due_at, run=run, next_run_at=next_run_at, catch_up_days=catch_up_days)
    _registry[name] = job
    return job


def unregister_job(name: str) -> None:
    _registry.pop(name, None)


def registered_jobs() -> list[Job]:
    return sorted(_registry.values(), key=lambda job: job.label)


def get_job(name: str) -> Job | None:
    return _registry.get(name)


class JobPartlyFailed(Exception):
    """Raised by a job that did part of its work and failed on the rest (one invoice of
    many): the run is recorded failed with ``counts`` and the message, and later ticks try
    it again (the job must then redo only what is left)."""

    def __init__(self, message: str, counts: dict[str, int]) -> None:
        super().__init__(message)
        self.counts = counts


def _wants_a_run(run: JobRun | None, now: datetime) -> bool:
    if run is None:
        return True
    if run.status == JobRun.Status.FAILED:
        return run.attempts < MAX_ATTEMPTS
    if run.status == JobRun.Status.RUNNING:
        return run.started_at < now - stale_after()
    return False


def _under_way(run: JobRun | None, now: datetime) -> bool:
    return run is not None and run.status == JobRun.Status.RUNNING and run.started_at >= now - stale_after()


def _first_run_date(practice: Practice, job_name: str) -> date | None:
    return (
        JobRun.objects.filter(practice=practice, job=job_name)
        .order_by("local_date")
        .values_list("local_date", flat=True)
        .first()
    )


def jobs_due() -> list[tuple[int, str, date]]:
    """(practice id, job name, local date) of every run due now and not done yet, each
    practice's job's dates oldest first: today's run (or the function job's current one)
    and the runs missed on the last days (see the module's note on catch-up).

    A day of a job waits while an earlier day of the same job is still under way, so that
    days run in order (invoice creation for a day takes that day's items, and a later day
    run first would take them too)."""
    jobs = registered_jobs()
    if not jobs:
        return []
    now = timezone.now()
    due: list[tuple[int, str, date]] = []
    for practice in Practice.objects.order_by("pk"):
        local_now = timezone.localtime(now, practice.tzinfo)
        wanted: list[tuple[Job, list[date], date | None]] = []
        for job in jobs:
            current = job.due(practice, local_now)
            missed = [day for day in job.missed_dates(practice, local_now) if day != current]
            if current is not None or missed:
                wanted.append((job, missed, current))
        if not wanted:
            continue
        oldest = min(min(missed, default=current or date.max) for _job, missed, current in wanted)
        runs = {
            (run.job, run.local_date): run
            for run in JobRun.objects.filter(
                practice=practice, job__in=[job.name for job, _, _ in wanted], local_date__gte=oldest
            )
        }
        for job, missed, current in wanted:
            first: list[date | None] = []  # the job's first run for the practice, read when needed
            days: list[date] = []
            for day in sorted({*missed, *([current] if current else [])}):
                run = runs.get((job.name, day))
                if _under_way(run, now):
                    break
                if day != current and run is None:
                    # A day missed counts only once the job had run for the practice before it.
                    if not first:
                        first.append(_first_run_date(practice, job.name))
                    if first[0] is None or first[0] >= day:
                        continue
                if _wants_a_run(run, now):
                    days.append(day)
            due.extend((practice.pk, job.name, day) for day in days)
    return due


def _claim(practice_id: int, job_name: str, local_date: date) -> JobRun | None:
    """The JobRun row this worker now owns (status running), or None if the run is not ours."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                return JobRun.objects.create(
                    practice_id=practice_id, job=job_name, local_date=local_date, started_at=timezone.now()
                )
        except IntegrityError:
            pass
        run = JobRun.objects.select_for_update().get(practice_id=practice_id, job=job_name, local_date=local_date)
        # The clock is read once the row is ours: a claim that waited for another worker's
        # insert or lock judges that worker's run by the time it got the row, not by a time
        # taken before the other run began.
        now = timezone.now()
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
    except JobPartlyFailed as exc:
        logger.warning("Job %s for practice %s on %s partly failed: %s", job_name, practice_id, local_date, exc)
        run.status = JobRun.Status.FAILED
        run.error = str(exc)[:2000]
        run.counts = dict(exc.counts)
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


def job_run_in_order(*, practice_id: int, job_name: str, local_dates: Iterable[date]) -> list[JobRun]:
    """Run one job for several local days of a practice (a catch-up), oldest first, each
    through its own claim. Stops at a day another worker is still running: the later days
    wait for a later tick, so a job's days never run out of order. Returns the runs made."""
    made: list[JobRun] = []
    for day in sorted(set(local_dates)):
        run = job_run(practice_id=practice_id, job_name=job_name, local_date=day)
        if run is not None:
            made.append(run)
            continue
        if JobRun.objects.filter(
            practice_id=practice_id, job=job_name, local_date=day, status=JobRun.Status.RUNNING
        ).exists():
            break
    return made


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
NEXT_RUN_OFF = "Off"
NEXT_RUN_WHEN_DUE = "When due"


def automation_rows(practice: Practice) -> list[dict[str, Any]]:
    """Each registered job with its latest runs for ``practice`` (each with its counts as
    (words, number) pairs) and its next run time in the practice's local time, or why
    there is none ("Off": a setting turned the job off). One query per job: a handful."""
    local_now = practice.local_now()
    rows = []
    for job in registered_jobs():
        runs = JobRun.objects.filter(practice=practice, job=job.name).order_by("-local_date")[:RUNS_SHOWN]
        next_run = job.next_run(local_now, practice)
        rows.append(
            {
                "job": job,
                "runs": [(run, _count_words(run.counts)) for run in runs],
                "next_run": timezone.localtime(next_run, practice.tzinfo) if next_run is not None else None,
                "next_run_label": NEXT_RUN_OFF if job.has_schedule_function else NEXT_RUN_WHEN_DUE,
            }
        )
    return rows


def _count_words(counts: Any) -> list[tuple[str, Any]]:
    if not isinstance(counts, dict):
        return []
    # In name order: the database keeps a JSON object's keys in an order of its own.
    return [(str(key).replace("_", " "), value) for key, value in sorted(counts.items())]
