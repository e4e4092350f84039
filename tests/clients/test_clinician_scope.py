"""A clinician sees only their own: their clients' payers and their own sessions. Booking a
client with a clinician gives the clinician that client."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.services import appointment_create, appointment_update
from clients.models import Client
from practice.models import AuditLog
from tests.factories import ClientFactory, PayerFactory, ServiceFactory, future_start, past_start
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def payers(tenant, clara_client, daniel_client):
    """Clara's client is paid for by Karen; Daniel's by Victor."""
    karen = PayerFactory(practice=tenant.practice, first_name="Karen", last_name="Lima", email="karen@mail.test")
    victor = PayerFactory(practice=tenant.practice, first_name="Victor", last_name="Costa", email="victor@mail.test")
    Client.objects.filter(pk=clara_client.pk).update(payer=karen)
    Client.objects.filter(pk=daniel_client.pk).update(payer=victor)
    return karen, victor


def test_clinician_chooses_only_among_their_clients_payers(tenant, clara_client, payers):
    # When Clara opens the payer page and the settings of her client, and the new-client form
    client = signed_in(tenant.clinician)
    pages = [
        client.get(url(tenant, "clients:payer_new", client_id=clara_client.pk)).content.decode(),
        client.get(url(tenant, "clients:settings", client_id=clara_client.pk)).content.decode(),
        client.get(url(tenant, "clients:new")).content.decode(),
    ]

    # Then Karen (her client's payer) is offered and Victor (Daniel's client's) never is
    assert "karen@mail.test" in pages[0] and "karen@mail.test" in pages[1]
    assert all("victor@mail.test" not in page for page in pages)


def test_owner_still_sees_every_payer(tenant, clara_client, payers):
    html = signed_in(tenant.owner).get(url(tenant, "clients:payer_new", client_id=clara_client.pk)).content.decode()

    assert "karen@mail.test" in html and "victor@mail.test" in html


def test_clinician_cannot_link_a_payer_they_cannot_see(tenant, clara_client, payers):
    _karen, victor = payers

    response = signed_in(tenant.clinician).post(
        url(tenant, "clients:payer_new", client_id=clara_client.pk), {"action": "link", "payer": victor.pk}
    )

    assert response.status_code == 404
    clara_client.refresh_from_db()
    assert clara_client.payer == payers[0]


def test_clinician_sees_only_their_own_appointments_on_the_clients_tab(tenant, clara_client):
    # Given Clara's client also sees Daniel
    service = ServiceFactory(practice=tenant.practice)
    for clinician, days, note in ((tenant.clinician, 3, "with Clara"), (tenant.clinician2, 5, "with Daniel")):
        appointment_create(
            practice=tenant.practice,
            actor=tenant.owner,
            clinician=clinician,
            clients=[clara_client],
            services=[service],
            start=past_start(tenant.practice, days),
            duration_minutes=50,
        )

    # When Clara and the owner open the client's Appointments tab
    tab = url(tenant, "clients:appointments", client_id=clara_client.pk)
    clara_sees = signed_in(tenant.clinician).get(tab).content.decode()
    owner_sees = signed_in(tenant.owner).get(tab).content.decode()

    # Then Clara sees only her session; the owner sees both
    clara, daniel = '<td data-label="Clinician">Clara Test</td>', '<td data-label="Clinician">Daniel Test</td>'
    assert clara in clara_sees and daniel not in clara_sees
    assert clara in owner_sees and daniel in owner_sees


def test_booking_a_client_with_a_clinician_assigns_them(tenant, clara_client, daniel_client):
    # Given Daniel's client, not assigned to Clara
    service = ServiceFactory(practice=tenant.practice, price=Decimal("100"))

    # When the owner books a group session of both clients with Clara
    (appointment,) = appointment_create(
        practice=tenant.practice,
        actor=tenant.owner,
        clinician=tenant.clinician,
        clients=[clara_client, daniel_client],
        services=[service],
        start=future_start(tenant.practice),
        duration_minutes=50,
    )

    # Then Clara can open both attendees from her appointment, and it is audited
    clara = signed_in(tenant.clinician)
    html = clara.get(appointment.get_absolute_url()).content.decode()
    assert "Bruno" in html
    assert clara.get(url(tenant, "clients:detail", client_id=daniel_client.pk)).status_code == 200
    assert set(daniel_client.clinicians.all()) == {tenant.clinician, tenant.clinician2}
    assert AuditLog.objects.filter(action="client.clinician_assigned").count() == 1


def test_moving_an_appointment_to_another_clinician_assigns_them(tenant, clara_client):
    service = ServiceFactory(practice=tenant.practice)
    (appointment,) = appointment_create(
        practice=tenant.practice,
        actor=tenant.owner,
        clinician=tenant.clinician,
        clients=[clara_client],
        services=[service],
        start=future_start(tenant.practice),
        duration_minutes=50,
    )

    appointment_update(
        appointment=appointment,
        actor=tenant.owner,
        clinician=tenant.clinician2,
        clients=[clara_client],
        services=[service],
        start=appointment.start,
        duration_minutes=50,
        location=appointment.location,
    )

    daniel = signed_in(tenant.clinician2)
    assert daniel.get(url(tenant, "clients:detail", client_id=clara_client.pk)).status_code == 200
    assert daniel.get(appointment.get_absolute_url()).status_code == 200


def test_an_unassigned_look_alike_stays_hidden(tenant, clara_client):
    # A client nobody booked with Clara stays out of her list.
    ClientFactory(practice=tenant.practice, first_name="Zed", last_name="Other", clinicians=[tenant.clinician2])

    html = signed_in(tenant.clinician).get(url(tenant, "clients:list")).content.decode()

    assert "Zed" not in html and "Lima" in html
