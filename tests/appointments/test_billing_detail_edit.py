"""Editing an attendee's billing details: prices in the currency's precision, and a price
of 0 bills nothing, exactly as Generate items would leave it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from appointments.models import BillingDetail
from appointments.services import billing_items_generate_for_appointment
from billing.models import BillingItem
from billing.services import billing_detail_update
from practice.inputs import PRICE_TOO_PRECISE
from practice.models import AuditLog
from tests.appointments.helpers import edit_url
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

D = Decimal


def test_a_price_finer_than_cents_is_refused_on_the_form(tenant, completed):
    # Given a USD practice and a completed session billed $120.00
    detail = BillingDetail.objects.get(appointment=completed)

    # When the biller enters 99.999
    response = signed_in(tenant.biller).post(
        edit_url(completed, detail), {"units": "1", "unit_price": "99.999", "tax_percent": "0"}
    )

    # Then the form says so and nothing changes
    assert response.status_code == 400
    assert PRICE_TOO_PRECISE.format(places=2, currency="USD") in response.content.decode()
    detail.refresh_from_db()
    assert detail.unit_price == D("120.00")
    assert BillingItem.objects.get().amount == D("120.00")


def test_a_price_finer_than_the_currency_is_refused_by_the_service(tenant, completed):
    tenant.practice.currency = "JPY"
    tenant.practice.save()
    detail = BillingDetail.objects.select_related("appointment__practice").get(appointment=completed)

    with pytest.raises(ValidationError) as refused:
        billing_detail_update(
            detail=detail, actor=tenant.biller, units=D("1"), unit_price=D("1500.5"), tax_percent=D("0")
        )

    assert refused.value.message_dict == {"unit_price": [PRICE_TOO_PRECISE.format(places=0, currency="JPY")]}


def test_a_price_with_the_currencys_decimals_is_saved(tenant, completed):
    detail = BillingDetail.objects.get(appointment=completed)

    response = signed_in(tenant.biller).post(
        edit_url(completed, detail), {"units": "1", "unit_price": "99.95", "tax_percent": "0"}, follow=True
    )

    assert 'data-testid="uninvoiced-amount">$99.95<' in response.content.decode()


def test_setting_the_price_to_zero_removes_the_uninvoiced_item(tenant, completed):
    # Given a completed session with an uninvoiced $120.00 item
    detail = BillingDetail.objects.get(appointment=completed)

    # When the biller sets the price to 0
    response = signed_in(tenant.biller).post(
        edit_url(completed, detail), {"units": "1", "unit_price": "0", "tax_percent": "0"}, follow=True
    )

    # Then the appointment shows no items, the removal is audited, and Generate items agrees
    html = response.content.decode()
    assert 'data-testid="billing-state">No items<' in html
    assert 'data-testid="billing-item"' not in html
    assert AuditLog.objects.filter(action="billing_item.removed").count() == 1
    assert billing_items_generate_for_appointment(appointment=completed, actor=tenant.biller) == []
    assert not BillingItem.objects.exists()

    # And raising it again bills the new price
    signed_in(tenant.biller).post(edit_url(completed, detail), {"units": "1", "unit_price": "80", "tax_percent": "0"})
    assert [i.amount for i in BillingItem.objects.all()] == [D("80.00")]
