"""Cancelling, late cancellations and their fees, as staff see them on the appointment page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments import views
from appointments.models import Appointment, Service
from appointments.services import (
    LATE_CANCEL_ONLY_SCHEDULED,
    appointment_cancel,
    appointment_mark_completed,
    appointment_mark_no_show,
)
from billing.models import BillingItem
from practice.models import FeePolicy
from tests.factories import ClientFactory, ServiceFactory, make_appointment, past_start
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def late_fee_practice(tenant):
    practice = tenant.practice
    practice.late_cancel_policy, practice.late_cancel_fee = FeePolicy.FLAT, D("40.00")
    practice.late_cancel_window_hours = 24
    practice.save()
    return practice


def in_hours(hours: int):
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def cancel_forms(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="[^"]*/cancel/"[^>]*>.*?</form>', html)


# --- "Cancel" lets the practice's window decide ----------------------------------------


def test_cancel_inside_the_window_counts_as_late_and_says_so_with_the_fee(tenant, late_fee_practice, service, ada):
    # Given a session in 3 hours and a 24-hour late-cancel window with a $40 fee
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], in_hours(3))
    page = signed_in(tenant.owner).get(appointment.get_absolute_url()).content.decode()
    # Inside the window the page offers both choices, names the fee and says which is the default
    (no_fee, late) = cancel_forms(page)
    assert 'name="late" value="0"' in no_fee and "Cancel without fee" in no_fee
    assert 'name="late" value="1"' in late and "Late cancel (fee $40.00)" in late
    assert "Late cancel applies by default." in page

    # When the owner cancels leaving it to the window (no ``late`` posted)
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk), follow=True
    )

    # Then the page says it was a late cancellation and that a $40.00 fee was added
    html = response.content.decode()
    assert views.LATE_CANCELLED.format(hours=24) in html
    assert views.LATE_CANCEL_FEE.format(amount="$40.00", clients="Ada Lovelace") in html
    assert 'data-testid="appointment-status">Late-cancelled<' in html
    assert [(i.kind, i.amount) for i in BillingItem.objects.all()] == [(BillingItem.Kind.LATE_CANCEL_FEE, D("40.00"))]


def test_cancel_outside_the_window_is_a_plain_cancellation_without_a_fee(tenant, late_fee_practice, service, ada):
    # Given a session three days ahead
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], in_hours(72))

    # When the owner presses "Cancel"
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk), follow=True
    )

    # Then it is cancelled, not late-cancelled, and nothing is billed
    html = response.content.decode()
    assert views.CANCELLED in html
    assert 'data-testid="appointment-status">Cancelled<' in html
    assert not BillingItem.objects.exists()


def test_late_cancel_inside_the_window_without_a_fee_policy_says_no_fee(tenant, service, ada):
    tenant.practice.late_cancel_window_hours = 24
    tenant.practice.save()
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], in_hours(2))

    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk), follow=True
    )

    html = response.content.decode()
    assert views.LATE_CANCELLED.format(hours=24) + views.LATE_CANCELLED_NO_FEE in html
    assert not BillingItem.objects.exists()


def test_late_cancel_button_is_an_explicit_choice_even_outside_the_window(tenant, late_fee_practice, service, ada):
    # Given a session three days ahead: "Cancel" would not count as late
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], in_hours(72))

    # When staff choose "Late cancel"
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk), {"late": "1"}, follow=True
    )

    # Then it is recorded as a late cancellation with the fee
    html = response.content.decode()
    assert views.LATE_CANCEL_FEE.format(amount="$40.00", clients="Ada Lovelace") in html
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.LATE_CANCELLED


# --- A held session can only be cancelled, not late-cancelled ---------------------------


def test_completed_session_offers_cancel_but_not_late_cancel(tenant, late_fee_practice, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)

    html = signed_in(tenant.owner).get(appointment.get_absolute_url()).content.decode()

    assert ">Cancel</button>" in html
    assert "Late cancel" not in html


def test_late_cancel_of_a_completed_session_is_refused_and_keeps_its_items(tenant, late_fee_practice, service, ada):
    # Given a completed session with its $120 item
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)

    # When someone posts a late cancel anyway
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk), {"late": "1"}, follow=True
    )

    # Then it is refused with the message, still completed, and the session item is kept
    assert LATE_CANCEL_ONLY_SCHEDULED in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED
    assert [(i.kind, i.amount) for i in BillingItem.objects.all()] == [(BillingItem.Kind.SESSION, D("120.00"))]


def test_plain_cancel_of_a_completed_session_removes_its_items(tenant, late_fee_practice, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)

    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk), follow=True
    )

    assert views.CANCELLED_HELD in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert not BillingItem.objects.exists()


def test_late_cancel_of_a_no_show_is_refused_but_a_plain_cancel_works(tenant, service, ada):
    tenant.practice.no_show_policy, tenant.practice.no_show_fee = FeePolicy.FLAT, D("25.00")
    tenant.practice.save()
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    appointment_mark_no_show(appointment=appointment, actor=tenant.owner)

    with pytest.raises(ValidationError) as refused:
        appointment_cancel(appointment=appointment, actor=tenant.owner, late=True)
    assert refused.value.messages == [LATE_CANCEL_ONLY_SCHEDULED]
    assert [i.kind for i in BillingItem.objects.all()] == [BillingItem.Kind.NO_SHOW_FEE]

    outcome = appointment_cancel(appointment=appointment, actor=tenant.owner)

    appointment.refresh_from_db()
    assert (appointment.status, outcome.late) == (Appointment.Status.CANCELLED, False)
    assert not BillingItem.objects.exists()


# --- "Full service price" charges the price list's price ----------------------------------


def services_of_each_kind(practice):
    return {
        "self_pay": ServiceFactory(practice=practice, code="SP", price=D("150.00")),
        "copay": ServiceFactory(
            practice=practice,
            code="CP",
            price=D("160.00"),
            payment_type=Service.PaymentType.COPAY,
            copay_kind=Service.CopayKind.FIXED,
            copay_amount=D("30.00"),
        ),
        "insurance": ServiceFactory(
            practice=practice, code="IN", price=D("200.00"), payment_type=Service.PaymentType.INSURANCE
        ),
    }


@pytest.mark.parametrize(
    ("kind", "fee"), [("self_pay", D("150.00")), ("copay", D("160.00")), ("insurance", D("200.00"))]
)
def test_full_price_no_show_fee_is_the_service_price_whatever_pays(tenant, ada, kind, fee):
    # Given a practice that charges the full service price for a no-show
    tenant.practice.no_show_policy = FeePolicy.FULL
    tenant.practice.save()
    service = services_of_each_kind(tenant.practice)[kind]
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )

    # When the client does not come
    appointment_mark_no_show(appointment=appointment, actor=tenant.owner)

    # Then the fee is the service's full price, without tax
    assert [(i.kind, i.amount, i.tax) for i in BillingItem.objects.all()] == [
        (BillingItem.Kind.NO_SHOW_FEE, fee, D("0"))
    ]


def test_full_price_late_cancel_fee_charges_each_attendee_every_service(tenant, ada):
    # Given a group of two booked for a self-pay, a co-pay and an insurance service
    tenant.practice.late_cancel_policy = FeePolicy.FULL
    tenant.practice.save()
    bea = ClientFactory(practice=tenant.practice, first_name="Bea", last_name="Brown")
    appointment = make_appointment(
        tenant.practice,
        tenant.owner,
        tenant.clinician,
        [ada, bea],
        list(services_of_each_kind(tenant.practice).values()),
        in_hours(72),
    )

    # When staff record a late cancellation
    outcome = appointment_cancel(appointment=appointment, actor=tenant.owner, late=True)

    # Then each attendee owes 150 + 160 + 200
    fees = sorted((i.client.first_name, i.amount) for i in BillingItem.objects.select_related("client"))
    assert fees == [("Ada", D("510.00")), ("Bea", D("510.00"))]
    assert outcome.late and len(outcome.fees) == 2
