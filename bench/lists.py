"""List benchmarks of the clients and calendar work: the clients list at 5,000 clients and
the calendar week of a clinician with 60 appointments. Each also times the same page at a
small size and records both query counts, which must be equal (no N+1)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.urls import reverse

from appointments.models import Appointment, AppointmentService, Attendee, Service
from clients.models import Client
from practice.models import Practice, User

from .data import bench_practice
from .harness import Context, measure_gets, owner_client

# A week far from the demo's three months, so only the bench's own rows are in it.
SMALL_WEEK = date(2031, 3, 3)
BIG_WEEK = date(2031, 3, 10)


def clients_list(ctx: Context) -> dict[str, Any]:
    """The Clients list (first page) of a practice with 5,000 clients, as its owner."""
    small, _ = bench_practice(ctx.owner, "bench-clients-10", 10)
    big, _ = bench_practice(ctx.owner, "bench-clients-5000", 5000)
    small_figures, figures = measure_gets(
        [owner_client(p) for p in (small, big)],
        [reverse("clients:list", kwargs={"practice_slug": p.slug}) for p in (small, big)],
    )
    if figures["queries"] != small_figures["queries"]:
        raise RuntimeError(f"clients list queries grow with rows: {small_figures['queries']} -> {figures['queries']}")
    return {**figures, "rows": 5000, "queries_at_10_rows": small_figures["queries"]}


def _week_of_appointments(practice: Practice, clinician: User, monday: date, count: int) -> None:
    tz = practice.tzinfo
    service = Service.objects.filter(practice=practice, is_archived=False).order_by("pk").first()
    clients = list(Client.objects.filter(practice=practice).order_by("pk")[:20])
    if Appointment.objects.filter(
        practice=practice, clinician=clinician, start__date__gte=monday, start__date__lt=monday + timedelta(days=7)
    ).exists():
        return
    slots = [(day, hour) for day in range(5) for hour in range(8, 20)][:count]
    appointments = Appointment.objects.bulk_create(
        [
            Appointment(
                practice=practice,
                clinician=clinician,
                start=datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=tz),
                end=datetime.combine(monday + timedelta(days=day), time(hour, 50), tzinfo=tz),
            )
            for day, hour in slots
        ]
    )
    Attendee.objects.bulk_create(
        [Attendee(appointment=a, client=clients[i % len(clients)]) for i, a in enumerate(appointments)]
    )
    if service is not None:
        AppointmentService.objects.bulk_create(
            [AppointmentService(appointment=a, service=service) for a in appointments]
        )


def _calendar(ctx: Context, view: str) -> dict[str, Any]:
    practice = ctx.practice
    clinician = User.objects.get(email="clinician1@harbour.example")
    _week_of_appointments(practice, clinician, SMALL_WEEK, 10)
    _week_of_appointments(practice, clinician, BIG_WEEK, 60)
    url = reverse("appointments:calendar", kwargs={"practice_slug": practice.slug})
    small, figures = measure_gets(
        ctx.client, [f"{url}?view={view}&date={week}&clinician={clinician.pk}" for week in (SMALL_WEEK, BIG_WEEK)]
    )
    return {**figures, "queries_at_10_rows": small["queries"]}


def calendar_day(ctx: Context) -> dict[str, Any]:
    """The day view (a Monday with 12 appointments) of the clinician whose week holds 60."""
    return {**_calendar(ctx, "day"), "rows": 12}


def calendar_week(ctx: Context) -> dict[str, Any]:
    """The week view of one clinician's calendar holding 60 appointments, as the owner."""
    return {**_calendar(ctx, "week"), "rows": 60}
