"""Housekeeping jobs run by Celery beat, and the task that sends emails."""

from celery import Task, shared_task
from django.core.management import call_command


@shared_task(name="practice.tasks.sessions_clear_expired")
def sessions_clear_expired() -> None:
    call_command("clearsessions")


@shared_task(bind=True, name="practice.tasks.email_send", max_retries=None)
def email_send(self: Task, email_id: int) -> None:
    from .mail import outgoing_email_send

    # The service counts attempts and decides whether another is due, so Celery's own
    # retry limit is off; a retry that is lost is re-queued by emails_sweep.
    delay = outgoing_email_send(email_id=email_id)
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(name="practice.tasks.emails_sweep")
def emails_sweep() -> None:
    from .mail import outgoing_emails_due

    for email_id in outgoing_emails_due():
        email_send.delay(email_id)


@shared_task(name="practice.tasks.send_staff_invite_email")
def send_staff_invite_email(invite_id: int, token: str) -> None:
    """Invitations queued before they moved to email_send: kept so that a job in the broker
    during an upgrade still goes out (once: its email key is the invite's)."""
    from django.db import transaction

    from .emails import staff_invite_email_queue
    from .models import StaffInvite

    with transaction.atomic():
        invite = StaffInvite.objects.select_related("practice", "invited_by").filter(pk=invite_id).first()
        if invite is not None and invite.is_pending:
            staff_invite_email_queue(invite=invite, token=token)


@shared_task(name="practice.tasks.password_reset_email")
def password_reset_email(reset_request_id: int) -> None:
    from django.db import transaction

    from .emails import password_reset_email_queue
    from .models import PasswordResetRequest

    with transaction.atomic():
        # A request pruned before its task ran is past its window: its link would be stale news.
        reset_request = PasswordResetRequest.objects.filter(pk=reset_request_id).first()
        if reset_request is not None:
            password_reset_email_queue(reset_request=reset_request)


@shared_task(name="practice.tasks.sign_in_records_prune")
def sign_in_records_prune() -> None:
    from .services import sign_in_records_prune as prune

    prune()


@shared_task(name="practice.tasks.jobs_tick")
def jobs_tick() -> None:
    """Queue every scheduled job due now in each practice's local day (practice.jobs): one
    task per practice and job, with its days oldest first (more than one after downtime)."""
    from .jobs import jobs_due

    days: dict[tuple[int, str], list[str]] = {}
    for practice_id, job_name, local_date in jobs_due():
        days.setdefault((practice_id, job_name), []).append(local_date.isoformat())
    for (practice_id, job_name), dates in days.items():
        job_run.delay(practice_id, job_name, *dates)


@shared_task(name="practice.tasks.job_run")
def job_run(practice_id: int, job_name: str, *local_dates: str) -> None:
    """Run a job for one or more local days of a practice, oldest first. (A task queued
    before catch-up existed carries one day: the same call.)"""
    from datetime import date

    from .jobs import job_run_in_order

    job_run_in_order(
        practice_id=practice_id, job_name=job_name, local_dates=[date.fromisoformat(day) for day in local_dates]
    )
