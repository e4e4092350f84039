"""Catch-up (issue 16 part 1): when beat or the workers were down at a job's time, the next
tick runs the days missed, within the last few local days, oldest first and each once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from practice import jobs
from practice.models import JobRun
from practice.tasks import jobs_tick
from tests.factories import PracticeFactory

UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_app_jobs")]

# Wednesday 2 December 2026, 07:00 in New York (12:00 UTC): the 06:00 job is due today.
WEDNESDAY = date(2026, 12, 2)
WEDNESDAY_7AM = datetime(2026, 12, 2, 7, 0, tzinfo=NEW_YORK)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[date] = []

    def __call__(self, practice, local_date):
        self.calls.append(local_date)
        return {"done": 1}


@pytest.fixture
def practice():
    return PracticeFactory(slug="new-york", timezone="America/New_York")


@pytest.fixture
def morning():
    calls = Recorder()
    jobs.register_job("test-morning", "Morning test job", time(6, 0), calls)
    return calls


def days_back(n: int) -> date:
    return WEDNESDAY - timedelta(days=n)


def ran(practice, *days: date, status: str = "succeeded") -> None:
    for day in days:
        JobRun.objects.create(practice=practice, job="test-morning", local_date=day, status=status)


def due_days(practice) -> list[date]:
    return [day for pk, name, day in jobs.jobs_due() if pk == practice.pk and name == "test-morning"]


def test_days_missed_while_down_run_at_the_next_tick_oldest_first_and_once(practice, morning):
    # Given the job ran on Saturday, and the machine was off from Sunday to Wednesday morning
    ran(practice, days_back(4))
    with time_machine.travel(WEDNESDAY_7AM, tick=False):
        # Then the first tick after it is back runs Monday, Tuesday and Wednesday, in that
        # order (Sunday is further back than the catch-up window of three local days)
        assert due_days(practice) == [days_back(2), days_back(1), WEDNESDAY]
        jobs_tick.delay()
        jobs_tick.delay()
    assert morning.calls == [days_back(2), days_back(1), WEDNESDAY]
    runs = JobRun.objects.filter(practice=practice).order_by("local_date")
    assert [(r.local_date, r.status) for r in runs] == [
        (days_back(4), "succeeded"),
        (days_back(2), "succeeded"),
        (days_back(1), "succeeded"),
        (WEDNESDAY, "succeeded"),
    ]


def test_before_todays_time_only_the_missed_days_are_due(practice, morning):
    ran(practice, days_back(3))
    with time_machine.travel(datetime(2026, 12, 2, 5, 0, tzinfo=NEW_YORK), tick=False):
        assert due_days(practice) == [days_back(2), days_back(1)]


def test_a_practice_or_job_that_never_ran_starts_today(practice, morning):
    with time_machine.travel(WEDNESDAY_7AM, tick=False):
        assert due_days(practice) == [WEDNESDAY]
        jobs_tick.delay()
    assert morning.calls == [WEDNESDAY]
    # and the next days, seeing Wednesday as the first run, do not reach back before it
    with time_machine.travel(WEDNESDAY_7AM + timedelta(days=2), tick=False):
        assert due_days(practice) == [WEDNESDAY + timedelta(days=1), WEDNESDAY + timedelta(days=2)]


def test_a_later_day_waits_while_an_earlier_one_is_under_way(practice, morning):
    ran(practice, days_back(3))
    with time_machine.travel(WEDNESDAY_7AM, tick=False) as traveller:
        # Monday's run is under way on another worker
        JobRun.objects.create(practice=practice, job="test-morning", local_date=days_back(2))
        assert due_days(practice) == []
        # and a task carrying Monday to Wednesday (queued by an earlier tick) stops there too
        jobs.job_run_in_order(
            practice_id=practice.pk, job_name="test-morning", local_dates=[WEDNESDAY, days_back(1), days_back(2)]
        )
        assert morning.calls == []
        # Once that run is judged lost, the tick runs all three in order
        traveller.shift(jobs.stale_after() + timedelta(minutes=1))
        jobs_tick.delay()
    assert morning.calls == [days_back(2), days_back(1), WEDNESDAY]


def test_a_failed_missed_day_is_retried_and_the_days_after_it_still_run(practice, morning):
    ran(practice, days_back(3))
    JobRun.objects.create(practice=practice, job="test-morning", local_date=days_back(2), status="failed", attempts=1)
    with time_machine.travel(WEDNESDAY_7AM, tick=False):
        jobs_tick.delay()
    assert morning.calls == [days_back(2), days_back(1), WEDNESDAY]
    assert JobRun.objects.get(practice=practice, local_date=days_back(2)).attempts == 2


def test_a_job_registered_without_catch_up_runs_today_only(practice):
    calls = Recorder()
    jobs.register_job("test-nightly", "Nightly test job", time(0, 0), calls, catch_up_days=1)
    JobRun.objects.create(practice=practice, job="test-nightly", local_date=days_back(5))
    with time_machine.travel(WEDNESDAY_7AM, tick=False):
        jobs_tick.delay()
    assert calls.calls == [WEDNESDAY]


def test_catch_up_days_below_one_is_refused():
    with pytest.raises(ValueError):
        jobs.register_job("test-bad", "Bad", time(0, 0), Recorder(), catch_up_days=0)
    assert jobs.get_job("test-bad") is None


def test_a_function_job_catches_up_the_run_days_it_names(practice):
    """A job due from local midnight for the day before, on Mondays and Tuesdays only (as
    invoice creation's weekly or daily cadence names its days)."""
    calls = Recorder()

    def day_before_if_monday_or_tuesday(practice, local_now):
        before = local_now.date() - timedelta(days=1)
        return before if before.weekday() in (0, 1) else None

    jobs.register_job("test-end-of-day", "End of day test job", day_before_if_monday_or_tuesday, calls)
    JobRun.objects.create(practice=practice, job="test-end-of-day", local_date=date(2026, 11, 24))
    # Thursday 3 December, 01:00 in New York: Tuesday's run (due at Wednesday's midnight) and
    # Monday's (due at Tuesday's) were missed; Wednesday is not a run day
    with time_machine.travel(datetime(2026, 12, 3, 1, 0, tzinfo=NEW_YORK), tick=False):
        jobs_tick.delay()
    assert calls.calls == [date(2026, 11, 30), date(2026, 12, 1)]


def test_the_tick_queues_one_task_per_practice_and_job_with_its_days(practice, morning, monkeypatch):
    ran(practice, days_back(3))
    other = PracticeFactory(slug="other", timezone="America/New_York")
    queued: list[tuple] = []
    monkeypatch.setattr("practice.tasks.job_run.delay", lambda *args: queued.append(args))
    with time_machine.travel(WEDNESDAY_7AM, tick=False):
        jobs_tick()
    assert sorted(queued) == sorted(
        [
            (practice.pk, "test-morning", "2026-11-30", "2026-12-01", "2026-12-02"),
            (other.pk, "test-morning", "2026-12-02"),
        ]
    )
