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
