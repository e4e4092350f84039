"""Payments' own rows: what Stripe told us and what we did about it, and each practice's
connected Stripe account."""

from __future__ import annotations

from decimal import Decimal
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


class StripeOwnKeys(models.Model):
    """A self-hosted practice's own Stripe keys, used instead of a connected account.

    The practice's StripeAccount holds the id of the account the secret key belongs to (read
    with that key, GET /v1/account, before the keys were saved), so the rest of the app goes
    on naming an account id; the gateway calls for that account with this secret key and no
    Stripe-Account header (``payments.own_keys.own_secret_key``, registered in apps.py).

    The secret key, the publishable key and the webhook signing secret are stored encrypted
    (``practice.field_encryption``, keyed by FIELD_ENCRYPTION_KEY): the columns hold tokens,
    never a key. The ``*_last4`` columns let the page show them masked without decrypting.
    ``webhook_token`` names the practice's own webhook endpoint (/stripe/webhook/<token>/),
    whose events are verified with its webhook secret; blank until the practice enters it.
    """

    account = models.OneToOneField(StripeAccount, on_delete=models.CASCADE, related_name="own_keys")
    livemode = models.BooleanField()
    secret_key_encrypted = models.TextField()
    secret_key_last4 = models.CharField(max_length=4)
    publishable_key_encrypted = models.TextField()
    publishable_key_last4 = models.CharField(max_length=4)
    webhook_secret_encrypted = models.TextField(blank=True)
    webhook_secret_last4 = models.CharField(max_length=4, blank=True)
    webhook_token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Stripe own keys"
        verbose_name_plural = "Stripe own keys"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(secret_key_encrypted="") & ~models.Q(publishable_key_encrypted=""),
                name="stripe_own_keys_keys_present",
            ),
            # The masked form and the secret come and go together.
            models.CheckConstraint(
                condition=models.Q(webhook_secret_encrypted="", webhook_secret_last4="")
                | (~models.Q(webhook_secret_encrypted="") & ~models.Q(webhook_secret_last4="")),
                name="stripe_own_keys_webhook_secret_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"own keys of {self.account_id}"

    @property
    def mode(self) -> str:
        return "live" if self.livemode else "test"

    @property
    def secret_key_masked(self) -> str:
        return f"sk_{self.mode}_••••{self.secret_key_last4}"

    @property
    def publishable_key_masked(self) -> str:
        return f"pk_{self.mode}_••••{self.publishable_key_last4}"

    @property
    def webhook_secret_masked(self) -> str:
        return f"whsec_••••{self.webhook_secret_last4}" if self.webhook_secret_last4 else ""


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
    """One Pay online (payment link) or Take payment (staff) of an invoice: the Checkout
    Session made for it and what became of it.

    Its id keys the session's idempotency (``checkout:<pk>:session``), so a retry or a
    double click is answered with the same session. It is settled from Stripe's own state
    (the session re-read on the return page, or checkout.session.completed), never from the
    browser's redirect. ``invoice_id`` is billing's invoice (payments keeps the id only).

    ``amount`` is what the session asks for: the balance, or a part of it where the
    practice allows part-payments. When Stripe's amount or currency for the paid session
    is not that, the attempt is held (status held, Stripe's figures in ``stripe_amount``
    and ``stripe_currency``) and nothing is recorded until staff record what Stripe took;
    ``payment_id`` is billing's payment once one is recorded."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Failed"
        HELD = "held", "Held for review"

    class Source(models.TextChoices):
        LINK = "link", "Payment link"
        STAFF = "staff", "Take payment"
        PORTAL = "portal", "Client portal"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    # The invoice paid; for Pay full balance (several invoices, see CheckoutAttemptInvoice)
    # the oldest of them.
    invoice_id = models.BigIntegerField()
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.LINK)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    session_url = models.URLField(max_length=2000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    # What Stripe reported for a paid session that did not match (a held attempt).
    stripe_amount = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    stripe_currency = models.CharField(max_length=3, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    payment_id = models.BigIntegerField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["practice", "invoice_id"], name="checkout_attempt_invoice"),
            # The Billing page's "held for review" notice.
            models.Index(fields=["practice"], condition=models.Q(status="held"), name="checkout_attempt_held"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="checkout_attempt_amount_positive"),
            # A held attempt says what Stripe took; staff record it from there.
            models.CheckConstraint(
                condition=~models.Q(status="held")
                | (models.Q(stripe_amount__isnull=False) & ~models.Q(stripe_currency="")),
                name="checkout_attempt_held_has_stripe_figures",
            ),
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} of invoice {self.invoice_id} ({self.status})"


class CheckoutAttemptInvoice(models.Model):
    """One invoice of a Pay full balance attempt (the client portal) and the share planned
    for it: its balance when the session was made. The payment is allocated in ``position``
    order (oldest invoice first); an invoice that owes less by then takes less, and the
    rest becomes the client's credit (billing's payment_record_settled).

    Invariants: the shares are positive and sum to the attempt's amount (written with the
    attempt, in its transaction); one row per invoice and per position."""

    attempt = models.ForeignKey(CheckoutAttempt, on_delete=models.CASCADE, related_name="invoices")
    invoice_id = models.BigIntegerField()
    position = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "invoice_id"], name="checkout_attempt_invoice_once"),
            models.UniqueConstraint(fields=["attempt", "position"], name="checkout_attempt_invoice_position"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="checkout_attempt_invoice_positive"),
        ]

    def __str__(self) -> str:
        return f"invoice {self.invoice_id} in checkout {self.attempt_id}"


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


class OnlinePaymentSettings(models.Model):
    """A practice's rules for paying online (Settings > Online payments): whether a payer
    may pay part of an invoice, and the least they may pay then (an invoice owing less
    than that may be paid in full). No row: part-payments are off."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="online_payment_settings")
    part_payments_allowed = models.BooleanField(default=False)
    part_payment_minimum = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "online payment settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(part_payment_minimum__gte=0), name="online_payment_settings_minimum_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(part_payments_allowed=False) | models.Q(part_payment_minimum__gt=0),
                name="online_payment_settings_minimum_when_allowed",
            ),
        ]

    def __str__(self) -> str:
        return f"online payment settings of {self.practice_id}"


class StripeCustomer(models.Model):
    """A client's Customer at Stripe, on the practice's connected account (cards are saved
    to it and charged through it, as direct charges on that account).

    Invariants: one per practice, client and connected account (a practice that connects
    another account gets a new Customer there); ``stripe_customer_id`` is unique. The row
    is committed before Stripe is called and keys the create (``customer:<pk>:create``), so
    a retry or a second request racing the first makes one Customer at Stripe. It carries
    only the payer's name and email (and the client's id in metadata), never anything
    clinical."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    stripe_account_id = models.CharField(max_length=255)
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "client", "stripe_account_id"], name="stripe_customer_once_per_account"
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_customer_id or f"customer {self.pk} (not yet at Stripe)"


# Stripe's brand codes, as a client reads them on the card.
CARD_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "eftpos_au": "eftpos",
    "cartes_bancaires": "Cartes Bancaires",
}


class SavedCard(models.Model):
    """A client's card saved at Stripe: the PaymentMethod's id, brand, last 4 and expiry,
    never the number.

    Invariants (in the database): a PaymentMethod is saved once; a client has at most one
    default card among the cards not removed; a removed card is never the default. A card
    is removed by detaching it at Stripe first, so a removed card cannot be charged."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(StripeCustomer, on_delete=models.PROTECT, related_name="cards")
    stripe_payment_method_id = models.CharField(max_length=255, unique=True)
    brand = models.CharField(max_length=32)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(is_default=True, removed_at__isnull=True),
                name="saved_card_one_default_per_client",
            ),
            models.CheckConstraint(
                condition=models.Q(removed_at__isnull=True) | models.Q(is_default=False),
                name="saved_card_removed_not_default",
            ),
            models.CheckConstraint(
                condition=models.Q(exp_month__gte=1, exp_month__lte=12), name="saved_card_exp_month"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def brand_label(self) -> str:
        return CARD_BRANDS.get(self.brand, self.brand.replace("_", " ").title() or "Card")

    @property
    def label(self) -> str:
        """What staff and clients see of the card: "Visa •••• 4242"."""
        return f"{self.brand_label} •••• {self.last4}"

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"


class CardSetup(models.Model):
    """One Save a card: the Checkout Session (setup mode) made for a client and what became
    of it. Its id keys the session (``cardsetup:<pk>:session``), so a double click reuses
    the session; the card is stored only from Stripe's own state (the SetupIntent re-read
    on the return page, or checkout.session.completed), never from the redirect."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        OPEN = "open", "Open"
        SAVED = "saved", "Card saved"
        EXPIRED = "expired", "Expired"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(StripeCustomer, on_delete=models.PROTECT, related_name="+")
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    session_url = models.URLField(max_length=2000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    card = models.ForeignKey(SavedCard, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Started from AutoPay's "update your card" link: the card saved becomes the default
    # (replacing the one that failed) and a paused AutoPay resumes.
    make_default = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"card setup {self.pk} for client {self.client_id} ({self.status})"


class CardChargeAttempt(models.Model):
    """One charge of a saved card: with the client absent (staff's Pay now; AutoPay reuses
    it), or ``on_session`` with the client present (Pay with Visa •••• 4242 in the portal).

    The row is committed before Stripe is called and its id keys the PaymentIntent
    (``cardcharge:<pk>:intent``), so a retry after a timeout, a double click joining the
    first, or a resumed attempt all reach the same PaymentIntent: at most one charge. Its
    status follows Stripe's state of that PaymentIntent (the create's answer, a re-read, or
    payment_intent.* webhooks), and only moves forward from created/processing (and, for
    an on-session charge, from requires_action, which the client can still complete).

    It pays the invoices of its ``allocations`` (one for Pay now, every open invoice of the
    client for a portal Pay full balance, oldest first); ``invoice`` is the first of them.

    Invariants (in the database): one attempt in flight (created or processing) per
    invoice, and one allocation in flight per invoice (``CardChargeAllocation``); the
    amount is positive; the PaymentIntent is unique."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REQUIRES_ACTION = "requires_action", "Needs client action"

    OPEN_STATUSES = (Status.CREATED, Status.PROCESSING)

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    card = models.ForeignKey(SavedCard, on_delete=models.PROTECT, related_name="charge_attempts")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    failure_reason = models.CharField(max_length=500, blank=True)
    decline_code = models.CharField(max_length=64, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment = models.ForeignKey("billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The Pay now form's one-time key: a repeat of the form finds (and joins) this attempt.
    submission_key = models.CharField(max_length=64, blank=True)
    # The client is present (the portal): confirmed on-session, so the bank may ask them to
    # authenticate at ``next_action_url`` (Stripe's page), which brings them back.
    on_session = models.BooleanField(default=False, db_default=False)
    next_action_url = models.URLField(max_length=2000, blank=True, db_default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["practice", "invoice"], name="card_charge_invoice")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="card_charge_amount_positive"),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(status__in=["created", "processing"]),
                name="card_charge_one_open_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["practice", "submission_key"],
                condition=~models.Q(submission_key=""),
                name="card_charge_submission_once",
            ),
        ]

    def __str__(self) -> str:
        return f"card charge {self.pk} of invoice {self.invoice_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def in_flight(self) -> bool:
        """Whether Stripe may still take money for it: open, or (on-session) waiting for the
        client to authenticate, which they can still finish at the bank's page."""
        return self.is_open or (self.on_session and self.status == self.Status.REQUIRES_ACTION)


class CardChargeAllocation(models.Model):
    """One invoice a card charge pays, and how much of it (its balance when the charge was
    made). Payments keeps the split so the payment is allocated as the client saw it.

    Invariants (in the database): an invoice is in at most one charge in flight
    (``in_flight`` mirrors the attempt's ``in_flight``, updated in the same transaction as
    its status), so two tabs cannot each charge the same invoice; the amount is positive."""

    attempt = models.ForeignKey(CardChargeAttempt, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    in_flight = models.BooleanField(default=True)

    class Meta:
        ordering = ["attempt", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="card_charge_allocation_positive"),
            models.UniqueConstraint(fields=["attempt", "invoice"], name="card_charge_allocation_once"),
            models.UniqueConstraint(
                fields=["invoice"], condition=models.Q(in_flight=True), name="card_charge_allocation_one_in_flight"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of invoice {self.invoice_id} by card charge {self.attempt_id}"


class RefundAttempt(models.Model):
    """One Refund through Stripe of an online payment, asked for by a person.

    The row is committed before Stripe is called and keys the refund's idempotency
    (``refund:<pk>:refund``), so a retry after a timeout, a 429 or a 500 gets the refund the
    first try made, never a second one. ``created`` means Stripe's answer is not known yet
    (sent, or about to be); ``pending`` means Stripe has the refund and has not finished
    it. At most one attempt of a payment is in either state (a partial unique index), so a
    second click cannot refund the same money twice while the first is undecided. The
    refund reaches billing's ledger (``payment_refund_record``, keyed by the Stripe refund's
    id) once Stripe says it succeeded. ``reason`` is the staff's words, never sent to Stripe.
    """

    class Status(models.TextChoices):
        CREATED = "created", "Waiting for Stripe"
        PENDING = "pending", "Pending at Stripe"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    payment = models.ForeignKey("billing.Payment", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    # Why Stripe refused it, or why a refund Stripe made is not in the books yet.
    problem = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_attempt_amount_positive"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="refund_attempt_has_reason"),
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(status__in=["created", "pending"]),
                name="refund_attempt_one_undecided_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of payment {self.payment_id} ({self.status})"


class AutoPayCharge(models.Model):
    """One client's AutoPay charge on one night: what the nightly run decided to charge and
    what became of it. ``night`` is the practice's local date whose 12 AM to 6 AM the run
    charges in.

    The row is committed (pending) by the night's run before anything is charged; the
    charge itself is a CardChargeAttempt (``attempt``), created under the client's lock
    in one transaction with the row's move to charging, so its id keys the PaymentIntent
    and a rerun after a crash finds it and asks Stripe for that same PaymentIntent. The
    status then follows the attempt (card_charges settles it, whichever of the answer, a
    re-read or a webhook arrives first).

    Invariants (in the database): one row per client and night, so a client is charged at
    most once a night however often the run is repeated or by how many workers; one row
    per attempt; the amount is positive; a row past pending that was sent to Stripe names
    its attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to charge"
        CHARGING = "charging", "Charging"
        SUCCEEDED = "succeeded", "Charged"
        FAILED = "failed", "Failed"
        NEEDS_ACTION = "needs_action", "Needs client action"
        NOT_CHARGED = "not_charged", "Not charged"

    UNFINISHED = (Status.PENDING, Status.CHARGING)
    PROBLEMS = (Status.FAILED, Status.NEEDS_ACTION)

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    enrolment = models.ForeignKey("clients.AutoPayEnrolment", on_delete=models.PROTECT, related_name="charges")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    night = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Why it failed (Stripe's words for a decline) or was not charged, for staff and client.
    reason = models.CharField(max_length=500, blank=True)
    attempt = models.OneToOneField(
        CardChargeAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="autopay_charge"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-night", "-pk"]
        indexes = [
            models.Index(fields=["practice", "night"], name="autopay_charge_night"),
            models.Index(fields=["client", "-night"], name="autopay_charge_client"),
            # The sweeper's query: rows a worker has not finished.
            models.Index(
                fields=["updated_at"], condition=models.Q(status__in=["pending", "charging"]), name="autopay_unfinished"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["client", "night"], name="autopay_charge_once_per_night"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="autopay_charge_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["charging", "succeeded", "needs_action"])
                | models.Q(attempt__isnull=False),
                name="autopay_charge_sent_has_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"AutoPay of client {self.client_id} on the night of {self.night} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.UNFINISHED


class Payout(models.Model):
    """A payout Stripe made from a practice's Stripe account to its bank, as last read from
    Stripe, with the balance transactions it paid out (its ``lines``).

    Read from Stripe only (the Payouts report's Refresh from Stripe, and payout.* webhooks),
    never made here. Invariants: one row per Stripe payout (``stripe_payout_id`` unique), so
    reading it again updates the row; ``lines_synced_at`` is set in the transaction that
    writes the payout's whole set of lines, so a payout whose lines were never read, or
    whose read stopped half-way, is read again."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_TRANSIT = "in_transit", "In transit"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    # Stripe does not change these any more: their lines are read once.
    FINAL = (Status.PAID, Status.FAILED, Status.CANCELED)

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    stripe_account_id = models.CharField(max_length=255)
    stripe_payout_id = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16)
    created = models.DateTimeField()
    arrival_date = models.DateField(null=True, blank=True)
    automatic = models.BooleanField(default=True)
    failure_message = models.CharField(max_length=500, blank=True)
    lines_synced_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["practice", "-created"], name="payout_practice_created")]

    def __str__(self) -> str:
        return f"{self.stripe_payout_id} ({self.status})"

    @property
    def status_label(self) -> str:
        return self.Status(self.status).label if self.status in self.Status.values else self.status.capitalize()


class PayoutLine(models.Model):
    """One balance transaction a payout paid out: a payment, a refund, a dispute's
    withdrawal or its return, or something else Stripe moved (an adjustment, a fee).

    Amounts are in ``currency`` (the balance's, which may not be the charge's), as Stripe
    reports them: ``amount`` is signed (a refund is negative), ``fee`` is what Stripe kept,
    and ``net = amount - fee`` (in the database). ``payment_intent_id`` and ``charge_id``
    name the payment the line belongs to, read from its source, so the report can find
    billing's Payment (``external_id``) and Refund (``external_id``). Invariant: one row
    per Stripe balance transaction."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        DISPUTE_REVERSAL = "dispute_reversal", "Dispute won back"
        OTHER = "other", "Other"

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="lines")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    stripe_balance_transaction_id = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    stripe_type = models.CharField(max_length=64)
    reporting_category = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    fee = models.DecimalField(max_digits=14, decimal_places=3)
    net = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    created = models.DateTimeField()
    description = models.CharField(max_length=500, blank=True)
    source_id = models.CharField(max_length=255, blank=True)
    charge_id = models.CharField(max_length=255, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["payout", "created", "pk"]
        indexes = [
            # The report's matching: a payment by its PaymentIntent, a refund or dispute by its id.
            models.Index(fields=["practice", "payment_intent_id"], name="payout_line_intent"),
            models.Index(fields=["practice", "source_id"], name="payout_line_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(net=models.F("amount") - models.F("fee")), name="payout_line_net_is_amount_less_fee"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_balance_transaction_id} in {self.payout_id}"
