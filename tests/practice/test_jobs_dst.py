"""The scheduler across local midnight and daylight-saving changes (issue 16 part 8): with
beat ticking every five minutes, a job due at 00:00 runs exactly once for each local date,
at that date's first tick and not before, on the 23-hour and 25-hour days of New York and
Auckland too; a job whose time is skipped (02:30 when clocks go forward) or happens twice
(01:30 when they go back) still runs once that day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from practice import jobs
from practice.models import JobRun
from practice.tasks import jobs_tick
from tests.factories import PracticeFactory

UTC = ZoneInfo("UTC")
TICK = timedelta(minutes=5)
NIGHT_HOURS = {23, 0, 1, 2, 3}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_app_jobs")]

JOB_TIMES = {"test-midnight": time(0, 0), "test-0130": time(1, 30), "test-0230": time(2, 30)}


@pytest.mark.parametrize(
    ("zone", "change_day", "hours"),
    [
        ("America/New_York", date(2026, 3, 8), 23),  # clocks forward at 02:00
        ("America/New_York", date(2026, 11, 1), 25),  # clocks back at 02:00
        ("Pacific/Auckland", date(2026, 4, 5), 25),  # clocks back at 03:00
        ("Pacific/Auckland", date(2026, 9, 27), 23),  # clocks forward at 02:00
    ],
)
def test_a_daily_job_runs_once_per_local_date_across_a_dst_change(zone, change_day, hours):
    tz = ZoneInfo(zone)
    midnight = datetime.combine(change_day, time.min, tzinfo=tz)
    next_midnight = datetime.combine(change_day + timedelta(days=1), time.min, tzinfo=tz)
    # The day under test is as long as the scenario says (instants compared in UTC)
    assert next_midnight.astimezone(UTC) - midnight.astimezone(UTC) == timedelta(hours=hours)

    practices = {
        "America/New_York": PracticeFactory(slug="new-york", timezone="America/New_York"),
        "Pacific/Auckland": PracticeFactory(slug="auckland", timezone="Pacific/Auckland"),
    }
    ran: dict[str, list[tuple[str, date, datetime]]] = {name: [] for name in JOB_TIMES}

    def recorder(name):
        def run(practice, local_date):
            ran[name].append((practice.timezone, local_date, timezone.now()))
            return {}

        return run

    for name, at in JOB_TIMES.items():
        jobs.register_job(name, name, at, recorder(name))

    start = datetime.combine(change_day - timedelta(days=1), time(22, 0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(change_day + timedelta(days=2), time(2, 0), tzinfo=tz).astimezone(UTC)
    # Beat was running before: each job has had its runs up to the day the span starts in
    for practice in practices.values():
        first_day = start.astimezone(practice.tzinfo).date()
        for name in JOB_TIMES:
            for back in range(jobs.CATCH_UP_DAYS):
                JobRun.objects.create(
                    practice=practice, job=name, local_date=first_day - timedelta(days=back), status="succeeded"
                )
    with time_machine.travel(start, tick=False) as traveller:
        now = start
        while now <= end:
            jobs_tick()
            # Beat's five minutes through the night in the zone under test, where the dates
            # and the clocks change; hourly through its day, to keep the test short (on the
            # hour: the other zone's midnight is a tick too).
            step = TICK if now.astimezone(tz).hour in NIGHT_HOURS else timedelta(hours=1)
            traveller.shift(step)
            now += step

    for zone_name in practices:
        ptz = ZoneInfo(zone_name)
        # Every local midnight of this practice inside the span, as an instant
        midnights = []
        day = start.astimezone(ptz).date()
        while (instant := datetime.combine(day, time.min, tzinfo=ptz).astimezone(UTC)) <= end:
            if instant >= start:
                midnights.append((day, instant))
            day += timedelta(days=1)
        midnight_runs = [(d, at) for z, d, at in ran["test-midnight"] if z == zone_name]
        # Once per local date, at that date's 00:00 (the tick on it), never before
        assert midnight_runs == midnights
        for name in ("test-0130", "test-0230"):
            runs = [(d, at) for z, d, at in ran[name] if z == zone_name]
            dates = [d for d, _at in runs]
            assert len(dates) == len(set(dates)), f"{name} ran twice on a day in {zone_name}"
            for day, at in runs:
                local = at.astimezone(ptz)
                assert local.date() == day
                assert local.time() >= JOB_TIMES[name], f"{name} ran before its time in {zone_name}"
        # the two jobs inside the night ran on the change day itself in the zone under test
        if zone_name == zone:
            for name in ("test-0130", "test-0230"):
                assert [d for z, d, _at in ran[name] if z == zone and d == change_day] == [change_day]
