"""Payments' own rows: what Stripe told us and what we did about it."""

from __future__ import annotations

from django.db import models


class WebhookEvent(models.Model):
    """One Stripe event, stored once however often Stripe delivers it.

    Invariants: ``stripe_id`` is unique (a redelivery finds the row and changes nothing);
    ``processed_at`` is set exactly when the status is processed or ignored. ``account`` is
    the connected account the event belongs to, blank for the platform's own events.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=255)
    account = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    # A failed event with attempts left is tried again from this time on (by the sweeper).
    retry_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            # The sweeper's queries: events still waiting, and failed ones due another try.
            models.Index(fields=["received_at"], condition=models.Q(status="received"), name="webhook_event_waiting"),
            models.Index(fields=["retry_at"], condition=models.Q(status="failed"), name="webhook_event_retry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["processed", "ignored"], processed_at__isnull=False)
                | models.Q(status__in=["received", "failed"], processed_at__isnull=True),
                name="webhook_event_processed_at_with_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.type} ({self.status})"
