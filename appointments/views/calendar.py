"""The calendar: a week or a day of a practice's sessions, for one clinician or all."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html_join
from django.utils.http import urlencode

from practice.access import ALL_ROLES, SCHEDULING_ROLES, require_role
from practice.clock import practice_clock
from practice.models import Practice, Role
from practice.types import PracticeRequest

from .. import calendar as cal
from .common import render_local


def calendar_url(practice_slug: str, **params: Any) -> str:
    base = reverse("appointments:calendar", kwargs={"practice_slug": practice_slug})
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(query)}" if query else base


@require_role(*ALL_ROLES)
def calendar_view(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    membership = request.membership
    requested_view = request.GET.get("view", "")
    view = requested_view if requested_view in cal.VIEWS else "week"
    anchor = cal.parse_anchor(request.GET.get("date"), practice.local_today())
    clinicians = cal.calendar_clinicians(practice, membership)
    clinician = None
    if membership.role == Role.CLINICIAN:
        clinician = membership.user
    else:
        wanted = request.GET.get("clinician", "")
        clinician = next((u for u in clinicians if str(u.pk) == wanted), None)
    # Whose calendar the title names: the one chosen, or the practice's only one.
    owner = clinician or (clinicians[0] if len(clinicians) == 1 else None)
    colours = {u.pk: i for i, u in enumerate(clinicians)}
    grid = cal.calendar_build(practice, view=view, anchor=anchor, clinician=clinician, colours=colours)
    clinician_param = clinician.pk if clinician and membership.role != Role.CLINICIAN else ""

    def link(**changes: Any) -> str:
        params = {"view": view, "date": anchor.isoformat(), "clinician": clinician_param, **changes}
        return calendar_url(practice.slug, **params)

    new_url = reverse("appointments:new", kwargs={"practice_slug": practice.slug})
    can_schedule = membership.role in SCHEDULING_ROLES
    _label(grid, practice, new_url if can_schedule and view != "month" else None)
    for d in grid.days:
        d.url = link(view="day", date=d.day.isoformat())
    context = {
        "grid": grid,
        "view": view,
        "clinicians": clinicians,
        "clinician": clinician,
        "calendar_owner": owner,
        "can_schedule": can_schedule,
        "show_clinician": clinician is None,
        "links": {
            "previous": link(date=grid.previous.isoformat()),
            "next": link(date=grid.next.isoformat()),
            "today": link(date=practice.local_today().isoformat()),
            "week": link(view="week"),
            "day": link(view="day"),
            "month": link(view="month"),
        },
        "legend": [(u, colours[u.pk] % cal.COLOURS) for u in clinicians],
        "new_url": new_url,
        "highlight": request.GET.get("booked", ""),
        "calendar_url": calendar_url(practice.slug),
    }
    template = "appointments/calendar.html"
    if request.htmx and request.htmx.target == "calendar":
        template = "appointments/_calendar.html"
    return render_local(request, template, context)


SLOT_LINK = (
    '<a class="tgrid-slot" data-testid="empty-slot" data-time="{}" href="{}?date={}&amp;time={}">'
    '<span class="visually-hidden">Book {} at </span><span class="tgrid-slot-time">{}</span></a>'
)


def _label(grid: cal.CalendarRange, practice: Practice, new_url: str | None) -> None:
    """Write the grid's dates and times once, in Python: a week holds some 170 empty
    half-hour links and 60 sessions, and formatting each through template filters was
    most of the page's time. The strings are those the filters gave."""
    hours = [(h, practice_clock(practice, h)) for h in grid.hours]
    grid.hour_labels = [label for _, label in hours]
    slots = [(slot.at.strftime("%H:%M"), practice_clock(practice, slot.at)) for slot in grid.slots]
    for day in grid.days:
        day.iso = day.day.isoformat()
        day.short = date_format(day.day, "D j M")
        day.long = date_format(day.day, "l j F")
        if new_url is not None:
            day.slot_links = format_html_join(
                "", SLOT_LINK, ((value, new_url, day.iso, value, day.short, label) for value, label in slots)
            )
        for entry in day.entries:
            entry.start_label = practice_clock(practice, entry.local_start)
            entry.end_label = practice_clock(practice, entry.local_end)
