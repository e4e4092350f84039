"""The calendar grid: which appointments fall on which local day, read in a fixed number of
queries whatever the number of appointments (one for the appointments with their
clinician, one each for their attendees and their services).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet

from clients.models import display_name
from practice.access import SCHEDULING_ROLES
from practice.dates import url_date
from practice.models import Membership, Practice, Role, User

from .models import Appointment, AppointmentService, Attendee

VIEWS = ("week", "day", "month")
# Clinician colours: the calendar cycles through this many (calendar.css, .clin-0 to .clin-5).
COLOURS = 6
SLOT_MINUTES = 30


@dataclass
class CalendarEntry:
    appointment: Appointment
    local_start: datetime
    local_end: datetime
    # What the entry prints of its clients and services: their names, in name order.
    client_names: list[str]
    service_names: list[str]
    # Where the entry sits in its day's time grid: percentages of the grid's height, and
    # which of ``lanes`` side-by-side columns it takes when sessions overlap.
    top: float = 0.0
    height: float = 0.0
    lane: int = 0
    lanes: int = 1
    colour: int = 0
    # The start and end as the practice's clock writes them (set by the view).
    start_label: str = ""
    end_label: str = ""
    # The entry's <li> in the week and day views' time grid (set by the view).
    html: str = ""

    @property
    def status(self) -> str:
        return self.appointment.status

    @property
    def title(self) -> str:
        return ", ".join(self.client_names) or "No clients"


@dataclass
class Slot:
    """An empty half hour of the grid: a link to book at that time."""

    at: time
    top: float


@dataclass
class CalendarDay:
    day: date
    is_today: bool
    entries: list[CalendarEntry] = field(default_factory=list)
    in_month: bool = True
    now_top: float | None = None
    url: str = ""  # the calendar's day view of this day
    # Written by the view (appointments.views.calendar._label): the date as the page
    # shows it, and the empty half-hour links of the time grid as one piece of HTML.
    iso: str = ""
    short: str = ""
    long: str = ""
    slot_links: str = ""


@dataclass
class CalendarRange:
    view: str
    anchor: date
    first: date
    days: list[CalendarDay]
    start_hour: int = 8
    end_hour: int = 18
    slots: list[Slot] = field(default_factory=list)
    hour_labels: list[str] = field(default_factory=list)

    @property
    def hours(self) -> list[time]:
        return [time(h) for h in range(self.start_hour, self.end_hour)]

    @property
    def weeks(self) -> list[list[CalendarDay]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def last(self) -> date:
        return self.days[-1].day

    @property
    def step(self) -> timedelta:
        return timedelta(days=7 if self.view == "week" else 1)

    @property
    def previous(self) -> date:
        if self.view == "month":
            return (self.anchor.replace(day=1) - timedelta(days=1)).replace(day=1)
        return self.anchor - self.step

    @property
    def next(self) -> date:
        if self.view == "month":
            return (self.anchor.replace(day=28) + timedelta(days=4)).replace(day=1)
        return self.anchor + self.step


def range_for(view: str, anchor: date) -> tuple[date, int]:
    """First day and length of the range shown: weeks start on Monday."""
    if view == "day":
        return anchor, 1
    if view == "month":
        first_of_month = anchor.replace(day=1)
        first = first_of_month - timedelta(days=first_of_month.weekday())
        last_of_month = (first_of_month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        last = last_of_month + timedelta(days=6 - last_of_month.weekday())
        return first, (last - first).days + 1
    return anchor - timedelta(days=anchor.weekday()), 7


def calendar_appointments(
    practice: Practice, *, start: datetime, end: datetime, clinician: User | None
) -> QuerySet[Appointment]:
    qs = (
        Appointment.objects.filter(practice=practice, start__lt=end, end__gt=start)
        .select_related("clinician")
        .order_by("start", "id")
    )
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    return qs


def _names(appointment_ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """{appointment id: its clients' display names} and {appointment id: its services'
    names}, each in name order: two queries of names only. A prefetch of the clients and
    services built a model and a related manager for each of them, most of a busy week's
    time before the template."""
    clients: dict[int, list[str]] = {}
    services: dict[int, list[str]] = {}
    if not appointment_ids:
        return clients, services
    attendees = (
        Attendee.objects.filter(appointment_id__in=appointment_ids)
        .order_by("client__last_name", "client__first_name", "client_id")
        .values_list("appointment_id", "client__first_name", "client__last_name", "client__preferred_name")
    )
    for appointment_id, first, last, preferred in attendees:
        clients.setdefault(appointment_id, []).append(display_name(first, last, preferred))
    links = (
        AppointmentService.objects.filter(appointment_id__in=appointment_ids)
        .order_by("service__name", "service_id")
        .values_list("appointment_id", "service__name")
    )
    for appointment_id, name in links:
        services.setdefault(appointment_id, []).append(name)
    return clients, services


def calendar_build(
    practice: Practice,
    *,
    view: str,
    anchor: date,
    clinician: User | None,
    colours: dict[int, int] | None = None,
) -> CalendarRange:
    tz = practice.tzinfo
    first, length = range_for(view, anchor)
    today = practice.local_today()
    days = [
        CalendarDay(
            day=first + timedelta(days=i),
            is_today=first + timedelta(days=i) == today,
            in_month=view != "month" or (first + timedelta(days=i)).month == anchor.month,
        )
        for i in range(length)
    ]
    by_day = {d.day: d for d in days}
    # Local midnights, so a week that crosses a DST change still starts and ends at 00:00.
    range_start = datetime.combine(first, time.min, tzinfo=tz)
    range_end = datetime.combine(first + timedelta(days=length), time.min, tzinfo=tz)
    appointments = list(calendar_appointments(practice, start=range_start, end=range_end, clinician=clinician))
    client_names, service_names = _names([appointment.pk for appointment in appointments])
    for appointment in appointments:
        local_start = appointment.start.astimezone(tz)
        entry = CalendarEntry(
            appointment=appointment,
            local_start=local_start,
            local_end=appointment.end.astimezone(tz),
            client_names=client_names.get(appointment.pk, []),
            service_names=service_names.get(appointment.pk, []),
            colour=(colours or {}).get(appointment.clinician_id, 0) % COLOURS,
        )
        bucket = by_day.get(local_start.date()) or days[0]
        bucket.entries.append(entry)
    grid = CalendarRange(view=view, anchor=anchor, first=first, days=days)
    _place(grid, practice)
    return grid


def _minutes(moment: datetime, day: date) -> int:
    """Minutes from the local midnight of ``day`` (a session running past midnight ends at 24:00)."""
    if moment.date() > day:
        return 24 * 60
    return moment.hour * 60 + moment.minute


def _place(grid: CalendarRange, practice: Practice) -> None:
    """Size the time grid to the practice's working hours, widened to fit every session
    shown, then give each entry its top, height and lane and each empty half hour a slot."""
    start_hour, end_hour = practice.day_start_hour, practice.day_end_hour
    for day in grid.days:
        for e in day.entries:
            start_hour = min(start_hour, e.local_start.hour)
            end_minutes = _minutes(e.local_end, day.day)
            end_hour = max(end_hour, -(-end_minutes // 60))
    grid.start_hour, grid.end_hour = start_hour, min(max(end_hour, start_hour + 1), 24)
    origin, span = grid.start_hour * 60, (grid.end_hour - grid.start_hour) * 60

    def pct(minutes: int) -> float:
        return round(max(0, min(minutes - origin, span)) * 100 / span, 3)

    grid.slots = [Slot(at=time(m // 60, m % 60), top=pct(m)) for m in range(origin, origin + span, SLOT_MINUTES)]
    now = practice.local_now()
    for day in grid.days:
        if day.is_today:
            minutes = now.hour * 60 + now.minute
            day.now_top = pct(minutes) if origin <= minutes <= origin + span else None
        _lanes(day.entries)
        for e in day.entries:
            begin = _minutes(e.local_start, day.day)
            e.top = pct(begin)
            # At least a quarter hour high, so a short session stays readable.
            e.height = round(max(pct(_minutes(e.local_end, day.day)) - e.top, 15 * 100 / span), 3)


def _lanes(entries: list[CalendarEntry]) -> None:
    """Overlapping sessions sit side by side: each cluster of overlaps shares its lanes."""
    cluster: list[CalendarEntry] = []
    cluster_end: datetime | None = None
    for e in sorted(entries, key=lambda x: (x.local_start, x.local_end)):
        if cluster_end is not None and e.local_start >= cluster_end:
            _settle(cluster)
            cluster = []
            cluster_end = None
        lane_ends: dict[int, datetime] = {}
        for other in cluster:
            lane_ends[other.lane] = max(lane_ends.get(other.lane, other.local_end), other.local_end)
        e.lane = next((lane for lane in sorted(lane_ends) if lane_ends[lane] <= e.local_start), len(lane_ends))
        cluster.append(e)
        cluster_end = e.local_end if cluster_end is None else max(cluster_end, e.local_end)
    _settle(cluster)


def _settle(cluster: list[CalendarEntry]) -> None:
    lanes = max((e.lane for e in cluster), default=0) + 1
    for e in cluster:
        e.lanes = lanes


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
