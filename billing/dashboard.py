"""The dashboard's panels (practice.hooks.register_dashboard_panels): today's schedule, the
work left to do, the money tiles (billed and collected this month, outstanding, overdue,
uninvoiced) and billed and collected per week. Registered from BillingConfig.ready().

Each panel is a fixed number of queries, whatever the size of the practice: the money is
one statement with one aggregate per table, each figure a filtered sum in it, so a tile and
the to-do line that show the same money read it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Attendee
from clients.models import Client, display_name
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
    """Today's sessions, read as values: the times, status and clinician's name, then the
    clients' names in a second query (none without sessions). Building the appointments,
    their clinicians and clients as models cost twice what the rows print."""
    day_start = datetime.combine(today, time.min, tzinfo=practice.tzinfo)
    sessions = list(
        _own(
            Appointment.objects.filter(practice=practice, start__gte=day_start, start__lt=day_start + timedelta(days=1))
            .exclude(status__in=[Appointment.Status.CANCELLED, Appointment.Status.LATE_CANCELLED])
            .order_by("start", "pk"),
            membership,
        ).values_list(
            "pk", "start", "end", "status", "clinician__first_name", "clinician__last_name", "clinician__email"
        )
    )
    names: dict[int, list[str]] = {}
    if sessions:
        attendees = (
            Attendee.objects.filter(appointment_id__in=[session[0] for session in sessions])
            .order_by("client__last_name", "client__first_name", "client_id")
            .values_list("appointment_id", "client__first_name", "client__last_name", "client__preferred_name")
        )
        for appointment_id, first, last, preferred in attendees:
            names.setdefault(appointment_id, []).append(display_name(first, last, preferred))
    rows = []
    for pk, starts, ends, status, first, last, email in sessions:
        start = timezone.localtime(starts, practice.tzinfo)
        end = timezone.localtime(ends, practice.tzinfo)
        rows.append(
            {
                "start": start,
                "time": f"{start:%H:%M}–{end:%H:%M}",  # noqa: RUF001
                "clients": ", ".join(names.get(pk, [])),
                # User.get_full_name, from the joined columns.
                "clinician": f"{first} {last}".strip() or email,
                "status": Appointment.Status(status).label,
                "url": _url(practice, "appointments:detail", appointment_id=pk),
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
    """The practice's money as the dashboard shows it, from one query (MONEY_SQL)."""

    month_start: date
    billed_month: Decimal
    collected_month: Decimal
    outstanding: Figure
    overdue: Figure
    uninvoiced: Figure
    credit: Figure
    weeks: list[dict[str, Any]]


def _sums(name: str, column: str, day: str, condition: str) -> str:
    """A SUM per week (<name>_w0 the oldest, each from %(m<n>)s to the next Monday) and
    one for the month so far (<name>_month), of rows meeting the condition."""
    weeks = [
        f"SUM({column}) FILTER (WHERE {condition} AND {day} >= %(m{n})s AND {day} < %(m{n + 1})s) AS {name}_w{n}"
        for n in range(WEEKS)
    ]
    month = f"SUM({column}) FILTER (WHERE {condition} AND {day} >= %(month)s AND {day} <= %(today)s) AS {name}_month"
    return ", ".join([*weeks, month])


def _in(values: Any) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


_NOT_BILLED = _in([Invoice.Status.DRAFT, Invoice.Status.VOID])
_OWING = f"(status = '{Invoice.Status.OPEN}' AND balance > 0)"
_ISSUED = f"(issue_date >= %(since)s AND status NOT IN {_NOT_BILLED})"

# The money of _money in one statement: one pass over each table, each figure a filtered
# sum in it. Written as SQL because the ORM took longer to build the 32 filtered sums
# (about a third of the dashboard's time) than PostgreSQL took to run them.
MONEY_SQL = f"""
SELECT * FROM (
    SELECT {_sums("billed", "total", "issue_date", _ISSUED)},
           COUNT(*) FILTER (WHERE {_OWING}) AS owed_count,
           SUM(balance) FILTER (WHERE {_OWING}) AS owed_total,
           COUNT(*) FILTER (WHERE {_OWING} AND due_date < %(today)s) AS overdue_count,
           SUM(balance) FILTER (WHERE {_OWING} AND due_date < %(today)s) AS overdue_total
    FROM {Invoice._meta.db_table}
    WHERE practice_id = %(practice)s AND kind = '{Invoice.Kind.INVOICE}' AND ({_ISSUED} OR {_OWING})
) billed CROSS JOIN (
    SELECT {_sums("collected", "amount - refunded", "received_on", "TRUE")}
    FROM {Payment._meta.db_table}
    WHERE practice_id = %(practice)s AND received_on >= %(since)s AND status IN {_in(COLLECTED_STATUSES)}
) collected CROSS JOIN (
    SELECT COUNT(*) AS unbilled_count, SUM(amount) AS unbilled_total
    FROM {BillingItem._meta.db_table}
    WHERE practice_id = %(practice)s AND invoice_id IS NULL
) unbilled CROSS JOIN (
    SELECT COUNT(*) AS credit_count, SUM(account.credit_balance) AS credit_total
    FROM {ClientAccount._meta.db_table} account
    JOIN {Client._meta.db_table} client ON client.id = account.client_id
    WHERE client.practice_id = %(practice)s AND account.credit_balance > 0
) credit
"""  # noqa: S608 - the tables, columns and statuses are our own models', the values are parameters


def _money(practice: Practice, today: date) -> Money:
    """Billed (invoices issued, not void) and collected (payments received, less refunds)
    this month and per week, Monday to Sunday, for the last WEEKS weeks, oldest first;
    what open invoices owe and how much of it is overdue; what is not invoiced yet; the
    credit clients hold. One query."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=WEEKS - 1 - n) for n in range(WEEKS + 1)]
    month_start = today.replace(day=1)
    params: dict[str, Any] = {f"m{n}": monday for n, monday in enumerate(mondays)}
    params |= {"practice": practice.pk, "today": today, "month": month_start, "since": min(mondays[0], month_start)}
    with connection.cursor() as cursor:
        cursor.execute(MONEY_SQL, params)
        row = dict(zip([column.name for column in cursor.description], cursor.fetchone(), strict=True))
    return Money(
        month_start=month_start,
        billed_month=row["billed_month"] or ZERO,
        collected_month=row["collected_month"] or ZERO,
        outstanding=Figure(row["owed_count"], row["owed_total"] or ZERO),
        overdue=Figure(row["overdue_count"], row["overdue_total"] or ZERO),
        uninvoiced=Figure(row["unbilled_count"], row["unbilled_total"] or ZERO),
        credit=Figure(row["credit_count"], row["credit_total"] or ZERO),
        weeks=[
            {"monday": m, "billed": row[f"billed_w{n}"] or ZERO, "collected": row[f"collected_w{n}"] or ZERO}
            for n, m in enumerate(mondays[:WEEKS])
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
