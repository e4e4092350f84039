"""Scheduled jobs (practice.jobs): due in each practice's local day, run once per local day."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from practice import jobs
from practice.models import JobRun
from practice.tasks import jobs_tick
from tests.factories import PracticeFactory

UTC = ZoneInfo("UTC")

pytestmark = pytest.mark.usefixtures("no_app_jobs")


class Recorder:
    """A job function that records each call (practice slug, local date)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, date]] = []
        self.fail = False

    def __call__(self, practice, local_date):
        self.calls.append((practice.slug, local_date))
        if self.fail:
            raise RuntimeError("the ledger is locked")
        return {"marked": 2}


@pytest.fixture
def recorder():
    calls = Recorder()
    jobs.register_job("test-morning", "Morning test job", time(6, 0), calls)
    yield calls
    jobs.unregister_job("test-morning")


@pytest.fixture
def zones(db):
    return (
        PracticeFactory(slug="new-york", timezone="America/New_York"),
        PracticeFactory(slug="auckland", timezone="Pacific/Auckland"),
    )


def at(utc: str):
    return time_machine.travel(datetime.fromisoformat(utc).replace(tzinfo=UTC), tick=False)


def test_a_job_is_due_only_after_its_local_time_in_each_zone(zones, recorder):
    new_york, auckland = zones
    # 2026-12-02 10:30 UTC is 05:30 in New York (not yet due) and 23:30 in Auckland (due, 2 Dec)
    with at("2026-12-02T10:30:00"):
        assert jobs.jobs_due() == [(auckland.pk, "test-morning", date(2026, 12, 2))]
    # 11:05 UTC is 06:05 in New York (due, 2 Dec) and 00:05 on 3 December in Auckland: the
    # 2 December run is past, the 3 December one not yet due
    with at("2026-12-02T11:05:00"):
        assert jobs.jobs_due() == [(new_york.pk, "test-morning", date(2026, 12, 2))]
    # 17:05 UTC: 12:05 in New York, 06:05 on 3 December in Auckland
    with at("2026-12-02T17:05:00"):
        assert set(jobs.jobs_due()) == {
            (new_york.pk, "test-morning", date(2026, 12, 2)),
            (auckland.pk, "test-morning", date(2026, 12, 3)),
        }


def test_the_tick_runs_each_due_job_once_across_auckland_midnight(zones, recorder):
    # 10:30 UTC: Auckland's 23:30 on 2 December; New York is not due yet
    with at("2026-12-02T10:30:00"):
        jobs_tick.delay()
        jobs_tick.delay()
    assert recorder.calls == [("auckland", date(2026, 12, 2))]
    # 11:05 UTC: Auckland has passed midnight (00:05 on 3 Dec, before 06:00): nothing new there;
    # New York is at 06:05 on 2 December
    with at("2026-12-02T11:05:00"):
        jobs_tick.delay()
    assert recorder.calls[1:] == [("new-york", date(2026, 12, 2))]
    # 17:05 UTC is 06:05 on 3 December in Auckland: its next day's run
    with at("2026-12-02T17:05:00"):
        jobs_tick.delay()
        jobs_tick.delay()
    assert recorder.calls[2:] == [("auckland", date(2026, 12, 3))]
    runs = JobRun.objects.order_by("practice__slug", "local_date")
    assert [(r.practice.slug, r.local_date, r.status, r.counts) for r in runs] == [
        ("auckland", date(2026, 12, 2), "succeeded", {"marked": 2}),
        ("auckland", date(2026, 12, 3), "succeeded", {"marked": 2}),
        ("new-york", date(2026, 12, 2), "succeeded", {"marked": 2}),
    ]


def test_a_due_function_decides_the_local_date(zones, recorder):
    def first_of_month(practice, local_now):
        return local_now.date() if local_now.day == 1 else None

    jobs.register_job("test-monthly", "Monthly test job", first_of_month, recorder)
    try:
        # 2026-11-30 12:00 UTC is 1 December 01:00 in Auckland and 30 November in New York
        with at("2026-11-30T12:00:00"):
            monthly = [due for due in jobs.jobs_due() if due[1] == "test-monthly"]
        assert monthly == [(zones[1].pk, "test-monthly", date(2026, 12, 1))]
    finally:
        jobs.unregister_job("test-monthly")


def test_a_failed_run_is_retried_by_later_ticks_up_to_the_limit(zones, recorder):
    recorder.fail = True
    with at("2026-12-02T11:05:00"):
        for _ in range(jobs.MAX_ATTEMPTS + 2):
            jobs_tick.delay()
    run = JobRun.objects.get(practice__slug="new-york")
    assert run.status == "failed"
    assert run.attempts == jobs.MAX_ATTEMPTS
    assert run.error == "RuntimeError: the ledger is locked"
    assert recorder.calls.count(("new-york", date(2026, 12, 2))) == jobs.MAX_ATTEMPTS
    # A later tick after the fault is fixed does not run it a fourth time that day
    recorder.fail = False
    with at("2026-12-02T12:05:00"):
        jobs_tick.delay()
    assert recorder.calls.count(("new-york", date(2026, 12, 2))) == jobs.MAX_ATTEMPTS


def test_a_run_left_running_by_a_dead_worker_is_run_again_after_the_timeout(zones, recorder):
    new_york = zones[0]
    with at("2026-12-02T11:05:00"):
        JobRun.objects.create(practice=new_york, job="test-morning", local_date=date(2026, 12, 2))
        jobs_tick.delay()
    assert ("new-york", date(2026, 12, 2)) not in recorder.calls
    with at("2026-12-02T11:05:00") as traveller:
        traveller.shift(jobs.stale_after() + timedelta(minutes=1))
        jobs_tick.delay()
    assert recorder.calls.count(("new-york", date(2026, 12, 2))) == 1
    run = JobRun.objects.get(practice=new_york)
    assert (run.status, run.attempts) == ("succeeded", 2)


def test_running_a_day_twice_runs_it_once(zones, recorder):
    new_york = zones[0]
    first = jobs.job_run(practice_id=new_york.pk, job_name="test-morning", local_date=date(2026, 12, 2))
    second = jobs.job_run(practice_id=new_york.pk, job_name="test-morning", local_date=date(2026, 12, 2))
    assert first is not None and first.status == "succeeded"
    assert second is None
    assert recorder.calls == [("new-york", date(2026, 12, 2))]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_make_one():
    practice = PracticeFactory(slug="at-once", timezone="America/New_York")
    started = threading.Event()
    release = threading.Event()
    calls: list[date] = []

    def slow(practice, local_date):
        calls.append(local_date)
        started.set()
        assert release.wait(30)
        return {"done": 1}

    jobs.register_job("test-slow", "Slow test job", time(0, 0), slow)
    results = []

    def in_thread():
        try:
            results.append(jobs.job_run(practice_id=practice.pk, job_name="test-slow", local_date=date(2026, 12, 2)))
        finally:
            connection.close()

    worker = threading.Thread(target=in_thread)
    try:
        worker.start()
        assert started.wait(30)
        # While the first run is under way, a second one for the same day does nothing
        assert jobs.job_run(practice_id=practice.pk, job_name="test-slow", local_date=date(2026, 12, 2)) is None
    finally:
        release.set()
        worker.join(30)
        jobs.unregister_job("test-slow")
    assert calls == [date(2026, 12, 2)]
    assert results[0].status == "succeeded"
    assert JobRun.objects.get().counts == {"done": 1}


def test_the_next_run_is_in_the_practice_local_time(zones, recorder):
    job = jobs.get_job("test-morning")
    assert job is not None
    with at("2026-12-02T10:30:00"):
        ny_now = timezone.localtime(timezone.now(), zones[0].tzinfo)
        akl_now = timezone.localtime(timezone.now(), zones[1].tzinfo)
        assert job.next_run(ny_now).isoformat() == "2026-12-02T06:00:00-05:00"
        assert job.next_run(akl_now).isoformat() == "2026-12-03T06:00:00+13:00"
