"""Payments' own rows: what Stripe told us and what we did about it, and each practice's
connected Stripe account."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from practice.models import Practice


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


class StripeAccount(models.Model):
    """A practice's Stripe Express account, as last read from Stripe (never from a redirect)."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Stripe connected"
        PENDING = "pending", "Pending verification"
        ACTION_REQUIRED = "action_required", "Action required"
        DISCONNECTED = "disconnected", "Disconnected"

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="stripe_account")
    stripe_account_id = models.CharField(max_length=255, unique=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements = models.JSONField(default=dict, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.stripe_account_id

    @property
    def status(self) -> StripeAccount.Status:
        if self.disconnected_at is not None:
            return self.Status.DISCONNECTED
        if self.charges_enabled:
            return self.Status.CONNECTED
        reqs: dict[str, Any] = self.requirements or {}
        due = list(reqs.get("currently_due") or []) + list(reqs.get("past_due") or [])
        if self.details_submitted and not due:
            return self.Status.PENDING
        return self.Status.ACTION_REQUIRED


class ConnectOnboarding(models.Model):
    """One click of Complete (or Continue) Stripe setup. Its id keys the idempotency of the
    Stripe calls the click makes, so a retried or repeated click creates no second account."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set on the click that created the account (blank until Stripe answered).
    creates_account = models.BooleanField(default=False)
    stripe_account_id = models.CharField(max_length=255, blank=True)
    account_link_url = models.URLField(max_length=1000, blank=True)
    account_link_expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"onboarding {self.pk} of {self.practice_id}"


class CheckoutAttempt(models.Model):
    """One Pay online of an invoice: the Checkout Session made for it and what became of it.

    Its id keys the session's idempotency (``checkout:<pk>:session``), so a retry or a
    double click is answered with the same session. It is settled from Stripe's own state
    (the session re-read on the return page, or checkout.session.completed), never from the
    browser's redirect. ``invoice_id`` is billing's invoice (payments keeps the id only)."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    invoice_id = models.BigIntegerField()
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    session_url = models.URLField(max_length=2000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["practice", "invoice_id"], name="checkout_attempt_invoice")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="checkout_attempt_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} of invoice {self.invoice_id} ({self.status})"


class StripePayment(models.Model):
    """An online payment as Stripe has it: the PaymentIntent, its charge, its Stripe status and
    the fee Stripe took, read from the charge's balance transaction (never computed here).

    Kept current by charge.succeeded, charge.updated and payment_intent.succeeded, each
    re-reading the PaymentIntent from Stripe, so a late or repeated event converges on the
    same row. Invariants: one row per (practice, PaymentIntent); ``fee`` and ``net`` are
    both known or both unknown (Stripe makes the balance transaction after the charge, and
    a known fee is never replaced by an unknown one), in ``currency``, the balance
    transaction's (the account's settlement currency), with ``net = amount - fee`` there.
    Billing's Payment with ``external_id`` = ``payment_intent_id`` is the money this
    describes; payments keeps the id only."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    # The account the charge was made on (a practice may later connect another).
    stripe_account_id = models.CharField(max_length=255)
    payment_intent_id = models.CharField(max_length=255)
    charge_id = models.CharField(max_length=255, blank=True)
    # The PaymentIntent's status as Stripe words it (succeeded, processing, canceled, ...).
    status = models.CharField(max_length=40)
    fee = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    net = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3)
    livemode = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "payment_intent_id"], name="stripe_payment_intent_once"),
            models.CheckConstraint(
                condition=models.Q(fee__isnull=True, net__isnull=True) | models.Q(fee__gte=0, net__isnull=False),
                name="stripe_payment_fee_and_net_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_intent_id} ({self.status})"
