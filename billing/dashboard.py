"""The dashboard's panels (practice.hooks.register_dashboard_panels): today's schedule, the
work left to do, and billed and collected per week. Registered from BillingConfig.ready().

Each panel is a fixed number of queries, whatever the size of the practice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from practice.access import BILLING_ROLES, OWNER_OR_ADMIN
from practice.models import Membership, Practice, Role
from practice.money import practice_money

from .models import BillingItem, ClientAccount, Invoice, Payment

WEEKS = 12
# Money that arrived and stayed: a reversed payment never counted, a refund is taken off.
COLLECTED_STATUSES = (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED)
ZERO = Decimal("0")


def dashboard_panels(practice: Practice, membership: Membership, today: date) -> dict[str, Any]:
    panels: dict[str, Any] = {}
    if membership.role in OWNER_OR_ADMIN or membership.role == Role.CLINICIAN:
        panels["schedule"] = _schedule(practice, membership, today)
    panels["work"] = _work(practice, membership, today)
    if membership.role in BILLING_ROLES:
        panels["weeks"] = _weeks(practice, today)
    return panels


def _url(practice: Practice, name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"practice_slug": practice.slug, **kwargs})


def _own(sessions: Any, membership: Membership) -> Any:
    """A clinician sees their own sessions; owners and admins see everyone's."""
    if membership.role == Role.CLINICIAN:
        return sessions.filter(clinician_id=membership.user_id)
    return sessions


def _schedule(practice: Practice, membership: Membership, today: date) -> dict[str, Any]:
    day_start = datetime.combine(today, time.min, tzinfo=practice.tzinfo)
    sessions = _own(
        Appointment.objects.filter(practice=practice, start__gte=day_start, start__lt=day_start + timedelta(days=1))
        .exclude(status__in=[Appointment.Status.CANCELLED, Appointment.Status.LATE_CANCELLED])
        .select_related("clinician")
        .prefetch_related("clients")
        .order_by("start", "pk"),
        membership,
    )
    rows = []
    for session in sessions:
        start = timezone.localtime(session.start, practice.tzinfo)
        end = timezone.localtime(session.end, practice.tzinfo)
        rows.append(
            {
                "start": start,
                "time": f"{start:%H:%M}–{end:%H:%M}",  # noqa: RUF001
                "clients": ", ".join(client.display_name for client in session.clients.all()),
                "clinician": session.clinician.get_full_name(),
                "status": session.get_status_display(),
                "url": _url(practice, "appointments:detail", appointment_id=session.pk),
            }
        )
    calendar = _url(practice, "appointments:calendar")
    return {
        "rows": rows,
        "everyone": membership.role != Role.CLINICIAN,
        "url": f"{calendar}?view=day&date={today.isoformat()}",
    }


def _work(practice: Practice, membership: Membership, today: date) -> list[dict[str, Any]]:
    """What is left to do, each with the count, an amount where there is one, and the list."""
    day_start = datetime.combine(today, time.min, tzinfo=practice.tzinfo)
    to_complete = _own(
        Appointment.objects.filter(practice=practice, status=Appointment.Status.SCHEDULED, end__lt=day_start),
        membership,
    ).count()
    calendar = _url(practice, "appointments:calendar")
    work: list[dict[str, Any]] = [
        {
            "label": "Sessions not yet completed",
            "count": to_complete,
            "amount": None,
            "url": f"{calendar}?view=week&date={(today - timedelta(days=7)).isoformat()}",
            "help": "Past sessions still marked scheduled",
        }
    ]
    if membership.role not in BILLING_ROLES:
        return work
    unbilled = BillingItem.objects.filter(practice=practice, invoice__isnull=True).aggregate(
        count=Count("pk"), total=Sum("amount")
    )
    overdue = Invoice.objects.filter(
        practice=practice, kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN, due_date__lt=today, balance__gt=0
    ).aggregate(count=Count("pk"), total=Sum("balance"))
    credit = ClientAccount.objects.filter(client__practice=practice, credit_balance__gt=0).aggregate(
        count=Count("pk"), total=Sum("credit_balance")
    )
    billing = _url(practice, "billing:home")
    invoices = _url(practice, "billing:invoices")
    credits = _url(practice, "billing:credits")
    for label, figures, url, help_text in (
        ("Sessions not yet billed", unbilled, billing, "Billing items on no invoice"),
        ("Overdue invoices", overdue, f"{invoices}?status=overdue", "Open past their due date"),
        ("Credit to apply", credit, f"{credits}?status=issued", "Clients holding credit"),
    ):
        work.append(
            {
                "label": label,
                "count": figures["count"],
                "amount": practice_money(practice, figures["total"] or ZERO),
                "url": url,
                "help": help_text,
            }
        )
    return work


def _weeks(practice: Practice, today: date) -> list[dict[str, Any]]:
    """Billed (invoices issued) and collected (payments received, less refunds) per week,
    Monday to Sunday, for the last WEEKS weeks, oldest first: one query for each figure,
    a filtered sum per week."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=WEEKS - 1 - n) for n in range(WEEKS)]

    def week(field: str, monday: date) -> Q:
        return Q(**{f"{field}__gte": monday, f"{field}__lt": monday + timedelta(days=7)})

    billed = (
        Invoice.objects.filter(practice=practice, kind=Invoice.Kind.INVOICE, issue_date__gte=mondays[0])
        .exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
        .aggregate(**{f"w{n}": Sum("total", filter=week("issue_date", m)) for n, m in enumerate(mondays)})
    )
    collected = Payment.objects.filter(
        practice=practice, status__in=COLLECTED_STATUSES, received_on__gte=mondays[0]
    ).aggregate(
        **{f"w{n}": Sum(F("amount") - F("refunded"), filter=week("received_on", m)) for n, m in enumerate(mondays)}
    )
    return [
        {"monday": m, "billed": billed[f"w{n}"] or ZERO, "collected": collected[f"w{n}"] or ZERO}
        for n, m in enumerate(mondays)
    ]
