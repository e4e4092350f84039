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
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}"

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
