"""Settings > Automations: each job's last runs, its next run in local time, and Run now."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from practice import jobs
from practice.models import AuditLog, JobRun, Role
from tests.helpers import signed_in, url
from tests.practice.helpers import page_text


@pytest.fixture
def marked():
    calls: list[tuple[int, date]] = []

    def mark(practice, local_date):
        calls.append((practice.pk, local_date))
        return {"marked": len(calls)}

    jobs.register_job("test-overdue", "Mark overdue (test)", time(6, 0), mark)
    yield calls
    jobs.unregister_job("test-overdue")


def run_now_url(tenant) -> str:
    return url(tenant, "automation_run_now", job_name="test-overdue")


@pytest.mark.parametrize(
    ("role", "status"), [(Role.OWNER, 200), (Role.ADMIN, 200), (Role.BILLER, 403), (Role.CLINICIAN, 403)]
)
def test_automations_are_open_to_owner_and_admin_only(tenant, marked, role, status):
    client = signed_in(tenant.member(role))
    assert client.get(url(tenant, "automations")).status_code == status
    assert client.post(run_now_url(tenant)).status_code in ((302,) if status == 200 else (403,))
    assert len(marked) == (1 if status == 200 else 0)


def test_run_now_twice_runs_once_and_says_so(tenant, marked):
    owner = signed_in(tenant.owner)
    first = owner.post(run_now_url(tenant), follow=True)
    today = tenant.practice.local_today()
    assert f"Mark overdue (test) ran for {today.isoformat()}." in page_text(first)
    second = owner.post(run_now_url(tenant), follow=True)
    assert f"Mark overdue (test) has already run today ({today.isoformat()})" in page_text(second)
    assert marked == [(tenant.practice.pk, today)]
    run = JobRun.objects.get()
    assert (run.practice, run.local_date, run.status, run.counts) == (
        tenant.practice,
        today,
        "succeeded",
        {"marked": 1},
    )
    assert AuditLog.objects.filter(practice=tenant.practice, action="job.run_now").count() == 1


def test_the_page_shows_this_practice_runs_and_the_next_run_in_local_time(tenant, other_tenant, marked):
    tenant.practice.timezone = "Pacific/Auckland"
    tenant.practice.save(update_fields=["timezone"])
    JobRun.objects.create(
        practice=tenant.practice,
        job="test-overdue",
        local_date=date(2026, 12, 1),
        status="succeeded",
        counts={"marked": 4},
    )
    JobRun.objects.create(
        practice=other_tenant.practice,
        job="test-overdue",
        local_date=date(2026, 11, 30),
        status="failed",
        error="Twin practice's failure",
    )
    # 2026-12-02 10:30 UTC is 23:30 on 2 December in Auckland: next run 06:00 on 3 December
    with time_machine.travel(datetime(2026, 12, 2, 10, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        page = page_text(signed_in(tenant.admin).get(url(tenant, "automations")))
    assert "<h2" in page and "Mark overdue (test)" in page
    assert "Next run: " in page
    assert 'datetime="2026-12-03T06:00:00+13:00">2026-12-03 06:00</time>' in page
    assert "2026-12-01" in page and "marked: 4" in page
    assert "Twin practice" not in page and "2026-11-30" not in page


def test_run_now_of_an_unknown_job_is_404(tenant):
    owner = signed_in(tenant.owner)
    assert owner.post(url(tenant, "automation_run_now", job_name="no-such-job")).status_code == 404
    assert not JobRun.objects.exists()
