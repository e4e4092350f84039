"""Housekeeping jobs run by Celery beat."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="practice.tasks.sessions_clear_expired")
def sessions_clear_expired() -> None:
    call_command("clearsessions")


@shared_task(name="practice.tasks.send_staff_invite_email")
def send_staff_invite_email(invite_id: int, token: str) -> None:
    from .emails import staff_invite_email_send
    from .models import StaffInvite

    invite = StaffInvite.objects.select_related("practice", "invited_by").filter(pk=invite_id).first()
    if invite is None or not invite.is_pending:
        return
    staff_invite_email_send(invite=invite, token=token)


@shared_task(name="practice.tasks.sign_in_records_prune")
def sign_in_records_prune() -> None:
    from .services import sign_in_records_prune as prune

    prune()
