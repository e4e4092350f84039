"""An edit that changes nothing writes no audit row; another practice's ids in the
appointment form are a 400 that changes nothing (issue 9 part 18)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment, BillingDetail
from appointments.services import SERVICE_FIELDS, appointment_mark_completed, service_update
from billing.services import (
    BILLING_DETAILS_FIELDS,
    PackageData,
    billing_detail_update,
    billing_details_update,
    package_create,
    package_update,
)
from practice.models import AuditLog
from tests.factories import ClientFactory, ServiceFactory, future_start, make_appointment, past_start
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

D = Decimal


def form_post(tenant, appointment, clients, services, **overrides):
    local = appointment.start.astimezone(ZoneInfo(tenant.practice.timezone))
    data = {
        "clinician": str(appointment.clinician_id),
        "clients": [str(c.pk) for c in clients],
        "services": [str(s.pk) for s in services],
        "date": f"{local:%Y-%m-%d}",
        "start_time": f"{local:%H:%M}",
        "duration_minutes": str(appointment.duration_minutes),
        "location": appointment.location,
        "note": appointment.note,
        "repeat": "none",
        "interval": "1",
        "until": "",
        "count": "",
    }
    data.update(overrides)
    return data


def test_saving_an_appointment_unchanged_writes_no_audit_row(tenant, service, ada):
    # Given a booked appointment
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], future_start(tenant.practice)
    )
    # When the clinician opens it and saves without changing anything
    response = signed_in(tenant.clinician).post(
        url(tenant.practice, "appointments:edit", appointment_id=appointment.pk),
        form_post(tenant, appointment, [ada], [service]),
    )
    # Then it saves and the audit log has no "updated" row
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action="appointment.updated").exists()
    # While a real change is audited
    signed_in(tenant.clinician).post(
        url(tenant.practice, "appointments:edit", appointment_id=appointment.pk),
        form_post(tenant, appointment, [ada], [service], note="Bring the forms"),
    )
    assert AuditLog.objects.filter(action="appointment.updated").count() == 1


def test_another_practices_client_in_the_appointment_form_is_a_400(tenant, other_tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], future_start(tenant.practice)
    )
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ada", last_name="Lovelace")
    twin_service = ServiceFactory(practice=other_tenant.practice, name="Individual therapy")
    for data in (
        form_post(tenant, appointment, [twin], [service]),
        form_post(tenant, appointment, [ada], [twin_service]),
        form_post(tenant, appointment, [ada], [service], clinician=str(other_tenant.clinician.pk)),
    ):
        response = signed_in(tenant.owner).post(
            url(tenant.practice, "appointments:edit", appointment_id=appointment.pk), data
        )
        assert response.status_code == 400
    # And the appointment still has Ada and her service
    appointment.refresh_from_db()
    assert list(appointment.attendees.values_list("client_id", flat=True)) == [ada.pk]
    assert list(appointment.service_links.values_list("service_id", flat=True)) == [service.pk]
    assert appointment.clinician_id == tenant.clinician.pk
    assert not AuditLog.objects.filter(action="appointment.updated").exists()


def test_another_practices_client_in_a_new_appointment_is_a_400(tenant, other_tenant, service):
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ada", last_name="Lovelace")
    appointment = SimpleNamespace(
        clinician_id=tenant.clinician.pk,
        start=future_start(tenant.practice),
        duration_minutes=50,
        location="in_person",
        note="",
    )
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:new"), form_post(tenant, appointment, [twin], [service])
    )
    assert response.status_code == 400
    assert not Appointment.objects.filter(practice=tenant.practice).exists()


def test_saving_billing_details_unchanged_writes_no_audit_row(tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    detail = BillingDetail.objects.get(appointment=appointment)
    response = signed_in(tenant.biller).post(
        url(tenant.practice, "billing:billing_detail_edit", appointment_id=appointment.pk, detail_id=detail.pk),
        {"units": "1", "unit_price": "120.00", "tax_percent": "0"},
    )
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action="billing_detail.changed").exists()
    billing_detail_update(detail=detail, actor=tenant.biller, units=D("1"), unit_price=D("100"), tax_percent=D("0"))
    assert AuditLog.objects.filter(action="billing_detail.changed").count() == 1


def test_saving_a_package_unchanged_writes_no_audit_row(tenant, service):
    data = PackageData(name="Ten sessions", service=service, sessions=10, price=D("900.00"))
    package = package_create(practice=tenant.practice, actor=tenant.owner, data=data)
    package_update(package=package, actor=tenant.owner, data=data)
    assert not AuditLog.objects.filter(action="package.edited").exists()


def test_saving_a_service_unchanged_writes_no_audit_row(tenant, service):
    data = {field: getattr(service, field) for field in SERVICE_FIELDS}
    service_update(service=service, actor=tenant.owner, data=data)
    assert not AuditLog.objects.filter(action="service.updated").exists()


def test_saving_billing_details_settings_unchanged_writes_no_audit_row(tenant):
    practice = tenant.practice
    data = {field: getattr(practice, field) for field in BILLING_DETAILS_FIELDS}
    billing_details_update(practice=practice, actor=tenant.owner, data=data)
    assert not AuditLog.objects.filter(action="practice.billing_details_changed").exists()
