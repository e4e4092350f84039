"""Reads shared by the practice views. Each takes the practice (or the user) first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuditLog, Membership, Practice, Role, StaffInvite, User
from .money import practice_money


def memberships_for_user(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, is_active=True).select_related("practice").order_by("practice__name")


def staff_for_practice(practice: Practice) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(practice=practice, is_active=True)
        .select_related("user")
        .order_by("role", "user__email")
    )


def pending_invites(practice: Practice) -> QuerySet[StaffInvite]:
    return StaffInvite.objects.filter(
        practice=practice, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def totp_device_pending(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def audit_rows(
    practice: Practice,
    *,
    action: str = "",
    actor: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditLog]:
    rows = AuditLog.objects.filter(practice=practice)
    if action:
        rows = rows.filter(action__icontains=action)
    if actor:
        rows = rows.filter(actor_label__icontains=actor)
    tz = practice.tzinfo
    if date_from:
        rows = rows.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        rows = rows.filter(created_at__lte=datetime.combine(date_to, time.max, tzinfo=tz))
    return rows.order_by("-created_at", "-id")


def dashboard_summary(practice: Practice, membership: Membership) -> dict[str, Any]:
    """Figures for the dashboard: today's sessions for everyone, money for billing staff.

    A fixed number of queries, whatever the size of the practice.
    """
    from django.db.models import Q, Sum
    from django.urls import reverse

    from appointments.models import Appointment
    from billing.models import BillingItem, Invoice

    now = practice.local_now()
    today = now.date()
    day_start = datetime.combine(today, time.min, tzinfo=practice.tzinfo)
    sessions = Appointment.objects.filter(
        practice=practice,
        start__gte=day_start,
        start__lt=day_start + timedelta(days=1),
        status__in=[Appointment.Status.SCHEDULED, Appointment.Status.COMPLETED],
    )
    if membership.role == Role.CLINICIAN:
        sessions = sessions.filter(clinician_id=membership.user_id)
    slug = practice.slug
    tiles = [
        {
            "label": "Sessions today",
            "value": sessions.count(),
            "url": reverse("appointments:calendar", kwargs={"practice_slug": slug}) + f"?view=day&date={today}",
        }
    ]
    if membership.role != Role.CLINICIAN:
        uninvoiced = BillingItem.objects.filter(practice=practice, invoice__isnull=True).aggregate(total=Sum("amount"))
        owed = Invoice.objects.filter(
            practice=practice, kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN
        ).aggregate(
            outstanding=Sum("balance"),
            overdue=Sum("balance", filter=Q(due_date__lt=today)),
        )
        billing = reverse("billing:home", kwargs={"practice_slug": slug})
        invoices = reverse("billing:invoices", kwargs={"practice_slug": slug})
        for label, amount, url in (
            ("Uninvoiced", uninvoiced["total"], billing),
            ("Outstanding", owed["outstanding"], invoices),
            ("Overdue", owed["overdue"], f"{invoices}?status=overdue"),
        ):
            tiles.append(
                {
                    "label": label,
                    "value": practice_money(practice, amount or Decimal("0")),
                    "url": url,
                }
            )
    return {
        "staff_count": Membership.objects.filter(practice=practice, is_active=True).count(),
        "local_now": now,
        "tiles": tiles,
    }
