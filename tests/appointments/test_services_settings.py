"""Settings > Services and Settings > Billing details, as an owner, admin or biller sees them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from appointments import services as ss
from appointments.models import Service
from billing.models import Invoice
from billing.services import CURRENCY_LOCKED, FEE_REQUIRED, TAX_PERCENT_RANGE, billing_details_update
from practice.access import ROLE_REFUSED
from practice.models import AuditLog, Practice, TaxRate
from practice.numbers import ENTER_NUMBER
from tests.appointments.helpers import details_post, service_post
from tests.factories import ClientFactory, ServiceFactory, make_appointment
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


# --- Services ------------------------------------------------------------------------


def test_owner_adds_a_service_and_sees_it_on_the_price_list(tenant):
    client = signed_in(tenant.owner)

    response = client.post(url(tenant.practice, "appointments:service_new"), service_post(), follow=True)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Service Individual therapy added." in text
    assert "90837" in text and "$150.00" in text and "50 min" in text
    service = Service.objects.get(practice=tenant.practice)
    assert service.price == Decimal("150.00")
    assert AuditLog.objects.filter(action="service.created", object_id=str(service.pk)).exists()


def test_biller_may_manage_services_but_a_clinician_may_not(tenant):
    assert signed_in(tenant.biller).get(url(tenant.practice, "appointments:services")).status_code == 200

    response = signed_in(tenant.clinician).get(url(tenant.practice, "appointments:services"))

    assert response.status_code == 403
    assert ROLE_REFUSED in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"price": "-5"}, ss.SERVICE_PRICE_NEGATIVE),
        ({"price": "12,50"}, ENTER_NUMBER.format(example="120.00")),
        ({"price": "abc"}, ENTER_NUMBER.format(example="120.00")),
        ({"price": "10.005"}, "USD amounts have at most 2 decimal places."),
        ({"default_duration_minutes": "0"}, ss.SERVICE_DURATION_POSITIVE),
        ({"payment_type": "copay", "copay_kind": ""}, ss.COPAY_KIND_REQUIRED),
        ({"payment_type": "copay", "copay_kind": "fixed"}, ss.COPAY_AMOUNT_REQUIRED),
        ({"payment_type": "copay", "copay_kind": "percent"}, ss.COPAY_PERCENT_REQUIRED),
        ({"payment_type": "copay", "copay_kind": "percent", "copay_percent": "120"}, ss.COPAY_PERCENT_RANGE),
        ({"payment_type": "copay", "copay_kind": "fixed", "copay_amount": "200"}, ss.COPAY_AMOUNT_ABOVE_PRICE),
    ],
)
def test_bad_service_input_shows_a_field_error_and_saves_nothing(tenant, overrides, field_error):
    client = signed_in(tenant.owner)

    response = client.post(url(tenant.practice, "appointments:service_new"), service_post(**overrides))

    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert not Service.objects.filter(practice=tenant.practice).exists()


def test_a_code_is_unique_within_the_practice_only(tenant, other_tenant):
    ServiceFactory(practice=other_tenant.practice, code="90837")
    ServiceFactory(practice=tenant.practice, code="90837")

    response = signed_in(tenant.owner).post(url(tenant.practice, "appointments:service_new"), service_post())

    assert response.status_code == 400
    assert ss.SERVICE_CODE_TAKEN in response.content.decode()


def test_copay_service_keeps_only_the_figure_its_kind_uses(tenant):
    client = signed_in(tenant.owner)

    client.post(
        url(tenant.practice, "appointments:service_new"),
        service_post(payment_type="copay", copay_kind="percent", copay_percent="20", copay_amount="30"),
    )

    service = Service.objects.get(practice=tenant.practice)
    assert (service.copay_kind, service.copay_percent, service.copay_amount) == ("percent", Decimal("20"), None)
    page = client.get(url(tenant.practice, "appointments:services")).content.decode()
    assert "Insurance with co-pay: 20% co-pay" in page


def test_edit_changes_the_price_list(tenant):
    service = ServiceFactory(practice=tenant.practice, name="Intake", code="INT")
    client = signed_in(tenant.owner)

    response = client.post(
        url(tenant.practice, "appointments:service_edit", service_id=service.pk),
        service_post(name="Intake session", code="INT", price="180"),
        follow=True,
    )

    assert "Service Intake session saved." in response.content.decode()
    service.refresh_from_db()
    assert (service.name, service.price) == ("Intake session", Decimal("180.000"))


def test_archiving_a_used_service_keeps_it_and_an_unused_one_is_deleted(tenant):
    used = ServiceFactory(practice=tenant.practice, name="Used")
    unused = ServiceFactory(practice=tenant.practice, name="Unused")
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ClientFactory(practice=tenant.practice)], [used])
    client = signed_in(tenant.owner)

    first = client.post(url(tenant.practice, "appointments:service_archive", service_id=used.pk), follow=True)
    second = client.post(url(tenant.practice, "appointments:service_archive", service_id=unused.pk), follow=True)

    assert "Service Used was archived" in first.content.decode()
    assert "Service Unused was deleted" in second.content.decode()
    used.refresh_from_db()
    assert used.is_archived
    assert not Service.objects.filter(pk=unused.pk).exists()
    price_list = client.get(url(tenant.practice, "appointments:services")).content.decode()
    assert "Used" not in price_list
    archived = client.get(url(tenant.practice, "appointments:services") + "?archived=1").content.decode()
    assert ">Used<" in archived


# --- Billing details -----------------------------------------------------------------


def test_owner_saves_billing_details_and_policies(tenant):
    client = signed_in(tenant.owner)

    response = client.post(
        url(tenant.practice, "billing:billing_details"),
        details_post(
            tenant.practice,
            currency="NZD",
            prices_include_tax="on",
            no_show_policy="flat",
            no_show_fee="40",
            late_cancel_policy="full",
            late_cancel_window_hours="48",
        ),
        follow=True,
    )

    assert "Billing details saved." in response.content.decode()
    practice = Practice.objects.get(pk=tenant.practice.pk)
    assert practice.currency == "NZD"
    assert practice.prices_include_tax is True
    assert (practice.no_show_policy, practice.no_show_fee) == ("flat", Decimal("40.000"))
    assert (practice.late_cancel_policy, practice.late_cancel_window_hours) == ("full", 48)
    assert AuditLog.objects.filter(action="practice.billing_details_changed").exists()


def test_flat_fee_policy_needs_a_fee_and_currency_must_be_iso(tenant):
    client = signed_in(tenant.owner)

    response = client.post(
        url(tenant.practice, "billing:billing_details"),
        details_post(tenant.practice, no_show_policy="flat", no_show_fee="", currency="XYZ"),
    )

    text = response.content.decode()
    assert response.status_code == 400
    assert "Select a valid choice. XYZ is not one of the available choices." in text
    response = client.post(
        url(tenant.practice, "billing:billing_details"),
        details_post(tenant.practice, no_show_policy="flat", no_show_fee=""),
    )
    assert FEE_REQUIRED in response.content.decode()
    assert Practice.objects.get(pk=tenant.practice.pk).no_show_policy == "none"


def test_currency_is_locked_once_an_invoice_exists(tenant):
    Invoice.objects.create(practice=tenant.practice, client=ClientFactory(practice=tenant.practice), currency="USD")
    client = signed_in(tenant.owner)

    page = client.get(url(tenant.practice, "billing:billing_details")).content.decode()
    client.post(url(tenant.practice, "billing:billing_details"), details_post(tenant.practice, currency="EUR"))

    assert 'name="currency"' in page and "disabled" in page.split('name="currency"')[1].split(">")[0]
    assert "Locked: this practice has billing items, invoices or payments" in page
    assert Practice.objects.get(pk=tenant.practice.pk).currency == "USD"


def test_the_service_refuses_a_currency_change_after_an_invoice(tenant):
    Invoice.objects.create(practice=tenant.practice, client=ClientFactory(practice=tenant.practice), currency="USD")
    data = {**details_post(tenant.practice, currency="EUR"), "prices_include_tax": False}
    for key in ("no_show_fee", "late_cancel_fee"):
        data[key] = Decimal(data[key])
    data["late_cancel_window_hours"] = 24

    with pytest.raises(ValidationError) as exc:
        billing_details_update(practice=tenant.practice, actor=tenant.owner, data=data)

    assert exc.value.message_dict == {"currency": [CURRENCY_LOCKED]}


def test_billing_details_are_for_owner_and_admin_only(tenant):
    assert signed_in(tenant.admin).get(url(tenant.practice, "billing:billing_details")).status_code == 200
    for user in (tenant.biller, tenant.clinician):
        response = signed_in(user).get(url(tenant.practice, "billing:billing_details"))
        assert response.status_code == 403
        assert ROLE_REFUSED in response.content.decode()


def test_tax_rates_add_with_one_default_and_archive(tenant):
    client = signed_in(tenant.owner)
    new = url(tenant.practice, "billing:tax_rate_new")

    client.post(new, {"name": "GST", "percent": "15", "is_default": "on"})
    client.post(new, {"name": "Reduced", "percent": "5", "is_default": "on"})
    bad = client.post(new, {"name": "Odd", "percent": "120"})

    assert bad.status_code == 400 and TAX_PERCENT_RANGE in bad.content.decode()
    rates = {r.name: r for r in TaxRate.objects.filter(practice=tenant.practice)}
    assert set(rates) == {"GST", "Reduced"}
    assert [r.name for r in rates.values() if r.is_default] == ["Reduced"]

    client.post(
        url(tenant.practice, "billing:tax_rate_edit", tax_rate_id=rates["Reduced"].pk),
        {"name": "Reduced", "percent": "5", "is_default": "on", "is_archived": "on"},
    )

    reduced = TaxRate.objects.get(pk=rates["Reduced"].pk)
    assert reduced.is_archived and not reduced.is_default
    page = client.get(url(tenant.practice, "billing:billing_details")).content.decode()
    assert "GST" in page and "Archived" in page
    # An archived rate is no longer offered for services; the default is preselected.
    form = client.get(url(tenant.practice, "appointments:service_new")).content.decode()
    assert "Reduced" not in form
