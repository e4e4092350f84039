"""The tenant (Practice), its staff (Membership) and the append-only audit log."""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

TIMEZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name, such as America/New_York.")


CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Enter an ISO 4217 currency code, such as USD.")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address and a password.

    ``is_staff``/``is_superuser`` mean *platform* staff (Django admin); practice roles live
    on Membership. ``session_generation`` is part of the session hash, so raising it signs
    the user out everywhere (sign-out ends the user's other sessions).
    """

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May open Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    session_generation = models.PositiveIntegerField(default=0)
    last_practice = models.ForeignKey(
        "practice.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email

    def get_session_auth_hash(self) -> str:
        # Django compares this hash on every request; a change of password or of the
        # generation invalidates every session that was made before it.
        return salted_hmac(
            "practice.User.get_session_auth_hash",
            f"{self.password}:{self.session_generation}",
            algorithm="sha256",
        ).hexdigest()


class FeePolicy(models.TextChoices):
    NONE = "none", "No fee"
    FLAT = "flat", "A flat fee"
    FULL = "full", "The full service price"


INVOICE_START_MAX = 999_999_999
INVOICE_START_TOO_LARGE = "Enter a first invoice number of at most 999,999,999."
MAX_FUTURE_DAYS = 3650


class Practice(models.Model):
    """A clinic: the tenant. Every practice-owned row points at one."""

    class PaymentTerms(models.IntegerChoices):
        ON_RECEIPT = 0, "On receipt"
        DAYS_7 = 7, "7 days"
        DAYS_14 = 14, "14 days"
        DAYS_30 = 30, "30 days"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    currency = models.CharField(max_length=3, default="USD", validators=[CURRENCY_VALIDATOR])
    locale = models.CharField(max_length=16, default="en_US")
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    session_idle_minutes = models.PositiveIntegerField(
        default=settings.SESSION_IDLE_DEFAULT_MINUTES,
        validators=[MinValueValidator(5), MaxValueValidator(settings.SESSION_IDLE_MAX_MINUTES)],
        help_text="Staff are signed out after this many minutes without activity (5 to 480).",
    )
    payment_terms_days = models.PositiveSmallIntegerField(choices=PaymentTerms.choices, default=PaymentTerms.DAYS_14)
    # Billing details (Settings > Billing details).
    prices_include_tax = models.BooleanField(
        default=False, help_text="Prices are entered with tax included (GST-style); tax is extracted per line."
    )
    tax_id = models.CharField(max_length=40, blank=True, verbose_name="Tax id")
    billing_address = models.TextField(blank=True)
    no_show_policy = models.CharField(max_length=8, choices=FeePolicy.choices, default=FeePolicy.NONE)
    no_show_fee = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal("0"))
    late_cancel_policy = models.CharField(max_length=8, choices=FeePolicy.choices, default=FeePolicy.NONE)
    late_cancel_fee = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal("0"))
    late_cancel_window_hours = models.PositiveSmallIntegerField(default=24)
    # The calendar's working hours: the rows its day and week grids show (a session outside
    # them widens the grid rather than being hidden).
    day_start_hour = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], verbose_name="Calendar day starts at (hour)"
    )
    day_end_hour = models.PositiveSmallIntegerField(
        default=18,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        verbose_name="Calendar day ends at (hour)",
    )
    fee_tax_free = models.BooleanField(
        default=False,
        help_text="No-show and late-cancellation fees carry no tax (where the law treats them as "
        "compensation rather than a supply). Otherwise they are taxed like a session.",
    )
    invoice_prefix = models.CharField(max_length=12, default="INV-", blank=True)
    # Who changes what a session bills (units, price, tax): owner, admin and biller always;
    # clinicians only for their own sessions, and only when the practice says so.
    clinicians_edit_billing_details = models.BooleanField(
        default=False,
        verbose_name="Clinicians may change what their own sessions bill",
        help_text="Units, price and tax of a session's billing details. Owners, admins and billers always may.",
    )
    # The invoice counter is a PositiveIntegerField (at most 2147483647) that counts up from
    # here: the cap leaves room for more than a billion invoices after the first.
    invoice_start_number = models.PositiveIntegerField(
        default=1,
        validators=[
            MinValueValidator(1),
            MaxValueValidator(INVOICE_START_MAX, message=INVOICE_START_TOO_LARGE),
        ],
    )
    # How far ahead a date may be typed (Settings > Billing details): a payment received
    # in the future is almost always a typo of the year.
    payment_date_max_future_days = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_FUTURE_DAYS)]
    )
    invoice_date_max_future_days = models.PositiveSmallIntegerField(
        default=365, validators=[MaxValueValidator(MAX_FUTURE_DAYS)]
    )
    # Whether clients can pay invoices online. Until a practice connects a payment account
    # (the payments issue sets this), invoices go out saying how to pay by hand (the
    # invoice template's payment instructions) and their link only shows the invoice.
    online_payments_enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(session_idle_minutes__gte=5, session_idle_minutes__lte=480),
                name="practice_idle_minutes_range",
            ),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="practice_currency_iso"),
            models.CheckConstraint(
                condition=models.Q(no_show_fee__gte=0, late_cancel_fee__gte=0), name="practice_fees_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(day_start_hour__lt=models.F("day_end_hour"), day_end_hour__lte=24),
                name="practice_day_hours_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dashboard", kwargs={"practice_slug": self.slug})

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_now(self) -> datetime:
        return timezone.localtime(timezone.now(), self.tzinfo)

    def local_today(self) -> date:
        return self.local_now().date()


class TaxRate(models.Model):
    """A named tax rate of a practice (for example "GST 15%"). One may be the default."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="tax_rates")
    name = models.CharField(max_length=60)
    percent = models.DecimalField(
        max_digits=7, decimal_places=4, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    is_default = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice"], condition=models.Q(is_default=True), name="taxrate_one_default"
            ),
            models.UniqueConstraint(fields=["practice", "name"], name="taxrate_unique_name"),
            models.CheckConstraint(condition=models.Q(percent__gte=0, percent__lte=100), name="taxrate_percent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percent.normalize()}%)"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    CLINICIAN = "clinician", "Clinician"
    BILLER = "biller", "Biller"


class Membership(models.Model):
    """A user's place in one practice, with one role. A user may belong to several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    # The clinician's professional identity in this practice, printed on superbills.
    licence_number = models.CharField(max_length=40, blank=True)
    npi = models.CharField("NPI", max_length=10, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["practice__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="membership_unique_user_practice"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.practice} ({self.get_role_display()})"

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def sees_all_clients(self) -> bool:
        return self.role != Role.CLINICIAN


class StaffInvite(models.Model):
    """An emailed invitation to join a practice with a role, valid for 7 days.

    Only a hash of the token is stored: the link in the email is the secret.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="invites")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invite_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invite {self.email} to {self.practice} as {self.role}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class AuditLog(models.Model):
    """Who did what to which object, when and from where.

    Append-only: a database trigger (migration 0002) refuses UPDATE and DELETE, so not
    even a bug or an admin action can rewrite history.
    """

    practice = models.ForeignKey(Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_rows")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "user" rows have an actor; "system" rows name the job that wrote them.
    # Wide enough for any e-mail address (320, RFC 3696) or a system job's name.
    actor_label = models.CharField(max_length=320)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "-created_at"], name="audit_practice_created")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class PasswordResetRequest(models.Model):
    """A password reset email that was sent (or would have been, for an unknown address).

    Counted per email and per client address over the last hour to throttle reset requests
    (practice.services.password_reset_request); a refused request stores nothing, so
    a flood cannot grow the table past the per-address limit.
    """

    email = models.CharField(max_length=254)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["email", "requested_at"], name="pwreset_email_at"),
            models.Index(fields=["ip_address", "requested_at"], name="pwreset_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d %H:%M} {self.email}"


class OutgoingEmail(models.Model):
    """One email to one person: queued inside the transaction of what it is about, sent after
    commit by the ``practice.tasks.email_send`` task (practice.mail).

    Invariants: ``key`` is unique, so one logical send ("invoice 42 sent on 3 May") is one
    row however often it is queued; a row is sent at most once by this app (the task locks
    it and skips a sent row); ``status`` is sent exactly when ``sent_at`` is set. The same
    ``message_id`` goes out on every attempt, so a copy that a crash between the SMTP
    server's "OK" and the commit makes us send again is one message to the recipient's
    mail system. A ``secret`` row (a sign-in or invitation link) has its body removed once
    sent: the database must not keep a usable link.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.CASCADE, related_name="outgoing_emails"
    )
    key = models.CharField(max_length=200, unique=True)
    # The template it was made from ("staff_invite", "invoice", "reminder").
    topic = models.CharField(max_length=60)
    # What it is about (an invoice, an invite): a generic link, since practice sits below
    # the apps whose rows emails are about.
    about_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    about_id = models.PositiveBigIntegerField(null=True, blank=True)
    from_email = models.CharField(max_length=320)
    to = models.EmailField()
    reply_to = models.EmailField(blank=True)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField()
    secret = models.BooleanField(default=False)
    message_id = models.CharField(max_length=300, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # Set after a transient failure: when the next attempt is due (the sweeper re-queues a
    # row whose retry was lost).
    retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The person who asked for the send (Send on an invoice); empty for a scheduled job's.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="sent", sent_at__isnull=False)
                | (~models.Q(status="sent") & models.Q(sent_at__isnull=True)),
                name="outgoing_email_sent_at_iff_sent",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sent", "failed"]), name="outgoing_email_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(about_type__isnull=True, about_id__isnull=True)
                | models.Q(about_type__isnull=False, about_id__isnull=False),
                name="outgoing_email_about_whole",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="outgoing_email_status_at"),
            models.Index(fields=["about_type", "about_id"], name="outgoing_email_about"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} to {self.to} ({self.status})"


class OutgoingEmailAttachment(models.Model):
    """A file attached to an OutgoingEmail: either stored ``content``, or made when the email
    is sent by the renderer registered under ``renderer`` (practice.mail.attachment_renderer)
    from ``object_id``, so that a PDF is rendered by the worker, not in the request that
    queued the email."""

    email = models.ForeignKey(OutgoingEmail, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField()
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField(null=True, blank=True)
    renderer = models.CharField(max_length=100, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["email", "position"]
        constraints = [
            models.UniqueConstraint(fields=["email", "position"], name="outgoing_attachment_position_unique"),
            models.CheckConstraint(
                condition=models.Q(content__isnull=False, renderer="", object_id__isnull=True)
                | (models.Q(content__isnull=True, object_id__isnull=False) & ~models.Q(renderer="")),
                name="outgoing_attachment_stored_or_rendered",
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class OutboxMessage(models.Model):
    """An email as the development email backend received it (practice.mail.OutboxBackend):
    the whole MIME message, shown at the development-only Outbox page. Never written in
    production, where email goes to the SMTP server in ``EMAIL_URL``."""

    to = models.TextField()
    subject = models.TextField()
    raw = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to}"


THEME_COLOUR_DEFAULT = "#1f5f8b"


class InvoiceLayout(models.TextChoices):
    CLASSIC = "classic", "Classic (letterhead on the left)"
    BANNER = "banner", "Banner (a band of the theme colour)"


class InvoiceTemplate(models.Model):
    """How a practice's invoices, credit invoices and receipts look: one row per practice
    (Settings > Invoice template), made on first save; until then the defaults apply.

    Name, address and tax id left blank fall back to the practice's own (Settings >
    Practice and Billing details), so a practice that never opens this page still prints
    who it is. The logo is a PNG re-encoded by practice.images (never the uploaded bytes),
    stored under MEDIA_ROOT and served only to the practice's own staff.
    """

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="invoice_template")
    logo = models.FileField(upload_to="invoice-logos/", blank=True, max_length=200)
    theme_colour = models.CharField(
        max_length=7,
        default=THEME_COLOUR_DEFAULT,
        validators=[RegexValidator(r"^#[0-9a-f]{6}$", "Enter a colour such as #1f5f8b.")],
    )
    layout = models.CharField(max_length=8, choices=InvoiceLayout.choices, default=InvoiceLayout.CLASSIC)
    display_name = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    footer = models.TextField(blank=True, max_length=1000)
    payment_instructions = models.TextField(blank=True, max_length=1000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(theme_colour__regex=r"^#[0-9a-f]{6}$"), name="invoicetemplate_colour_hex"
            ),
            models.CheckConstraint(
                condition=models.Q(layout__in=["classic", "banner"]), name="invoicetemplate_layout_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice template of {self.practice}"

    @property
    def issuer_name(self) -> str:
        return self.display_name or self.practice.name

    @property
    def issuer_address(self) -> str:
        return self.address or self.practice.billing_address or self.practice.address

    @property
    def issuer_tax_id(self) -> str:
        return self.tax_id or self.practice.tax_id


class JobRun(models.Model):
    """One run of a scheduled job (practice.jobs) for one practice and one local day.

    The unique constraint is the claim: whoever inserts the row runs the job, so a job runs
    once a day however many ticks, workers or Run now clicks ask for it.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="job_runs")
    job = models.CharField(max_length=60)
    local_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    attempts = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "job", "local_date"], name="jobrun_once_a_day"),
            models.CheckConstraint(
                condition=models.Q(status__in=["running", "succeeded", "failed"]), name="jobrun_status_known"
            ),
        ]
        indexes = [models.Index(fields=["practice", "job", "-local_date"], name="jobrun_latest")]

    def __str__(self) -> str:
        return f"{self.job} {self.local_date} ({self.status})"
