"""The appointment page offers only the actions the services would accept, and says in one
short sentence why one is missing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_cancel, appointment_mark_completed, appointment_mark_no_show
from appointments.views import appointments as views
from billing.models import BillingItem
from practice.models import FeePolicy
from tests.factories import invoice_for, make_appointment, past_start
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def fee_practice(tenant):
    practice = tenant.practice
    practice.late_cancel_policy, practice.late_cancel_fee = FeePolicy.FLAT, Decimal("50.00")
    practice.late_cancel_window_hours = 24
    practice.save()
    return practice


def in_hours(hours: int):
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def page(tenant, appointment: Appointment) -> str:
    return signed_in(tenant.owner).get(appointment.get_absolute_url()).content.decode()


def book(tenant, service, ada, start) -> Appointment:
    return make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], start)


def test_a_session_days_ahead_offers_cancel_but_not_complete_and_says_why(tenant, fee_practice, service, ada):
    html = page(tenant, book(tenant, service, ada, in_hours(72)))

    assert "Mark completed</button>" not in html and ">No-show</button>" not in html
    assert "Generate items</button>" not in html
    assert views.WHY_NOT_STARTED in html and views.WHY_NO_ITEMS_YET in html
    assert ">Cancel</button>" in html and "Cancel without fee" not in html
    assert "Late cancel (fee $50.00)" in html
    assert "Cancel (no fee) applies by default." in html


def test_a_session_inside_the_window_offers_both_cancellations_and_names_the_fee(tenant, fee_practice, service, ada):
    html = page(tenant, book(tenant, service, ada, in_hours(3)))

    assert ">Cancel</button>" not in html
    assert "Cancel without fee</button>" in html and "Late cancel (fee $50.00)</button>" in html
    assert "Late cancel applies by default." in html
    assert "Mark completed</button>" not in html


def test_cancel_without_fee_inside_the_window_bills_nothing(tenant, fee_practice, service, ada):
    appointment = book(tenant, service, ada, in_hours(3))
    response = signed_in(tenant.owner).post(appointment.get_absolute_url() + "cancel/", {"late": "0"}, follow=True)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert views.CANCELLED_WITHOUT_FEE in response.content.decode()
    assert not BillingItem.objects.filter(appointment=appointment).exists()


def test_a_started_scheduled_session_offers_complete_no_show_and_both_cancellations(tenant, fee_practice, service, ada):
    html = page(tenant, book(tenant, service, ada, past_start(tenant.practice)))

    assert "Mark completed</button>" in html and ">No-show</button>" in html
    assert "Cancel without fee</button>" in html and "Late cancel (fee $50.00)</button>" in html
    assert views.WHY_NOT_STARTED not in html
    # Still scheduled: nothing is billed until it is marked held
    assert "Generate items</button>" not in html and views.WHY_NO_ITEMS_YET in html


def test_a_completed_session_offers_no_second_completion_nor_late_cancel(tenant, fee_practice, service, ada):
    appointment = book(tenant, service, ada, past_start(tenant.practice))
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)

    html = page(tenant, appointment)

    assert "Mark completed</button>" not in html and ">No-show</button>" not in html
    assert "Late cancel" not in html
    assert ">Cancel</button>" in html  # uninvoiced items go with it (the model allows it)
    # Its item exists, so Generate items could only create nothing
    assert "Generate items</button>" not in html
    assert views.WHY_ITEMS_CREATED in html


def test_generate_items_comes_back_when_a_completed_session_lacks_an_item(tenant, fee_practice, service, ada):
    appointment = book(tenant, service, ada, past_start(tenant.practice))
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    BillingItem.objects.filter(appointment=appointment).delete()

    html = page(tenant, appointment)
    assert "Generate items</button>" in html and views.WHY_ITEMS_CREATED not in html

    signed_in(tenant.owner).post(appointment.get_absolute_url() + "generate-items/")
    assert BillingItem.objects.filter(appointment=appointment).count() == 1
    assert "Generate items</button>" not in page(tenant, appointment)


def test_a_late_cancellation_offers_generate_items_only_while_its_fee_is_missing(tenant, fee_practice, service, ada):
    appointment = book(tenant, service, ada, in_hours(3))
    appointment_cancel(appointment=appointment, actor=tenant.owner, late=True)
    assert BillingItem.objects.filter(appointment=appointment).count() == 1
    assert "Generate items</button>" not in page(tenant, appointment)

    BillingItem.objects.filter(appointment=appointment).delete()
    assert "Generate items</button>" in page(tenant, appointment)

    fee_practice.late_cancel_policy = FeePolicy.NONE
    fee_practice.save()
    assert "Generate items</button>" not in page(tenant, appointment)


def test_a_no_show_offers_a_plain_cancel_only(tenant, fee_practice, service, ada):
    appointment = book(tenant, service, ada, past_start(tenant.practice))
    appointment_mark_no_show(appointment=appointment, actor=tenant.owner)

    html = page(tenant, appointment)

    assert ">No-show</button>" not in html and "Mark completed</button>" not in html
    assert ">Cancel</button>" in html and "Late cancel" not in html


def test_a_cancelled_session_offers_nothing_and_says_why(tenant, fee_practice, service, ada):
    appointment = book(tenant, service, ada, in_hours(72))
    appointment_cancel(appointment=appointment, actor=tenant.owner)

    html = page(tenant, appointment)

    assert views.WHY_CANCELLED in html
    for label in ("Mark completed", ">No-show", ">Cancel", "Late cancel", "Generate items"):
        assert label + "</button>" not in html.replace(" (fee $50.00)", "")


def test_a_session_with_invoiced_items_offers_no_cancel_and_says_why(tenant, fee_practice, completed):
    invoice_for(BillingItem.objects.get(appointment=completed))
    html = page(tenant, completed)

    assert ">Cancel</button>" not in html
    assert views.WHY_NO_CANCEL_INVOICED in html


def test_the_services_refuse_completing_a_session_not_yet_started(tenant, service, ada):
    appointment = book(tenant, service, ada, in_hours(72))
    response = signed_in(tenant.owner).post(appointment.get_absolute_url() + "complete/", follow=True)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED
    assert "has not started yet" in response.content.decode()
