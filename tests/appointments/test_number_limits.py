"""No form rounds a number silently and no figure past a column reaches the database
(issue 9, parts 9 and 10): tax rates, co-pay percentages, fees and billing details that
the columns cannot hold exactly are field errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.models import BillingDetail, Service
from billing import services as ss
from billing.models import BillingItem
from practice.models import Practice, TaxRate
from tests.appointments.helpers import details_post, edit_url, service_post
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

D = Decimal


def test_a_tax_rate_finer_than_four_places_is_refused_not_rounded(tenant):
    owner = signed_in(tenant.owner)

    response = owner.post(url(tenant.practice, "billing:tax_rate_new"), {"name": "Odd", "percent": "8.123456"})

    assert response.status_code == 400
    assert ss.TAX_PERCENT_TOO_FINE in response.content.decode()
    assert not TaxRate.objects.filter(practice=tenant.practice).exists()
    ok = owner.post(url(tenant.practice, "billing:tax_rate_new"), {"name": "Odd", "percent": "8.1235"}, follow=True)
    assert "8.1235" in ok.content.decode()
    assert TaxRate.objects.get(practice=tenant.practice).percent == D("8.1235")


def test_editing_a_tax_rate_to_finer_than_four_places_keeps_the_old_rate(tenant):
    rate = TaxRate.objects.create(practice=tenant.practice, name="GST", percent=D("15"))

    response = signed_in(tenant.owner).post(
        url(tenant.practice, "billing:tax_rate_edit", tax_rate_id=rate.pk),
        {"name": "GST", "percent": "15.00001", "is_default": ""},
    )

    assert response.status_code == 400
    assert ss.TAX_PERCENT_TOO_FINE in response.content.decode()
    rate.refresh_from_db()
    assert rate.percent == D("15")


def test_a_copay_percentage_finer_than_four_places_is_refused(tenant):
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:service_new"),
        service_post(payment_type="copay", copay_kind="percent", copay_percent="12.345678"),
    )

    assert response.status_code == 400
    assert not Service.objects.filter(practice=tenant.practice).exists()


def test_a_fee_past_the_column_is_a_field_error_not_a_500(tenant):
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "billing:billing_details"),
        details_post(tenant.practice, no_show_policy="flat", no_show_fee="99999999999"),
    )

    assert response.status_code == 400
    assert ss.FEE_TOO_LARGE in response.content.decode()
    assert Practice.objects.get(pk=tenant.practice.pk).no_show_fee == D("0")


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"units": "999999.99", "unit_price": "999999999.99", "tax_percent": "0"}, ss.LINE_TOO_LARGE),
        ({"units": "1000", "unit_price": "1000000", "tax_percent": "0"}, ss.LINE_TOO_LARGE),
        ({"units": "1", "unit_price": "120", "tax_percent": "8.123456"}, None),
    ],
)
def test_billing_details_past_the_columns_are_field_errors(tenant, completed, post, message):
    detail = BillingDetail.objects.get(appointment=completed)

    response = signed_in(tenant.biller).post(edit_url(completed, detail), post)

    assert response.status_code == 400
    if message:
        assert message in response.content.decode()
    detail.refresh_from_db()
    assert (detail.units, detail.unit_price, detail.tax_percent) == (D("1"), D("120.00"), D("0"))
    assert BillingItem.objects.get(appointment=completed).amount == D("120.00")


def test_the_billing_detail_service_refuses_what_the_columns_cannot_hold(tenant, completed):
    detail = BillingDetail.objects.select_related("appointment__practice").get(appointment=completed)

    with pytest.raises(Exception) as refused:
        ss.billing_detail_update(
            detail=detail, actor=tenant.biller, units=D("1.005"), unit_price=D("120"), tax_percent=D("8.123456")
        )

    assert refused.value.message_dict == {
        "units": [ss.UNITS_TOO_FINE],
        "tax_percent": [ss.TAX_TOO_FINE],
    }
