"""What appointments contributes to the pages of the apps below it (see practice.hooks).

Registered from AppointmentsConfig.ready().
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.urls import reverse

from practice.models import Membership, Practice, Role

from .models import Appointment


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
