"""Billing work too long for a web request. Tasks take ids, load the rows and call a
service; nothing else (acks_late and reject-on-worker-lost are global settings)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from practice.actor import Actor
from practice.models import Practice, User

from .services import invoice_all_uninvoiced

INVOICE_ALL_JOB = "invoice_all"


@shared_task(name="billing.tasks.invoice_all_uninvoiced")
def invoice_all_uninvoiced_task(
    practice_id: int, actor_id: int | None, date_from: str, date_to: str, issue: bool, apply_credit: bool = True
) -> int:
    """Invoice all uninvoiced in the background. Safe to run twice (a redelivery after a
    lost worker): items already invoiced are no longer uninvoiced, so nothing is made twice."""
    practice = Practice.objects.get(pk=practice_id)
    user = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    # The biller who asked, or the job itself should they have been removed meanwhile.
    actor = Actor.of_user(user) if user is not None else Actor.system(INVOICE_ALL_JOB)
    invoices = invoice_all_uninvoiced(
        practice=practice,
        actor=actor,
        date_from=date.fromisoformat(date_from),
        date_to=date.fromisoformat(date_to),
        issue=issue,
        apply_credit=apply_credit,
    )
    return len(invoices)


@shared_task(name="billing.tasks.export_run")
def export_run_task(export_id: int) -> None:
    """Render a billing documents export. Safe to run twice (a done export is left alone)
    and to kill: the next run starts again from the row (billing.documents.export)."""
    from .documents.export import export_run

    export_run(export_id)


@shared_task(name="billing.tasks.exports_clean")
def exports_clean_task() -> int:
    """Delete every practice's exports older than their keeping time (for beat, daily)."""
    from .documents.export import exports_clean

    return exports_clean()
