"""The dashboard's panels (practice.hooks.register_dashboard_panels): today's schedule, the
work left to do, the money tiles (billed and collected this month, outstanding, overdue,
uninvoiced) and billed and collected per week. Registered from BillingConfig.ready().

Each panel is a fixed number of queries, whatever the size of the practice: one aggregate
per table, each figure a filtered sum in it, so a tile and the to-do line that show the
same money read it once.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from .selectors.home import COLLECTED_STATUSES

WEEKS = 12
ZERO = Decimal("0")


def dashboard_panels(practice: Practice, membership: Membership, today: date) -> dict[str, Any]:
    panels: dict[str, Any] = {}
    if membership.role in OWNER_OR_ADMIN or membership.role == Role.CLINICIAN:
        panels["schedule"] = _schedule(practice, membership, today)
    panels["work"] = _work(practice, membership, today)
    if membership.role in BILLING_ROLES:
        money = _money(practice, today)
        panels["tiles"] = _tiles(practice, money, today)
        panels["work"].extend(_money_work(practice, money))
        panels["weeks"] = money.weeks
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
    """Sessions left to mark, with the calendar week they are in (a clinician's own)."""
    day_start = datetime.combine(today, time.min, tzinfo=practice.tzinfo)
    to_complete = _own(
        Appointment.objects.filter(practice=practice, status=Appointment.Status.SCHEDULED, end__lt=day_start),
        membership,
    ).count()
    calendar = _url(practice, "appointments:calendar")
    return [
        {
            "label": "Sessions not yet completed",
            "count": to_complete,
            "amount": None,
            "url": f"{calendar}?view=week&date={(today - timedelta(days=7)).isoformat()}",
            "help": "Past sessions still marked scheduled",
        }
    ]


@dataclass(frozen=True)
class Figure:
    count: int
    total: Decimal


@dataclass(frozen=True)
class Money:
    """The practice's money as the dashboard shows it, from four aggregate queries."""

    month_start: date
    billed_month: Decimal
    collected_month: Decimal
    outstanding: Figure
    overdue: Figure
    uninvoiced: Figure
    credit: Figure
    weeks: list[dict[str, Any]]


def _money(practice: Practice, today: date) -> Money:
    """Billed (invoices issued, not void) and collected (payments received, less refunds)
    this month and per week, Monday to Sunday, for the last WEEKS weeks, oldest first;
    what open invoices owe and how much of it is overdue; what is not invoiced yet; the
    credit clients hold."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=WEEKS - 1 - n) for n in range(WEEKS)]
    month_start = today.replace(day=1)
    since = min(mondays[0], month_start)

    def between(field: str, start: date, end: date) -> Q:
        return Q(**{f"{field}__gte": start, f"{field}__lt": end})

    def weekly(field: str) -> dict[str, Q]:
        return {f"w{n}": between(field, m, m + timedelta(days=7)) for n, m in enumerate(mondays)}

    # One read of the invoices for the billed figures and what open invoices owe.
    issued = Q(issue_date__gte=since) & ~Q(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
    owing = Q(status=Invoice.Status.OPEN, balance__gt=0)
    late = owing & Q(due_date__lt=today)
    billed_in = weekly("issue_date") | {"month": between("issue_date", month_start, today + timedelta(days=1))}
    invoices = Invoice.objects.filter(practice=practice, kind=Invoice.Kind.INVOICE).filter(issued | owing)
    billed = invoices.aggregate(
        **{key: Sum("total", filter=issued & q) for key, q in billed_in.items()},
        owed_count=Count("pk", filter=owing),
        owed_total=Sum("balance", filter=owing),
        overdue_count=Count("pk", filter=late),
        overdue_total=Sum("balance", filter=late),
    )
    received = F("amount") - F("refunded")
    received_in = weekly("received_on") | {"month": between("received_on", month_start, today + timedelta(days=1))}
    collected = Payment.objects.filter(
        practice=practice, status__in=COLLECTED_STATUSES, received_on__gte=since
    ).aggregate(**{key: Sum(received, filter=q) for key, q in received_in.items()})
    unbilled = BillingItem.objects.filter(practice=practice, invoice__isnull=True).aggregate(
        count=Count("pk"), total=Sum("amount")
    )
    credit = ClientAccount.objects.filter(client__practice=practice, credit_balance__gt=0).aggregate(
        count=Count("pk"), total=Sum("credit_balance")
    )
    return Money(
        month_start=month_start,
        billed_month=billed["month"] or ZERO,
        collected_month=collected["month"] or ZERO,
        outstanding=Figure(billed["owed_count"], billed["owed_total"] or ZERO),
        overdue=Figure(billed["overdue_count"], billed["overdue_total"] or ZERO),
        uninvoiced=Figure(unbilled["count"], unbilled["total"] or ZERO),
        credit=Figure(credit["count"], credit["total"] or ZERO),
        weeks=[
            {"monday": m, "billed": billed[f"w{n}"] or ZERO, "collected": collected[f"w{n}"] or ZERO}
            for n, m in enumerate(mondays)
        ],
    )


def _tiles(practice: Practice, money: Money, today: date) -> list[dict[str, Any]]:
    """The money tiles, each linking to the list that adds up to it."""
    invoices = _url(practice, "billing:invoices")
    payments = _url(practice, "billing:payments")
    month = f"date_from={money.month_start.isoformat()}&date_to={today.isoformat()}"
    return [
        {
            "label": label,
            "value": practice_money(practice, amount),
            "url": url,
            "help": help_text,
            "testid": testid,
        }
        for label, amount, url, help_text, testid in (
            (
                "Billed this month",
                money.billed_month,
                f"{invoices}?status=billed&{month}",
                "Invoices issued since the 1st",
                "billed-month",
            ),
            (
                "Collected this month",
                money.collected_month,
                f"{payments}?status=collected&{month}",
                "Payments received, less refunds",
                "collected-month",
            ),
            ("Outstanding", money.outstanding.total, f"{invoices}?status=open", "Owed on open invoices", "outstanding"),
            ("Overdue", money.overdue.total, f"{invoices}?status=overdue", "Past the due date", "overdue"),
            (
                "Uninvoiced",
                money.uninvoiced.total,
                _url(practice, "billing:home"),
                "Not on an invoice yet",
                "uninvoiced",
            ),
        )
    ]


def _money_work(practice: Practice, money: Money) -> list[dict[str, Any]]:
    """What is left to do with money, each with the count, the amount and the list."""
    return [
        {
            "label": label,
            "count": figure.count,
            "amount": practice_money(practice, figure.total),
            "url": url,
            "help": help_text,
        }
        for label, figure, url, help_text in (
            (
                "Sessions not yet billed",
                money.uninvoiced,
                _url(practice, "billing:home"),
                "Billing items on no invoice",
            ),
            (
                "Overdue invoices",
                money.overdue,
                f"{_url(practice, 'billing:invoices')}?status=overdue",
                "Open past their due date",
            ),
            (
                "Credit to apply",
                money.credit,
                f"{_url(practice, 'billing:credits')}?status=issued",
                "Clients holding credit",
            ),
        )
    ]
