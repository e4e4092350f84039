"""The calendar grid: which appointments fall on which local day, read in a fixed number of
queries whatever the number of appointments (one for the appointments with their
clinician, one each for their attendees and their services).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet

from clients.models import Client
from practice.access import SCHEDULING_ROLES
from practice.dates import url_date
from practice.models import Membership, Practice, Role, User

from .models import Appointment, Service

VIEWS = ("week", "day")


@dataclass
class CalendarEntry:
    appointment: Appointment
    local_start: datetime
    local_end: datetime
    clients: list[Client]
    services: list[Service]

    @property
    def status(self) -> str:
        return self.appointment.status

    @property
    def title(self) -> str:
        return ", ".join(c.display_name for c in self.clients) or "No clients"


@dataclass
class CalendarDay:
    day: date
    is_today: bool
    entries: list[CalendarEntry] = field(default_factory=list)


@dataclass
class CalendarRange:
    view: str
    anchor: date
    first: date
    days: list[CalendarDay]

    @property
    def last(self) -> date:
        return self.days[-1].day

    @property
    def step(self) -> timedelta:
        return timedelta(days=7 if self.view == "week" else 1)

    @property
    def previous(self) -> date:
        return self.anchor - self.step

    @property
    def next(self) -> date:
        return self.anchor + self.step


def range_for(view: str, anchor: date) -> tuple[date, int]:
    """First day and length of the range shown: weeks start on Monday."""
    if view == "day":
        return anchor, 1
    return anchor - timedelta(days=anchor.weekday()), 7


def calendar_appointments(
    practice: Practice, *, start: datetime, end: datetime, clinician: User | None
) -> QuerySet[Appointment]:
    qs = (
        Appointment.objects.filter(practice=practice, start__lt=end, end__gt=start)
        .select_related("clinician")
        .prefetch_related(
            Prefetch("clients", queryset=Client.objects.order_by("last_name", "first_name")),
            Prefetch("services", queryset=Service.objects.order_by("name")),
        )
        .order_by("start", "id")
    )
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    return qs


def calendar_build(practice: Practice, *, view: str, anchor: date, clinician: User | None) -> CalendarRange:
    tz = practice.tzinfo
    first, length = range_for(view, anchor)
    today = practice.local_today()
    days = [
        CalendarDay(day=first + timedelta(days=i), is_today=first + timedelta(days=i) == today) for i in range(length)
    ]
    by_day = {d.day: d for d in days}
    # Local midnights, so a week that crosses a DST change still starts and ends at 00:00.
    range_start = datetime.combine(first, time.min, tzinfo=tz)
    range_end = datetime.combine(first + timedelta(days=length), time.min, tzinfo=tz)
    for appointment in calendar_appointments(practice, start=range_start, end=range_end, clinician=clinician):
        local_start = appointment.start.astimezone(tz)
        entry = CalendarEntry(
            appointment=appointment,
            local_start=local_start,
            local_end=appointment.end.astimezone(tz),
            clients=list(appointment.clients.all()),
            services=list(appointment.services.all()),
        )
        bucket = by_day.get(local_start.date()) or days[0]
        bucket.entries.append(entry)
    return CalendarRange(view=view, anchor=anchor, first=first, days=days)


def calendar_clinicians(practice: Practice, membership: Membership) -> list[User]:
    """Whose calendars the viewer may open: a clinician only their own."""
    if membership.role == Role.CLINICIAN:
        return [membership.user]
    return list(
        User.objects.filter(
            memberships__practice=practice,
            memberships__is_active=True,
            memberships__role__in=SCHEDULING_ROLES,
        )
        .order_by("first_name", "last_name", "email")
        .distinct()
    )


def parse_anchor(value: Any, default: date) -> date:
    """The date a calendar URL asks for: ``default`` when missing or unreadable, a 404 when
    outside the supported range (the week around 9999-12-31 cannot be computed)."""
    return url_date(value, default)
