"""Clients of a practice and the payers who receive their invoices."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from practice.models import Practice


class Payer(models.Model):
    """A person who receives invoices and pays for one or more clients (a household).

    A parent paying for two children, or one partner paying for a couple's sessions, is
    one payer linked from several clients, so they later get one statement and one card.
    """

    class Relationship(models.TextChoices):
        PARENT = "parent", "Parent"
        GUARDIAN = "guardian", "Guardian"
        PARTNER = "partner", "Partner"
        OTHER = "other", "Other"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="payers")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    relationship = models.CharField(max_length=16, choices=Relationship.choices, default=Relationship.PARENT)
    address = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["practice", "email"], name="payer_practice_email")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


def display_name(first_name: str, last_name: str, preferred_name: str) -> str:
    """How staff pages name a client: the preferred first name when there is one."""
    return f"{preferred_name or first_name} {last_name}"


class Client(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="clients")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    address = models.TextField(blank=True)
    # ICD-10 codes, comma separated and upper case (clients.services checks their shape),
    # printed on superbills.
    diagnosis_codes = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    clinicians = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="clients")
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.SET_NULL, related_name="clients")
    # No automatic invoice reminders (billing's Settings > Invoice reminders) for this client.
    reminders_excluded = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["practice", "last_name", "first_name"], name="client_practice_name"),
            models.Index(fields=["practice", "status"], name="client_practice_status"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", kwargs={"practice_slug": self.practice.slug, "client_id": self.pk})

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name, self.preferred_name)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def billing_email(self) -> str:
        """Where invoices go: the payer's address when there is a payer."""
        return self.payer.email if self.payer_id and self.payer else self.email


class PortalAccess(models.Model):
    """A client's permission to use the client portal (staff grant it by sending a Portal
    invitation from the client's Settings tab; ``clients.portal`` reads it on every request).

    One row per client. Access is on while ``revoked_at`` is empty; revoking it ends the
    client's portal sessions at their next request. A payer signs in through the clients
    they pay for: a payer whose clients all lack access cannot sign in.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="portal_access")
    granted_at = models.DateTimeField(default=timezone.now)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When the last Portal invitation went out (the Settings tab shows it).
    invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "portal access"

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "on"
        return f"Portal access of client {self.client_id} ({state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PortalSignInLink(models.Model):
    """One request for a portal sign-in link (or one Portal invitation), counted for
    throttling whether or not the email is known.

    Only a hash of the token is stored (the link in the email is the secret), and only when
    the email belongs to someone with portal access: an unknown email's row has no token.
    A link signs in once (``used_at``) and only until ``expires_at`` (15 minutes for a
    requested link, longer for a staff invitation).
    """

    email = models.EmailField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    # A Portal invitation (staff sent it), as opposed to a link the person asked for.
    invitation = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["email", "requested_at"], name="portal_link_email_at"),
            models.Index(fields=["ip_address", "requested_at"], name="portal_link_ip_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(token_hash__isnull=True) | models.Q(expires_at__isnull=False),
                name="portal_link_token_expires",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d %H:%M} {self.email}"


class EmailChange(models.Model):
    """A client's (or payer's) new email address, asked for on the portal's Profile and
    waiting for them to open the link sent to it (clients.profile).

    Until ``confirmed_at`` is set the person's email is unchanged. Only a hash of the token
    is stored: the link in the email is the secret. A link confirms once, until
    ``expires_at``; asking again cancels the request before (``cancelled_at``), so at most
    one change per person waits at a time (in the database).
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE, related_name="email_changes")
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.CASCADE, related_name="email_changes")
    new_email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    requested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(client__isnull=False, payer__isnull=True)
                | models.Q(client__isnull=True, payer__isnull=False),
                name="email_change_of_client_or_payer",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_at__isnull=True) | models.Q(cancelled_at__isnull=True),
                name="email_change_confirmed_or_cancelled",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(client__isnull=False, confirmed_at__isnull=True, cancelled_at__isnull=True),
                name="email_change_one_waiting_per_client",
            ),
            models.UniqueConstraint(
                fields=["payer"],
                condition=models.Q(payer__isnull=False, confirmed_at__isnull=True, cancelled_at__isnull=True),
                name="email_change_one_waiting_per_payer",
            ),
        ]

    def __str__(self) -> str:
        who = f"client {self.client_id}" if self.client_id else f"payer {self.payer_id}"
        return f"Email change of {who} to {self.new_email}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_pending(self) -> bool:
        return self.confirmed_at is None and self.cancelled_at is None and self.expires_at > timezone.now()


class AutoPayEnrolment(models.Model):
    """A client's AutoPay: every night between 12 AM and 6 AM in the practice's time zone,
    what the client owes is charged to their default card (payments charges it; the amount
    is billing's ``autopay_amount_due``).

    Enrolling never back-charges the balance already open: invoices issued at or before
    ``balance_cutoff_at`` are left out unless the client chose ``include_balance``
    (``open_balance`` is the amount they were shown, "Include my current balance of $X").
    Above ``max_per_night`` a night's charge waits for the client's approval
    (AutoPayApproval); a skipped night (AutoPaySkip) is not charged.

    Invariants (in the database): at most one enrolment on (``ended_at`` empty) per client;
    it ends after it starts; a cap is positive. Each enrolment is written with its consent
    (AutoPayConsent) in one transaction, and turning AutoPay off ends it (a new enrolment
    with a new consent turns it on again). After failed charges on several nights in a row
    it is paused (``paused_at`` with ``paused_reason``): still on, charging nothing until
    the client (or staff) resumes it, or a new card is saved from AutoPay's email."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="autopay_enrolments")
    started_at = models.DateTimeField()
    balance_cutoff_at = models.DateTimeField()
    include_balance = models.BooleanField(default=False)
    open_balance = models.DecimalField(max_digits=14, decimal_places=3)
    max_per_night = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Nights in a row whose AutoPay charge failed (payments counts them; a success or a
    # resume starts again from 0). At AUTOPAY_PAUSE_AFTER the enrolment is paused: it stays
    # on (the consent stands) but charges nothing until it is resumed.
    failures_in_a_row = models.PositiveSmallIntegerField(default=0, db_default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=500, blank=True, db_default="")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=models.Q(ended_at__isnull=True), name="autopay_one_on_per_client"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="autopay_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(max_per_night__isnull=True) | models.Q(max_per_night__gt=0),
                name="autopay_cap_positive",
            ),
            models.CheckConstraint(condition=models.Q(open_balance__gte=0), name="autopay_open_balance_not_negative"),
            # A pause says why (the pages and emails quote it).
            models.CheckConstraint(
                condition=models.Q(paused_at__isnull=True, paused_reason="")
                | (models.Q(paused_at__isnull=False) & ~models.Q(paused_reason="")),
                name="autopay_paused_with_reason",
            ),
        ]

    def __str__(self) -> str:
        state = "off" if self.ended_at else ("paused" if self.paused_at else "on")
        return f"AutoPay of client {self.client_id} from {self.started_at:%Y-%m-%d} ({state})"

    @property
    def is_on(self) -> bool:
        return self.ended_at is None

    @property
    def is_paused(self) -> bool:
        return self.ended_at is None and self.paused_at is not None


class AutoPayConsent(models.Model):
    """The agreement that turned AutoPay on, as it was given: by the client in the portal,
    or by the client to a staff member by phone or in person (``staff`` recorded it);
    when; the exact words agreed to (``terms_version`` and ``terms_text``) with the
    choices made; and the address the request came from. Never changed or deleted.

    Invariants (in the database): a client's consent comes through the portal with no
    staff member; a staff member's is by phone or in person and names them."""

    class GivenBy(models.TextChoices):
        CLIENT = "client", "The client"
        STAFF = "staff", "A staff member, with the client's agreement"

    class Channel(models.TextChoices):
        PORTAL = "portal", "Client portal"
        PHONE = "phone", "By phone"
        IN_PERSON = "in_person", "In person"

    enrolment = models.OneToOneField(AutoPayEnrolment, on_delete=models.PROTECT, related_name="consent")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    given_by = models.CharField(max_length=8, choices=GivenBy.choices)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The portal sign-in's email (the client's, or their payer's) when given in the portal.
    email = models.EmailField(blank=True)
    terms_version = models.CharField(max_length=40)
    terms_text = models.TextField()
    include_balance = models.BooleanField()
    max_per_night = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    card = models.CharField(max_length=80, help_text="The default card named in the terms (brand and last 4).")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    given_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(given_by="client", channel="portal", staff__isnull=True)
                | models.Q(given_by="staff", channel__in=["phone", "in_person"], staff__isnull=False),
                name="autopay_consent_who_and_how",
            ),
        ]

    def __str__(self) -> str:
        return f"AutoPay consent of client {self.client_id} ({self.channel}, {self.given_at:%Y-%m-%d})"


class AutoPaySkip(models.Model):
    """A night the client (or staff for them) chose not to be charged: Skip tonight.
    ``night`` is the practice's local date whose 12 AM to 6 AM the charge would run in.
    Invariant: once per enrolment and night."""

    enrolment = models.ForeignKey(AutoPayEnrolment, on_delete=models.CASCADE, related_name="skips")
    night = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrolment", "night"], name="autopay_skip_once_per_night")]

    def __str__(self) -> str:
        return f"AutoPay {self.enrolment_id} skips {self.night}"


class AutoPayApproval(models.Model):
    """The client's yes to a night's charge above their maximum per night: up to ``amount``
    that night (a larger amount waits again). Invariant: once per enrolment and night,
    for a positive amount."""

    enrolment = models.ForeignKey(AutoPayEnrolment, on_delete=models.CASCADE, related_name="approvals")
    night = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "night"], name="autopay_approval_once_per_night"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="autopay_approval_positive"),
        ]

    def __str__(self) -> str:
        return f"AutoPay {self.enrolment_id} approved {self.amount} on {self.night}"
