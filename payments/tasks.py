"""Payments' background work. Tasks take ids and call a service (acks_late and
reject-on-worker-lost are global settings, so a killed worker's job is redelivered)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="payments.tasks.webhook_event_process")
def webhook_event_process_task(event_id: int) -> str | None:
    """Handle one stored Stripe event. Safe twice: a handled event is left alone, and one
    another worker holds is skipped."""
    from .webhooks import webhook_event_process

    return webhook_event_process(event_id)


@shared_task(name="payments.tasks.webhook_events_sweep")
def webhook_events_sweep_task() -> int:
    """Queue again the events whose job was lost, and failed ones due another try (beat)."""
    from .webhooks import webhook_events_due

    due = webhook_events_due()
    for event_id in due:
        webhook_event_process_task.delay(event_id)
    return len(due)


@shared_task(name="payments.tasks.autopay_charge")
def autopay_charge_task(charge_id: int) -> str:
    """Charge one client's AutoPay night, or finish what an earlier try left (the
    ``autopay`` queue). Safe twice: a finished row is left alone."""
    from .autopay_night import autopay_charge_process

    return autopay_charge_process(charge_id=charge_id).status


@shared_task(name="payments.tasks.autopay_sweep")
def autopay_sweep_task() -> int:
    """Queue again the AutoPay charges a lost task left unfinished (beat)."""
    from .autopay_night import autopay_charges_unfinished

    found = autopay_charges_unfinished()
    for charge_id in found:
        autopay_charge_task.delay(charge_id)
    return len(found)
