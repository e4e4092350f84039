"""The calendar: a week or a day of a practice's sessions, for one clinician or all."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from practice.access import ALL_ROLES, SCHEDULING_ROLES, require_role
from practice.clock import practice_clock
from practice.links import practice_url
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
    show_clinician = clinician is None
    if view != "month":
        _entries_html(grid, practice, highlight=request.GET.get("booked", ""), show_clinician=show_clinician)
    for d in grid.days:
        d.url = link(view="day", date=d.day.isoformat())
    context = {
        "grid": grid,
        "view": view,
        "clinicians": clinicians,
        "clinician": clinician,
        "calendar_owner": owner,
        "can_schedule": can_schedule,
        "show_clinician": show_clinician,
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
    '<a class="tgrid-slot" data-testid="empty-slot" data-time="{value}" href="{url}?date={iso}&amp;time={value}">'
    '<span class="visually-hidden">Book {day} at </span><span class="tgrid-slot-time">{label}</span></a>'
)


def _label(grid: cal.CalendarRange, practice: Practice, new_url: str | None) -> None:
    """Write the grid's dates and times once, in Python: a week holds some 170 empty
    half-hour links and 60 sessions, and formatting each through template filters was
    most of the page's time. The strings are those the filters gave; each value is
    escaped once, not once per link."""
    hours = [(h, practice_clock(practice, h)) for h in grid.hours]
    grid.hour_labels = [label for _, label in hours]
    slots = [(escape(slot.at.strftime("%H:%M")), escape(practice_clock(practice, slot.at))) for slot in grid.slots]
    url = escape(new_url) if new_url is not None else None
    for day in grid.days:
        day.iso = day.day.isoformat()
        day.short = date_format(day.day, "D j M")
        day.long = date_format(day.day, "l j F")
        if url is not None:
            short = escape(day.short)
            day.slot_links = mark_safe(  # noqa: S308 - every value in it is escaped above
                "".join(
                    SLOT_LINK.format(value=value, url=url, iso=day.iso, day=short, label=label)
                    for value, label in slots
                )
            )
        for entry in day.entries:
            entry.start_label = practice_clock(practice, entry.local_start)
            entry.end_label = practice_clock(practice, entry.local_end)


ENTRY = (
    '<li class="tgrid-entry" data-top="{top}" data-height="{height}" data-lane="{lane}" data-lanes="{lanes}">\n'
    '          <a class="appt appt-{status} clin-{colour}{new}" data-testid="appointment" href="{url}" hx-get="{url}"'
    ' hx-target="#flyout" hx-swap="innerHTML">\n'
    '            <span class="appt-time" data-testid="appointment-time">{start}–{end}</span>\n'  # noqa: RUF001
    '            <span class="appt-title">{title}</span>\n'
    '            <span class="appt-meta">{services}{clinician}</span>\n'
    "            {state}\n"
    "          </a>\n"
    "        </li>"
)


def _entries_html(grid: cal.CalendarRange, practice: Practice, *, highlight: str, show_clinician: bool) -> None:
    """Each session of the time grid (week and day views) as its ``<li>``, written here: a
    week of 60 sessions looked up some 40 template variables and ran a URL tag for each,
    which cost more than the week's queries. Every value is escaped."""
    for day in grid.days:
        for e in day.entries:
            appointment = e.appointment
            url = escape(practice_url("appointments:detail", practice.slug, appointment_id=appointment.pk))
            status = appointment.status
            e.html = mark_safe(  # noqa: S308 - every value in it is escaped
                ENTRY.format(
                    top=e.top,
                    height=e.height,
                    lane=e.lane,
                    lanes=e.lanes,
                    status=escape(status),
                    colour=e.colour,
                    new=" is-new" if highlight == str(appointment.pk) else "",
                    url=url,
                    start=escape(e.start_label),
                    end=escape(e.end_label),
                    title=escape(e.title),
                    services=escape(", ".join(e.service_names)),
                    clinician=f" · {escape(appointment.clinician.get_full_name())}" if show_clinician else "",
                    state=(
                        f'<span class="appt-status">{escape(appointment.get_status_display())}</span>'
                        if status != "scheduled"
                        else ""
                    ),
                )
            )
