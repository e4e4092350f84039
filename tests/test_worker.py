"""A real Celery worker against the real Redis: inviting staff sends the email through it.

The worker runs in a thread of this process (pool "solo"), so it shares Django's locmem
outbox with the test. It listens on a queue of its own, so that no other worker using the
same Redis (another test run, ``make run``) can take the job.
"""

from __future__ import annotations

import threading
import time
from datetime import time as time_of_day

import pytest
from django.core import mail

from practice import jobs
from practice.celery import app as celery_app
from practice.models import JobRun, StaffInvite
from practice.tasks import jobs_tick
from tests.helpers import signed_in
from tests.workers import real_worker

TASK = "practice.tasks.email_send"


@pytest.fixture
def worker():
    with real_worker(TASK) as running:
        yield running


def wait_for_mail(count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_an_invitation_email_is_sent_by_the_worker(tenant, worker):
    # Given the owner on Settings > Staff, with tasks going to the real worker
    assert celery_app.conf.task_always_eager is False
    owner = signed_in(tenant.owner)
    # When she invites a clinician
    response = owner.post(
        f"/p/{tenant.practice.slug}/settings/staff/", {"email": "via.worker@example.test", "role": "clinician"}
    )
    assert response.status_code == 302
    # Then the request does not send the email itself: the worker does, shortly after
    wait_for_mail(1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["via.worker@example.test"]
    assert "Harbour Street Therapy" in message.subject
    assert "/invite/" in message.body
    assert StaffInvite.objects.get().email == "via.worker@example.test"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_app_jobs")
def test_a_jobs_tick_runs_a_due_job_on_the_worker(tenant):
    # Given a job due at midnight and the tick and the job run going to a real worker
    ran_in: list[str] = []

    def count_it(practice, local_date):
        ran_in.append(threading.current_thread().name)
        return {"counted": 1}

    jobs.register_job("test-worker-job", "Worker test job", time_of_day(0, 0), count_it)
    try:
        with real_worker("practice.tasks.jobs_tick", "practice.tasks.job_run"):
            # When beat's tick is sent
            jobs_tick.delay()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not JobRun.objects.filter(status="succeeded").exists():
                time.sleep(0.1)
    finally:
        jobs.unregister_job("test-worker-job")
    # Then the worker ran the job once for the practice's local day, not this thread
    run = JobRun.objects.get()
    assert (run.practice, run.job, run.local_date, run.status) == (
        tenant.practice,
        "test-worker-job",
        tenant.practice.local_today(),
        "succeeded",
    )
    assert run.counts == {"counted": 1}
    assert len(ran_in) == 1
    assert ran_in[0] != "MainThread"
