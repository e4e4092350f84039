"""The calendar's time grid: hour rows from the practice's working hours, sessions placed
and sized by their time, overlaps side by side, empty slots that book, a month view."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from practice.forms import DAY_HOURS_ORDER
from practice.models import Practice
from tests.appointments.helpers import WEDNESDAY, at
from tests.factories import make_appointment
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def week(tenant, query: str = "date=2026-03-11") -> str:
    return signed_in(tenant.owner).get(url(tenant.practice, "appointments:calendar") + "?" + query).content.decode()


def placed(html: str) -> list[tuple[str, str, str, str]]:
    """(top, height, lane, lanes) of each entry, in page order."""
    return re.findall(
        r'class="tgrid-entry" data-top="([^"]+)" data-height="([^"]+)" data-lane="(\d+)" data-lanes="(\d+)"', html
    )


def test_a_session_is_placed_and_sized_by_its_time_in_the_working_hours(tenant, service, ada):
    # Given working hours 08:00 to 18:00 (ten rows) and a 50-minute session at 13:00
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 13))

    html = week(tenant)

    assert 'data-hours="10"' in html
    # 5 hours into a 10-hour day: half way down; 50 of 600 minutes high
    assert placed(html) == [("50.0", "8.333", "0", "1")]


def test_overlapping_sessions_sit_side_by_side(tenant, service, ada, ben_of_clara):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 9))
    make_appointment(tenant.practice, tenant.owner, tenant.clinician2, [ben_of_clara], [service], at(WEDNESDAY, 9, 30))
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 11))

    lanes = [(lane, n) for _, _, lane, n in placed(week(tenant))]

    assert lanes == [("0", "2"), ("1", "2"), ("0", "1")]


def test_a_session_outside_the_working_hours_widens_the_grid(tenant, service, ada):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 19))

    html = week(tenant)

    assert 'data-hours="12"' in html  # 08:00 to 20:00


def test_an_empty_slot_links_to_the_booking_form_at_its_time(tenant, service, ada):
    html = week(tenant)
    new = url(tenant.practice, "appointments:new")

    assert f'href="{new}?date=2026-03-12&amp;time=14:30"' in html

    form = signed_in(tenant.owner).get(new + "?date=2026-03-12&time=14:30").content.decode()
    assert 'value="2026-03-12"' in form and 'value="14:30"' in form


def test_the_practice_sets_its_calendar_hours_in_settings(tenant):
    client = signed_in(tenant.owner)
    settings_url = url(tenant.practice, "settings_practice")
    data = {
        "name": tenant.practice.name,
        "timezone": tenant.practice.timezone,
        "session_idle_minutes": "30",
        "day_start_hour": "7",
        "day_end_hour": "20",
    }

    client.post(settings_url, data)
    assert Practice.objects.filter(pk=tenant.practice.pk, day_start_hour=7, day_end_hour=20).exists()
    assert 'data-hours="13"' in week(tenant)

    response = client.post(settings_url, {**data, "day_start_hour": "18", "day_end_hour": "9"})
    assert DAY_HOURS_ORDER in response.content.decode()
    assert Practice.objects.filter(pk=tenant.practice.pk, day_start_hour=7).exists()


def test_each_clinician_has_a_colour_and_the_filter_shows_one(tenant, service, ada, ben_of_clara):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 9))
    make_appointment(tenant.practice, tenant.owner, tenant.clinician2, [ben_of_clara], [service], at(WEDNESDAY, 11))

    html = week(tenant)
    colours = re.findall(r'class="appt appt-scheduled (clin-\d)', html)
    assert len(set(colours)) == 2

    only = week(tenant, f"date=2026-03-11&clinician={tenant.clinician2.pk}")
    assert len(placed(only)) == 1


def test_month_view_lists_the_sessions_of_each_day(tenant, service, ada):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 9))
    make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY + timedelta(days=14), 10)
    )

    html = week(tenant, "view=month&date=2026-03-11")

    assert "March 2026" in html
    assert html.count('data-testid="appointment"') == 2
    assert 'data-date="2026-02-23"' in html and 'data-date="2026-04-05"' in html  # whole weeks, Monday first


@pytest.fixture
def ben_of_clara(tenant):
    from tests.factories import ClientFactory

    client = ClientFactory(practice=tenant.practice, first_name="Ben", last_name="Okafor")
    client.clinicians.add(tenant.clinician2)
    return client


def test_today_has_a_now_line_at_the_current_time(tenant):
    # Given a practice whose calendar day is the whole day, so now is always on the grid
    Practice.objects.filter(pk=tenant.practice.pk).update(day_start_hour=0, day_end_hour=24)
    now = tenant.practice.local_now()

    html = signed_in(tenant.owner).get(url(tenant.practice, "appointments:calendar")).content.decode()

    tops = re.findall(r'class="tgrid-now" data-top="([^"]+)"', html)
    assert len(tops) == 1
    assert abs(float(tops[0]) - (now.hour * 60 + now.minute) * 100 / 1440) < 0.2
