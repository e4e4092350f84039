"""The overlap warning covers every occurrence an appointment form would book or move."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment
from appointments.services import Recurrence, appointment_create
from tests.appointments.helpers import WEDNESDAY, at, form_post
from tests.factories import ClientFactory
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def ben(tenant):
    client = ClientFactory(practice=tenant.practice, first_name="Ben", last_name="Okafor")
    client.clinicians.add(tenant.clinician)
    return client


def book(tenant, clients, services, start, **extra):
    return appointment_create(
        practice=tenant.practice,
        actor=tenant.owner,
        clinician=tenant.clinician,
        clients=clients,
        services=services,
        start=start,
        duration_minutes=50,
        **extra,
    )


def test_a_weekly_series_warns_about_a_clash_on_its_third_week(tenant, service, ada, ben):
    # Given Clara already sees Ben on the third Wednesday at 9:30
    book(tenant, [ben], [service], at(WEDNESDAY + timedelta(weeks=2), 9, 30))
    client = signed_in(tenant.owner)
    data = form_post(tenant, [ada], [service], repeat="weekly", count="4")

    # When she books Ada weekly at 9:00 for four weeks
    first = client.post(url(tenant.practice, "appointments:new"), data)

    # Then the warning names the third week's clash and nothing is booked
    html = first.content.decode()
    assert first.status_code == 409
    assert 'data-testid="overlap-warning"' in html
    assert "Wed 25 Mar 9:30 AM" in html
    assert Appointment.objects.count() == 1

    # And the second click books all four
    token = re.search(r'name="confirm_overlap" value="([^"]+)"', html).group(1)
    second = client.post(url(tenant.practice, "appointments:new"), {**data, "confirm_overlap": token}, follow=True)
    assert "4 appointments booked." in second.content.decode()


def test_the_warning_is_one_query_however_many_occurrences(tenant, service, ada, ben):
    book(tenant, [ben], [service], at(WEDNESDAY, 9, 30))
    client = signed_in(tenant.owner)

    def queries(count: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                url(tenant.practice, "appointments:new"),
                form_post(tenant, [ada], [service], repeat="weekly", count=count),
            )
        assert response.status_code == 409
        return len(captured)

    queries("2")  # the first request of a session loads what later ones have cached
    assert queries("3") == queries("40")


def test_this_and_following_warns_about_a_clash_of_a_later_occurrence(tenant, service, ada, ben):
    # Given a weekly 9:00 series of three and, in its third week, another session at 14:00
    series = book(tenant, [ada], [service], at(WEDNESDAY, 9), recurrence=Recurrence("weekly", count=3))
    book(tenant, [ben], [service], at(WEDNESDAY + timedelta(weeks=2), 14))
    client = signed_in(tenant.owner)
    data = form_post(tenant, [ada], [service], start_time="14:00", scope="following")
    for name in ("repeat", "interval", "until", "count"):
        del data[name]

    # When the first occurrence is moved to 14:00 "this and following"
    response = client.post(url(tenant.practice, "appointments:edit", appointment_id=series[0].pk), data)

    # Then the third week's clash is shown and nothing moves
    assert response.status_code == 409
    assert "Wed 25 Mar 2:00 PM" in response.content.decode()
    assert [a.start for a in Appointment.objects.filter(series__isnull=False)] == [a.start for a in series]


def test_this_occurrence_only_does_not_warn_about_later_weeks(tenant, service, ada, ben):
    series = book(tenant, [ada], [service], at(WEDNESDAY, 9), recurrence=Recurrence("weekly", count=3))
    book(tenant, [ben], [service], at(WEDNESDAY + timedelta(weeks=2), 14))
    data = form_post(tenant, [ada], [service], start_time="14:00", scope="this")
    for name in ("repeat", "interval", "until", "count"):
        del data[name]

    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:edit", appointment_id=series[0].pk), data, follow=True
    )

    assert "Appointment saved." in response.content.decode()
