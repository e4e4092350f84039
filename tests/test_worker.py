"""A real Celery worker against the real Redis: inviting staff sends the email through it.

The worker runs in a thread of this process (pool "solo"), so it shares Django's locmem
outbox with the test. It listens on a queue of its own, so that no other worker using the
same Redis (another test run, ``make run``) can take the job.
"""

from __future__ import annotations

import time

import pytest
from django.core import mail

from practice.celery import app as celery_app
from practice.models import StaffInvite
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
