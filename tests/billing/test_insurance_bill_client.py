"""Issue 9, part 16: an insurance session of a completed appointment (which bills the client
nothing, so makes no item) is billed to the client after a denial, at the price entered,
audited, from the appointment page; never twice, never for a session not held."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from appointments.models import Service
from appointments.services import appointment_mark_completed, billing_items_generate_for_appointment
from billing import services
from billing.models import BillingItem
from billing.services import (
    INSURANCE_ALREADY_BILLED,
    INSURANCE_NOT_COMPLETED,
    INSURANCE_NOT_INSURANCE,
    INSURANCE_PRICE_POSITIVE,
    insurance_session_bill_client,
)
from practice.models import AuditLog
from tests.factories import ClientFactory, ServiceFactory, future_start, make_appointment, past_start
from tests.helpers import signed_in

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])


@pytest.fixture
def insured(tenant):
    return ServiceFactory(practice=tenant.practice, name="Assessment", price=D("180.00"), payment_type="insurance")


@pytest.fixture
def held(tenant, ana, insured):
    """A completed insurance-only session: no item for Ana."""
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ana], [insured], start=past_start(tenant.practice)
    )
    assert appointment_mark_completed(appointment=appointment, actor=tenant.owner) == []
    return appointment


def bill_url(tenant, appointment) -> str:
    return reverse(
        "billing:appointment_bill_client",
        kwargs={"practice_slug": tenant.practice.slug, "appointment_id": appointment.pk},
    )


def test_a_denied_insurance_session_is_billed_to_the_client_from_the_appointment_page(tenant, ana, insured, held):
    biller = signed_in(tenant.biller)
    page = biller.get(held.get_absolute_url()).content.decode()
    assert "Bill the client</button>" in page and 'value="180"' in page
    response = biller.post(
        bill_url(tenant, held),
        {"client": ana.pk, "service": insured.pk, "unit_price": "120.00", "reason": "Claim denied: not covered"},
        follow=True,
    )
    html = response.content.decode()
    assert "Assessment is now billed to Ana Smith: $120.00, uninvoiced." in html
    item = BillingItem.objects.get(client=ana)
    assert (item.appointment_id, item.service_id, item.amount, item.invoice_id) == (
        held.pk,
        insured.pk,
        D("120.000"),
        None,
    )
    audit = AuditLog.objects.get(action="billing_item.billed_to_client")
    assert audit.changes["reason"] == "Claim denied: not covered" and audit.changes["unit_price"] == "120.00"
    # The form is gone, the item can be invoiced from the appointment, and Generate items adds no twin
    assert "Bill the client</button>" not in html
    assert billing_items_generate_for_appointment(appointment=held, actor=tenant.owner) == []
    assert BillingItem.objects.filter(client=ana).count() == 1


def test_a_session_is_billed_to_the_client_once(tenant, ana, insured, held):
    insurance_session_bill_client(
        appointment=held, client=ana, service=insured, actor=tenant.biller, unit_price=D("100"), reason="Denied"
    )
    with pytest.raises(ValidationError) as exc:
        insurance_session_bill_client(
            appointment=held, client=ana, service=insured, actor=tenant.biller, unit_price=D("100"), reason="Denied"
        )
    assert exc.value.messages == [INSURANCE_ALREADY_BILLED]
    assert BillingItem.objects.filter(client=ana).count() == 1


def test_only_a_completed_insurance_session_can_be_billed_to_the_client(tenant, ana, insured):
    upcoming = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ana], [insured], start=future_start(tenant.practice)
    )
    with pytest.raises(ValidationError) as exc:
        insurance_session_bill_client(
            appointment=upcoming, client=ana, service=insured, actor=tenant.biller, unit_price=D("90"), reason="x"
        )
    assert exc.value.messages == [INSURANCE_NOT_COMPLETED]
    self_pay = ServiceFactory(practice=tenant.practice, payment_type=Service.PaymentType.SELF_PAY)
    other = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ana], [self_pay], start=past_start(tenant.practice)
    )
    appointment_mark_completed(appointment=other, actor=tenant.owner)
    with pytest.raises(ValidationError) as exc:
        insurance_session_bill_client(
            appointment=other, client=ana, service=self_pay, actor=tenant.biller, unit_price=D("90"), reason="x"
        )
    assert exc.value.messages == [INSURANCE_NOT_INSURANCE]


def test_a_price_of_zero_or_no_reason_is_refused(tenant, ana, insured, held):
    with pytest.raises(ValidationError) as exc:
        insurance_session_bill_client(
            appointment=held, client=ana, service=insured, actor=tenant.biller, unit_price=D("50"), reason=" "
        )
    assert exc.value.message_dict == {"reason": [services.REASON_REQUIRED]}
    with pytest.raises(ValidationError) as exc:
        insurance_session_bill_client(
            appointment=held, client=ana, service=insured, actor=tenant.biller, unit_price=D("0"), reason="Denied"
        )
    assert exc.value.message_dict == {"unit_price": [INSURANCE_PRICE_POSITIVE]}
    assert not BillingItem.objects.exists()


def test_bill_client_refuses_get_a_clinician_and_another_practice(tenant, other_tenant, ana, insured, held):
    target = bill_url(tenant, held)
    data = {"client": ana.pk, "service": insured.pk, "unit_price": "100", "reason": "Denied"}
    assert signed_in(tenant.biller).get(target).status_code == 405
    assert signed_in(tenant.clinician).post(target, data).status_code == 403
    assert "Bill the client</button>" not in signed_in(tenant.clinician).get(held.get_absolute_url()).content.decode()
    # Another practice's appointment, or this appointment with another practice's client
    other_client = ClientFactory(practice=other_tenant.practice)
    other_service = ServiceFactory(practice=other_tenant.practice, payment_type="insurance")
    other_appointment = make_appointment(
        other_tenant.practice,
        other_tenant.owner,
        other_tenant.clinician,
        [other_client],
        [other_service],
        start=past_start(other_tenant.practice),
    )
    foreign = bill_url(tenant, other_appointment)
    assert signed_in(tenant.biller).post(foreign, data).status_code == 404
    assert signed_in(tenant.biller).post(target, {**data, "client": other_client.pk}).status_code == 404
    assert not BillingItem.objects.exists()
