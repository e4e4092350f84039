"""Another practice's appointment is a 404 on every appointment page and action, and
nothing about it changes (tests/test_tenancy_urls.py walks every URL; this names them)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from appointments.models import Appointment, BillingDetail
from billing.models import BillingItem
from tests.factories import ClientFactory, ServiceFactory, make_appointment, past_start
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_tenant):
    practice = other_tenant.practice
    service = ServiceFactory(practice=practice, price=Decimal("100.00"))
    client = ClientFactory(practice=practice)
    return make_appointment(
        practice, other_tenant.owner, other_tenant.clinician, [client], [service], past_start(practice)
    )


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("appointments:detail", "get"),
        ("appointments:complete", "post"),
        ("appointments:cancel", "post"),
        ("appointments:generate_items", "post"),
        ("billing:billing_detail_edit", "get"),
        ("billing:billing_detail_edit", "post"),
    ],
)
def test_another_practices_appointment_is_404_and_unchanged(tenant, foreign, name, method):
    kwargs = {"practice_slug": tenant.practice.slug, "appointment_id": foreign.pk}
    if name == "billing:billing_detail_edit":
        kwargs["detail_id"] = BillingDetail.objects.get(appointment=foreign).pk
    data = {"units": "1", "unit_price": "1", "tax_percent": "0", "late": "1"} if method == "post" else None

    response = getattr(signed_in(tenant.owner), method)(reverse(name, kwargs=kwargs), data)

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == Appointment.Status.SCHEDULED
    assert not BillingItem.objects.exists()
    assert BillingDetail.objects.get(appointment=foreign).unit_price == Decimal("100.00")
