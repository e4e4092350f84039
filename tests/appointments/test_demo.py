"""A fresh `manage.py demo_data` is consistent: every clinician can open every client
of their own appointments."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Count

from appointments.models import Appointment, Attendee
from clients.models import Client
from practice.models import Practice

pytestmark = pytest.mark.django_db


def test_fresh_demo_data_gives_each_clinician_the_clients_they_see():
    call_command("demo_data")

    harbour = Practice.objects.get(slug="harbour-street")
    assigned = set(Client.clinicians.through.objects.values_list("client_id", "user_id"))
    attending = set(
        Attendee.objects.filter(appointment__practice=harbour).values_list("client_id", "appointment__clinician_id")
    )
    assert attending and attending <= assigned
    # Each clinician keeps their own third of the clients: booking did not hand out others.
    per_client = Client.objects.filter(practice=harbour).annotate(n=Count("clinicians")).values_list("n", flat=True)
    assert set(per_client) == {1}
    group = Appointment.objects.filter(practice=harbour, note="Anxiety skills group").get()
    assert group.attendees.count() == 4
    assert Appointment.objects.filter(practice=harbour, series__isnull=False).values("series").distinct().count() == 2
