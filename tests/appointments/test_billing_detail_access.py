"""Who may change what a session bills (issue 9 part 19): owner, admin and biller always;
clinicians only for their own sessions, and only when the practice setting allows it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from appointments.models import BillingDetail
from appointments.services import appointment_mark_completed
from billing.models import BillingItem
from practice.access import BILLING_DETAILS_REFUSED
from practice.models import AuditLog, Practice, Role
from tests.appointments.helpers import edit_url
from tests.factories import ClientFactory, ServiceFactory, make_appointment, past_start
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

D = Decimal
# The Edit link of a billing detail row (its accessible name ends with what it edits).
EDIT_LINK = "billing details of Ada Lovelace"
NEW_PRICE = {"units": "1", "unit_price": "90.00", "tax_percent": "0"}


@pytest.fixture
def completed(tenant):
    """Clara's (tenant.clinician's) completed session with Ada, billed 120.00."""
    service = ServiceFactory(practice=tenant.practice, name="Individual therapy", price=D("120.00"))
    ada = ClientFactory(practice=tenant.practice, first_name="Ada", last_name="Lovelace")
    ada.clinicians.add(tenant.clinician, tenant.clinician2)
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    return appointment


def detail_url(appointment) -> str:
    return reverse(
        "appointments:detail", kwargs={"practice_slug": appointment.practice.slug, "appointment_id": appointment.pk}
    )


def allow_clinicians(practice: Practice, allowed: bool = True) -> None:
    Practice.objects.filter(pk=practice.pk).update(clinicians_edit_billing_details=allowed)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLER])
def test_owner_admin_and_biller_change_the_price(tenant, completed, role):
    browser = signed_in(tenant.member(role))
    assert EDIT_LINK in browser.get(detail_url(completed)).content.decode()
    response = browser.post(edit_url(completed), NEW_PRICE)
    assert response.status_code == 302
    assert BillingItem.objects.get().amount == D("90.00")


def test_by_default_a_clinician_cannot_change_the_price_of_her_own_session(tenant, completed):
    clara = signed_in(tenant.clinician)
    # The appointment shows what is billed, without an Edit link
    page = clara.get(detail_url(completed)).content.decode()
    assert "Individual therapy" in page and EDIT_LINK not in page
    # Opening or posting the form is a 403 that says who may
    opened = clara.get(edit_url(completed))
    assert opened.status_code == 403
    assert escape(BILLING_DETAILS_REFUSED) in opened.content.decode()
    assert clara.post(edit_url(completed), NEW_PRICE).status_code == 403
    # And the item still bills 120.00
    assert BillingItem.objects.get().amount == D("120.00")
    assert BillingDetail.objects.get().unit_price == D("120.00")


def test_with_the_setting_a_clinician_changes_her_own_sessions_price(tenant, completed):
    allow_clinicians(tenant.practice)
    clara = signed_in(tenant.clinician)
    assert EDIT_LINK in clara.get(detail_url(completed)).content.decode()
    response = clara.post(edit_url(completed), NEW_PRICE)
    assert response.status_code == 302
    assert BillingItem.objects.get().amount == D("90.00")


def test_with_the_setting_a_clinician_still_cannot_change_a_colleagues_session(tenant, completed):
    # Daniel shares the client but the session is Clara's; he cannot reach it (404) or edit it
    allow_clinicians(tenant.practice)
    daniel = signed_in(tenant.clinician2)
    assert daniel.post(edit_url(completed), NEW_PRICE).status_code in (403, 404)
    assert BillingItem.objects.get().amount == D("120.00")


def test_the_owner_turns_the_setting_on_in_billing_details_and_it_is_audited(tenant):
    owner = signed_in(tenant.owner)
    page_url = reverse("billing:billing_details", kwargs={"practice_slug": tenant.practice.slug})
    page = owner.get(page_url).content.decode()
    assert "Clinicians may change what their own sessions bill" in page
    practice = tenant.practice
    data = {
        "currency": practice.currency,
        "timezone": practice.timezone,
        "billing_address": "",
        "tax_id": "",
        "no_show_policy": practice.no_show_policy,
        "no_show_fee": "0",
        "late_cancel_policy": practice.late_cancel_policy,
        "late_cancel_fee": "0",
        "late_cancel_window_hours": "24",
        "clinicians_edit_billing_details": "on",
    }
    response = owner.post(page_url, data)
    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.clinicians_edit_billing_details is True
    row = AuditLog.objects.get(action="practice.billing_details_changed")
    assert row.changes["clinicians_edit_billing_details"] == [False, True]
