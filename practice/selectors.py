"""Reads shared by the practice views. Each takes the practice (or the user) first."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import charts, hooks
from .models import AuditLog, InvoiceTemplate, Membership, Practice, StaffInvite, User


def memberships_for_user(user: User) -> QuerySet[Membership]:
    """The practices ``user`` works in, by name: what the switcher on every staff page and
    the chooser print (the practice's name and link, the role), not the practices' settings."""
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("practice")
        .only("role", "practice_id", "practice__name", "practice__slug")
        .order_by("practice__name")
    )


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
    now = practice.local_now()
    tiles = hooks.dashboard_tiles(practice, membership, now.date())
    panels = hooks.dashboard_panels(practice, membership, now.date())
    weeks = panels.get("weeks")
    return {
        "staff_count": Membership.objects.filter(practice=practice, is_active=True).count(),
        "local_now": now,
        "tiles": tiles + panels.get("tiles", []),
        "schedule": panels.get("schedule"),
        "work": panels.get("work", []),
        "cards": [panels[name] for name in ("autopay", "attention") if panels.get(name)],
        "chart": charts.weekly_bars(practice, weeks) if weeks else None,
    }


def invoice_template_for(practice: Practice) -> InvoiceTemplate:
    """The practice's invoice template, or an unsaved one with the defaults when the
    practice has never saved Settings > Invoice template (nothing is written by a read)."""
    template = InvoiceTemplate.objects.filter(practice=practice).first()
    if template is None:
        template = InvoiceTemplate(practice=practice)
    template.practice = practice  # the caller's instance: no second read for the fallbacks
    return template
