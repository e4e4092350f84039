"""Django admin for services and appointments: appointments are read-only, services keep
the practice rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from appointments.admin import TAX_RATE_OTHER_PRACTICE
from appointments.models import Appointment, Service
from appointments.services import Recurrence
from practice.models import TaxRate
from tests.appointments.helpers import service_post
from tests.factories import ClientFactory, ServiceFactory, past_start

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["service", "appointment", "recurringseries", "billingdetail"], ids=lambda name: name)
def test_changelists_load(superuser_client, completed, model):
    response = superuser_client.get(reverse(f"admin:appointments_{model}_changelist"))

    assert response.status_code == 200


def test_appointment_change_view_shows_the_appointment_without_a_save(superuser_client, completed):
    # When a platform admin opens a completed appointment
    response = superuser_client.get(reverse("admin:appointments_appointment_change", args=[completed.pk]))

    # Then they read it, attendees and billing details included, but cannot save or add
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lovelace" in html and "120.00" in html
    assert 'name="_save"' not in html
    assert 'name="start_0"' not in html and 'name="clinician"' not in html
    assert 'name="attendees-0-client"' not in html and 'name="attendees-MAX_NUM_FORMS" value="0"' in html
    assert reverse("admin:appointments_appointment_add") not in html


def test_posting_a_change_to_an_appointment_is_refused(superuser_client, completed):
    original = (completed.start, completed.clinician_id)

    response = superuser_client.post(
        reverse("admin:appointments_appointment_change", args=[completed.pk]),
        {"clinician": completed.clinician_id, "start_0": "2020-01-01", "start_1": "09:00"},
    )

    assert response.status_code == 403
    completed.refresh_from_db()
    assert (completed.start, completed.clinician_id) == original
    assert completed.status == Appointment.Status.COMPLETED


def test_recurring_series_are_read_only(superuser_client, tenant):
    from appointments.services import appointment_create

    ada = ClientFactory(practice=tenant.practice)
    service = ServiceFactory(practice=tenant.practice)
    (first, *_rest) = appointment_create(
        practice=tenant.practice,
        actor=tenant.owner,
        clinician=tenant.clinician,
        clients=[ada],
        services=[service],
        start=past_start(tenant.practice),
        duration_minutes=50,
        recurrence=Recurrence("weekly", count=2),
    )

    response = superuser_client.get(reverse("admin:appointments_recurringseries_change", args=[first.series_id]))

    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()


def test_service_is_editable_in_admin(superuser_client, tenant):
    service = ServiceFactory(practice=tenant.practice, name="Individual therapy")
    own_rate = TaxRate.objects.create(practice=tenant.practice, name="VAT", percent=Decimal("10"))

    response = superuser_client.post(
        reverse("admin:appointments_service_change", args=[service.pk]),
        service_post(name=service.name, code=service.code, price="160.00", tax_rate=str(own_rate.pk)),
    )

    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.price, service.tax_rate) == (Decimal("160.00"), own_rate)


def test_service_refuses_a_tax_rate_of_another_practice(superuser_client, tenant, other_tenant):
    service = ServiceFactory(practice=tenant.practice, name="Individual therapy")
    foreign_rate = TaxRate.objects.create(practice=other_tenant.practice, name="GST", percent=Decimal("15"))

    response = superuser_client.post(
        reverse("admin:appointments_service_change", args=[service.pk]),
        service_post(name=service.name, code=service.code, tax_rate=str(foreign_rate.pk)),
    )

    assert response.status_code == 200
    assert escape(TAX_RATE_OTHER_PRACTICE) in response.content.decode()
    service.refresh_from_db()
    assert service.tax_rate is None
    assert Service.objects.get(pk=service.pk).practice == tenant.practice
