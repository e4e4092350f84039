"""Clients of a practice and the payers who receive their invoices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

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
