"""Billing items (what a client owes for a session before it is invoiced) and invoices."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from appointments.models import Appointment, Service
from clients.models import Client
from practica.models import Practice


class Invoice(models.Model):
    """An invoice of one client. (Lines, numbering, payments and the ledger come with the
    invoicing work; this is the part billing items point at.)"""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="invoices")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=40, null=True, blank=True)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "number"], name="invoice_unique_number"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.pk}"


class BillingItem(models.Model):
    """One billable line for one client: a service of a completed session, a no-show or
    late-cancellation fee, or a line added by hand.

    Invariants (in the database): one item per (appointment, client, service) for
    sessions and one per (appointment, client, kind) for fees; ``net + tax = amount``;
    amounts are never negative. Amounts are rounded per line (billing.money). An item is
    uninvoiced while ``invoice`` is empty; voiding an invoice empties it again.
    """

    class Kind(models.TextChoices):
        SESSION = "session", "Session"
        NO_SHOW_FEE = "no_show_fee", "No-show fee"
        LATE_CANCEL_FEE = "late_cancel_fee", "Late-cancellation fee"
        MANUAL = "manual", "Added by hand"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="billing_items")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="billing_items")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="billing_items"
    )
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SESSION)
    date = models.DateField(help_text="The session's date in the practice's timezone.")
    description = models.CharField(max_length=200)
    units = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=3)
    tax_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"))
    net = models.DecimalField(max_digits=14, decimal_places=3)
    tax = models.DecimalField(max_digits=14, decimal_places=3)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="billing_items"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "id"]
        indexes = [
            models.Index(
                fields=["practice", "client"], condition=models.Q(invoice__isnull=True), name="item_uninvoiced"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "client", "service"],
                condition=models.Q(kind="session"),
                name="item_one_per_session_service",
            ),
            models.UniqueConstraint(
                fields=["appointment", "client", "kind"],
                condition=models.Q(kind__in=["no_show_fee", "late_cancel_fee"]),
                name="item_one_fee_per_attendee",
            ),
            models.CheckConstraint(
                condition=models.Q(amount=models.F("net") + models.F("tax")), name="item_amount_is_net_plus_tax"
            ),
            models.CheckConstraint(
                condition=models.Q(net__gte=0, tax__gte=0, unit_price__gte=0, units__gt=0),
                name="item_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="session") | models.Q(appointment__isnull=False, service__isnull=False),
                name="item_session_has_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.description} {self.amount} {self.currency}"

    @property
    def is_invoiced(self) -> bool:
        return self.invoice_id is not None
