"""Services (the price list), appointments, recurring series and per-attendee billing details."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from practice.models import Practice, TaxRate

# Why a status move is refused: what the clinician reads (and the tests assert on).
NOT_COMPLETABLE = "Only a scheduled or completed appointment can be marked completed."
NO_SHOW_ONLY_SCHEDULED = "Only a scheduled appointment can be marked as a no-show."
ALREADY_CANCELLED = "This appointment is already cancelled."
LATE_CANCEL_ONLY_SCHEDULED = "Only a scheduled appointment can be late-cancelled. A held session can only be cancelled."


def _refuse(refusal: str | None) -> None:
    if refusal is not None:
        raise ValidationError(refusal)


class Service(models.Model):
    """An entry of the practice's price list. A used service is archived, never deleted.

    How it is paid decides what the client is invoiced: self-pay, the price; insurance,
    nothing; insurance with co-pay, a fixed amount or a percentage of the price.
    """

    class PaymentType(models.TextChoices):
        SELF_PAY = "self_pay", "Self-pay"
        INSURANCE = "insurance", "Insurance"
        COPAY = "copay", "Insurance with co-pay"

    class CopayKind(models.TextChoices):
        FIXED = "fixed", "Fixed amount"
        PERCENT = "percent", "Percentage of the price"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=120)
    code = models.CharField(max_length=30)
    # The insurer's procedure code (a CPT code in the US), printed on superbills.
    procedure_code = models.CharField(max_length=20, blank=True)
    default_duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)], default=50)
    price = models.DecimalField(max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal("0"))])
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment_type = models.CharField(max_length=12, choices=PaymentType.choices, default=PaymentType.SELF_PAY)
    copay_kind = models.CharField(max_length=8, choices=CopayKind.choices, blank=True)
    copay_amount = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    copay_percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "code"], name="service_unique_code"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="service_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(default_duration_minutes__gt=0), name="service_duration_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(payment_type="copay")
                | models.Q(copay_kind="fixed", copay_amount__gte=0)
                | models.Q(copay_kind="percent", copay_percent__gte=0, copay_percent__lte=100),
                name="service_copay_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class RecurringSeries(models.Model):
    """A repeating appointment. The rule is an RFC 5545 RRULE read with python-dateutil.

    Occurrences are expanded in the practice's local time and stored as separate
    appointments, so a weekly 9:00 session stays at 9:00 across a DST change.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="series")
    rrule = models.CharField(max_length=255)
    local_start = models.DateTimeField(help_text="Naive local wall time of the first occurrence.")
    timezone = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "recurring series"

    def __str__(self) -> str:
        return f"{self.rrule} from {self.local_start:%Y-%m-%d %H:%M}"


class Appointment(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"
        LATE_CANCELLED = "late_cancelled", "Late-cancelled"

    class Location(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        TELEHEALTH = "telehealth", "Telehealth"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="appointments")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    location = models.CharField(max_length=12, choices=Location.choices, default=Location.IN_PERSON)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    series = models.ForeignKey(
        RecurringSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    services: models.ManyToManyField[Service, AppointmentService] = models.ManyToManyField(
        Service, through="AppointmentService", related_name="appointments"
    )
    clients: models.ManyToManyField[Client, Attendee] = models.ManyToManyField(
        Client, through="Attendee", related_name="appointments"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["practice", "start"], name="appt_practice_start"),
            models.Index(fields=["practice", "clinician", "start"], name="appt_practice_clin_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="appt_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.pk} at {self.start:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("appointments:detail", kwargs={"practice_slug": self.practice.slug, "appointment_id": self.pk})

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    # --- status moves ---------------------------------------------------------------------
    # scheduled -> completed, no_show, cancelled or late_cancelled; completed or no_show ->
    # cancelled (a held session cancelled after all). Nothing leaves a cancellation. Marking
    # a completed appointment completed again (or a no-show a no-show) is no move but is
    # allowed: it makes the billing items still missing. ``can_<move>()`` is what the
    # appointment page offers, ``<action>_refusal()`` why the service refuses the action (the
    # message it raises), and ``mark_<move>()`` makes the move or raises ValidationError
    # with that message; the caller saves.

    @property
    def is_cancelled(self) -> bool:
        return self.status in (self.Status.CANCELLED, self.Status.LATE_CANCELLED)

    def has_started(self, now: datetime | None = None) -> bool:
        """A session is held (completed, no-show) only once it has started: the services
        refuse both moves before then."""
        return self.start <= (now or timezone.now())

    def cancel_is_late_by_default(self, now: datetime | None = None) -> bool:
        """Whether a plain "Cancel" counts as late: a scheduled session inside the
        practice's late-cancel window (or already started)."""
        window = timedelta(hours=self.practice.late_cancel_window_hours)
        return self.status == self.Status.SCHEDULED and (now or timezone.now()) > self.start - window

    def complete_refusal(self) -> str | None:
        ok = self.status in (self.Status.SCHEDULED, self.Status.COMPLETED)
        return None if ok else NOT_COMPLETABLE

    def can_complete(self) -> bool:
        return self.status == self.Status.SCHEDULED

    def mark_completed(self) -> None:
        _refuse(None if self.can_complete() else NOT_COMPLETABLE)
        self.status = self.Status.COMPLETED
        self.completed_at = timezone.now()

    def no_show_refusal(self) -> str | None:
        ok = self.status in (self.Status.SCHEDULED, self.Status.NO_SHOW)
        return None if ok else NO_SHOW_ONLY_SCHEDULED

    def can_mark_no_show(self) -> bool:
        return self.status == self.Status.SCHEDULED

    def mark_no_show(self) -> None:
        _refuse(None if self.can_mark_no_show() else NO_SHOW_ONLY_SCHEDULED)
        self.status = self.Status.NO_SHOW

    def cancel_refusal(self, *, late: bool | None = None) -> str | None:
        """Why cancelling is refused; ``late`` True is a late cancellation, which only a
        session not yet held can be."""
        if self.is_cancelled:
            return ALREADY_CANCELLED
        if late and self.status != self.Status.SCHEDULED:
            return LATE_CANCEL_ONLY_SCHEDULED
        return None

    def can_cancel(self) -> bool:
        return self.cancel_refusal() is None

    def can_late_cancel(self) -> bool:
        return self.cancel_refusal(late=True) is None

    def mark_cancelled(self, *, late: bool) -> None:
        _refuse(self.cancel_refusal(late=late))
        self.status = self.Status.LATE_CANCELLED if late else self.Status.CANCELLED


class AppointmentService(models.Model):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="service_links")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "service"], name="apptservice_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} on appointment {self.appointment_id}"


class Attendee(models.Model):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="attendees")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="attendances")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "client"], name="attendee_unique"),
        ]

    def __str__(self) -> str:
        return f"Client {self.client_id} at appointment {self.appointment_id}"


class BillingDetail(models.Model):
    """What one attendee is billed for one service of an appointment.

    Filled from the service when the appointment is saved; a biller may change units,
    price or tax. A change flows to this attendee's *uninvoiced* billing items only.
    ``unit_price`` is the client's part: for a co-pay service, the co-pay.
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="billing_details")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    units = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=3)
    tax_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "client", "service"], name="billingdetail_unique"),
            models.CheckConstraint(condition=models.Q(units__gt=0), name="billingdetail_units_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="billingdetail_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(tax_percent__gte=0, tax_percent__lte=100), name="billingdetail_tax_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.units} x {self.unit_price} (+{self.tax_percent}%)"
