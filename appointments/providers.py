"""What appointments contributes to the pages of the apps below it (practice.hooks,
clients.hooks). Registered from AppointmentsConfig.ready().
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.paginator import Paginator
from django.urls import NoReverseMatch, reverse

from clients.hooks import RecordAction
from clients.models import Client
from practice.models import Membership, Practice, Role
from practice.types import PracticeRequest

from .models import Appointment
from .selectors import client_appointments

# As the client list's pages (clients.views.PAGE_SIZE).
CLIENT_APPOINTMENTS_PAGE_SIZE = 25


def dashboard_sessions_tile(practice: Practice, membership: Membership, today: date) -> list[dict[str, Any]]:
    """The dashboard's "Sessions today": a clinician counts only their own."""
    day_start = datetime.combine(today, time.min, tzinfo=practice.tzinfo)
    sessions = Appointment.objects.filter(
        practice=practice,
        start__gte=day_start,
        start__lt=day_start + timedelta(days=1),
        status__in=[Appointment.Status.SCHEDULED, Appointment.Status.COMPLETED],
    )
    if membership.role == Role.CLINICIAN:
        sessions = sessions.filter(clinician_id=membership.user_id)
    url = reverse("appointments:calendar", kwargs={"practice_slug": practice.slug})
    return [{"label": "Sessions today", "value": sessions.count(), "url": f"{url}?view=day&date={today}"}]


# --- the client record (clients.hooks) ---------------------------------------------------


def client_overview_context(request: PracticeRequest, client: Client) -> dict[str, Any]:
    """The Overview tab's next scheduled session."""
    practice = request.practice
    upcoming = client_appointments(practice, request.membership, client).filter(
        start__gte=practice.local_now(), status="scheduled"
    )
    return {"next_appointment": upcoming.order_by("start").first()}


def client_appointments_context(request: PracticeRequest, client: Client) -> dict[str, Any]:
    """The Appointments tab: the client's sessions, a page at a time."""
    appointments = client_appointments(request.practice, request.membership, client)
    page = Paginator(appointments, CLIENT_APPOINTMENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return {"page": page, "appointment_links": _appointment_links()}


def _appointment_links() -> bool:
    # The appointment page comes with the calendar; link to it once it exists.
    try:
        reverse("appointments:detail", kwargs={"practice_slug": "x", "appointment_id": 1})
    except NoReverseMatch:
        return False
    return True


def client_record_book(request: PracticeRequest, client: Client) -> list[RecordAction]:
    """Book, first on the client record's header, for everyone who may open the record:
    the booking form opens with this client chosen."""
    new = reverse("appointments:new", kwargs={"practice_slug": request.practice.slug})
    return [RecordAction(label="Book", url=f"{new}?client={client.pk}", primary=True)]
