"""Booking from the calendar: pickers, the default clinician, the practice's clock, the new
appointment highlighted, and status actions that update the side panel in place."""

from __future__ import annotations

import re

import pytest

from appointments.models import Appointment
from practice.clock import practice_clock, uses_24_hour
from tests.appointments.helpers import WEDNESDAY, at, form_post
from tests.factories import make_appointment, past_start
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def test_the_clock_follows_the_practice_locale(tenant):
    from datetime import time

    practice = tenant.practice
    practice.locale = "en_US"
    assert practice_clock(practice, time(14, 5)) == "2:05 PM"
    practice.locale = "en_GB"
    assert practice_clock(practice, time(14, 5)) == "14:05"
    assert uses_24_hour("de_DE") and not uses_24_hour("en_US")


def test_a_24_hour_practice_sees_24_hour_times_on_the_calendar(tenant, service, ada):
    tenant.practice.locale = "en_GB"
    tenant.practice.save()
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 14))

    html = signed_in(tenant.owner).get(url(tenant.practice, "appointments:calendar") + "?date=2026-03-11").content
    assert "14:00–14:50" in html.decode()  # noqa: RUF001


def test_the_booking_form_defaults_to_the_signed_in_clinician_and_offers_pickers(tenant):
    html = signed_in(tenant.clinician2).get(url(tenant.practice, "appointments:new")).content.decode()

    assert re.search(rf'<option value="{tenant.clinician2.pk}" selected>', html)
    assert 'data-typeahead="clients"' in html and 'data-typeahead="services"' in html
    assert "vendor/tom-select/tom-select.complete.min" in html


def test_a_group_booking_lands_highlighted_on_the_calendar(tenant, service, ada):
    from tests.factories import ClientFactory

    ben = ClientFactory(practice=tenant.practice, first_name="Ben", last_name="Okafor")
    ben.clinicians.add(tenant.clinician)
    client = signed_in(tenant.owner)

    response = client.post(url(tenant.practice, "appointments:new"), form_post(tenant, [ada, ben], [service]))

    booked = Appointment.objects.get()
    assert booked.clients.count() == 2
    assert f"booked={booked.pk}" in response["Location"]
    html = client.get(response["Location"]).content.decode()
    assert re.search(r'class="appt appt-scheduled clin-\d is-new"[^>]*href="' + booked.get_absolute_url(), html)


def test_mark_completed_from_the_side_panel_updates_the_panel_in_place(tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    client = signed_in(tenant.owner)
    headers = {"HX-Request": "true", "HX-Target": "flyout"}

    panel = client.get(appointment.get_absolute_url(), headers=headers).content.decode()
    assert 'hx-post="' + appointment.get_absolute_url() + 'complete/"' in panel

    response = client.post(appointment.get_absolute_url() + "complete/", headers=headers)

    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "calendar-changed"
    assert 'data-testid="flyout"' in html and "<html" not in html
    assert "Marked completed. 1 billing item(s) created." in html
    assert 'data-testid="appointment-status">Completed<' in html


def _chosen_clients(html: str) -> list[str]:
    select = re.search(r'<select name="clients".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="(\d+)"[^>]*selected', select)


def test_book_from_a_client_record_opens_the_form_with_that_client(tenant, ada):
    record = signed_in(tenant.owner).get(url(tenant.practice, "clients:detail", client_id=ada.pk)).content.decode()
    book = re.search(r'href="([^"]+)">Book<', record).group(1).replace("&amp;", "&")
    assert book == f"{url(tenant.practice, 'appointments:new')}?client={ada.pk}"
    html = signed_in(tenant.owner).get(book).content.decode()
    assert _chosen_clients(html) == [str(ada.pk)]


def test_a_client_the_viewer_may_not_see_is_not_chosen(tenant, other_tenant, ada):
    from tests.factories import ClientFactory

    foreign = ClientFactory(practice=other_tenant.practice)
    unassigned = ClientFactory(practice=tenant.practice)
    new = url(tenant.practice, "appointments:new")
    owner, clinician = signed_in(tenant.owner), signed_in(tenant.clinician)
    for viewer, raw in ((owner, foreign.pk), (clinician, unassigned.pk), (owner, "x1"), (owner, "١٢")):
        response = viewer.get(f"{new}?client={raw}")
        assert response.status_code == 200
        assert _chosen_clients(response.content.decode()) == []
