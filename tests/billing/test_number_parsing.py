"""Numbers read as people type them (issue 9, part 8): amounts, prices, units and tax are
read in the practice's locale by one strict parser; a misplaced separator, a non-ASCII
digit, an exponent or NaN is a field error and records nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from appointments.models import BillingDetail, Service
from appointments.services import appointment_mark_completed
from billing import services
from billing.models import BillingItem, Invoice, Package, Payment
from practice.models import TaxRate
from practice.numbers import ENTER_NUMBER, NumberError, format_number_input, parse_number
from tests.billing.helpers import post_payment
from tests.factories import ClientFactory, ServiceFactory, issued_invoice, make_appointment, make_item, past_start
from tests.helpers import signed_in, url

D = Decimal
ARABIC_INDIC_3, FULL_WIDTH_12 = "\u0663", "\uff11\uff12"
BAD_EVERYWHERE = ["1,2,3", ARABIC_INDIC_3, FULL_WIDTH_12, "1e5", "NaN", "Infinity", "-inf", "", " ", "abc", "1 2"]

READS = {
    "en_US": [
        ("1,000.00", D("1000.00")),
        ("1000.5", D("1000.5")),
        (" 120 ", D("120")),
        ("-5", D("-5")),
        (".5", D("0.5")),
    ],
    "en_NZ": [("1,000.00", D("1000.00")), ("12,345,678.9", D("12345678.9")), ("46", D("46"))],
    "de_DE": [("1.000,50", D("1000.50")), ("1,5", D("1.5")), ("1,00", D("1.00")), ("1000,5", D("1000.5"))],
}
REFUSED = {
    "en_US": ["1,00", "1,5", "1,0000.00", "1.000,50"],
    "en_NZ": ["1,00", "1,5", "1000,5"],
    "de_DE": ["1,000.00", "1000.5", "12,345,678.9"],
}


@pytest.mark.parametrize(("locale", "raw", "value"), [(loc, raw, v) for loc, rows in READS.items() for raw, v in rows])
def test_the_parser_reads_numbers_as_the_locale_writes_them(locale, raw, value):
    assert parse_number(raw, locale) == value
    assert services.parse_amount(raw, locale=locale) == value


@pytest.mark.parametrize(
    ("locale", "raw"),
    [(loc, raw) for loc, rows in REFUSED.items() for raw in rows]
    + [(loc, raw) for loc in READS for raw in BAD_EVERYWHERE],
)
def test_the_parser_refuses_misplaced_grouping_foreign_digits_and_exponents(locale, raw):
    with pytest.raises(NumberError):
        parse_number(raw, locale)
    with pytest.raises(ValidationError) as refused:
        services.parse_amount(raw, "amount", locale=locale)
    assert refused.value.message_dict == {"amount": [services.ENTER_AMOUNT]}


@pytest.mark.parametrize("locale", ["en_US", "en_NZ", "de_DE", "fr_FR", "sv_SE"])
@pytest.mark.parametrize("value", [D("1000.50"), D("0.0001"), D("120"), D("-3.25"), D("999999999.999")])
def test_what_is_printed_into_an_input_reads_back_unchanged(locale, value):
    assert parse_number(format_number_input(value, locale), locale) == value


# --- through the real pages -------------------------------------------------------------------


def set_locale(tenant, locale):
    tenant.practice.locale = locale
    tenant.practice.save(update_fields=["locale"])


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["1,00", "1,5", "1,2,3", ARABIC_INDIC_3, FULL_WIDTH_12])
def test_add_payment_with_a_misplaced_comma_is_a_field_error_and_records_nothing(tenant, raw):
    ana = ClientFactory(practice=tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.owner, "500.00")

    response = post_payment(signed_in(tenant.biller), tenant, {"client": ana.pk}, amount=raw)

    assert response.status_code == 400
    assert services.ENTER_AMOUNT in response.content.decode()
    assert not Payment.objects.filter(client=ana).exists()


@pytest.mark.django_db
def test_add_payment_reads_grouping_in_the_right_places(tenant):
    ana = ClientFactory(practice=tenant.practice)
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "1500.00")

    response = post_payment(signed_in(tenant.biller), tenant, {"client": ana.pk}, amount="1,000.00")

    assert response.status_code == 302
    assert Payment.objects.get(client=ana).amount == D("1000.00")
    invoice.refresh_from_db()
    assert invoice.balance == D("500.00")


@pytest.mark.django_db
def test_a_german_practice_types_and_sees_amounts_the_german_way(tenant):
    set_locale(tenant, "de_DE")
    ana = ClientFactory(practice=tenant.practice)
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "1500.50")
    biller = signed_in(tenant.biller)

    form = biller.get(f"{url(tenant, 'billing:payment_new')}?invoice={invoice.pk}").content.decode()
    assert 'value="1500,5"' in form  # the balance is offered as the practice writes it

    assert post_payment(signed_in(tenant.biller), tenant, {"client": ana.pk}, amount="1.000,50").status_code == 302
    assert Payment.objects.get(client=ana).amount == D("1000.50")
    assert post_payment(signed_in(tenant.biller), tenant, {"client": ana.pk}, amount="1,000.00").status_code == 400
    assert Payment.objects.filter(client=ana).count() == 1


@pytest.mark.django_db
def test_new_invoice_free_line_with_a_misplaced_comma_is_a_field_error(tenant):
    ana = ClientFactory(practice=tenant.practice)
    post = {
        "client": ana.pk,
        "action": "draft",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "0",
        "line-0-description": "Report",
        "line-0-units": "1",
        "line-0-unit_price": "1,5",
        "line-0-tax_percent": "0",
    }

    response = signed_in(tenant.biller).post(url(tenant, "billing:invoice_new"), post)

    assert response.status_code == 400
    assert services.ENTER_AMOUNT in response.content.decode()
    assert not Invoice.objects.filter(client=ana).exists()


@pytest.mark.django_db
def test_uninvoiced_rows_show_and_read_amounts_in_the_practice_locale(tenant):
    set_locale(tenant, "de_DE")
    ana = ClientFactory(practice=tenant.practice)
    item = make_item(tenant.practice, ana, price="1200.50")
    biller = signed_in(tenant.biller)

    tab = biller.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert 'value="1200,5"' in tab

    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [item.pk], f"units_{item.pk}": "1", f"price_{item.pk}": "1.100,25", f"tax_{item.pk}": "0"},
    )

    assert response.status_code == 302
    assert Invoice.objects.get(client=ana).total == D("1100.25")


@pytest.mark.django_db
def test_package_price_with_a_misplaced_comma_is_a_field_error(tenant):
    service = ServiceFactory(practice=tenant.practice, price=D("150.00"))

    response = signed_in(tenant.biller).post(
        url(tenant, "billing:package_new"),
        {"name": "5 sessions", "service": service.pk, "sessions": "5", "price": "1,5"},
    )

    assert response.status_code == 400
    assert services.ENTER_AMOUNT in response.content.decode()
    assert not Package.objects.exists()


@pytest.mark.django_db
def test_service_price_is_read_in_the_practice_locale(tenant):
    set_locale(tenant, "de_DE")
    post = {"name": "Therapie", "code": "T1", "default_duration_minutes": "50", "payment_type": "self_pay"}
    owner = signed_in(tenant.owner)

    refused = owner.post(url(tenant, "appointments:service_new"), {**post, "price": "1,000.00"})
    assert refused.status_code == 400
    assert ENTER_NUMBER.format(example="120,00") in refused.content.decode()
    assert not Service.objects.filter(practice=tenant.practice).exists()

    assert owner.post(url(tenant, "appointments:service_new"), {**post, "price": "1.000,50"}).status_code == 302
    service = Service.objects.get(practice=tenant.practice)
    assert service.price == D("1000.50")
    edit = owner.get(url(tenant, "appointments:service_edit", service_id=service.pk)).content.decode()
    assert 'value="1000,500"' in edit or 'value="1000,50"' in edit


@pytest.mark.django_db
def test_tax_rate_and_fees_refuse_a_misplaced_comma(tenant):
    owner = signed_in(tenant.owner)

    response = owner.post(url(tenant, "billing:tax_rate_new"), {"name": "GST", "percent": "1,5"})

    assert response.status_code == 400
    assert not TaxRate.objects.filter(practice=tenant.practice, name="GST").exists()


@pytest.mark.django_db
def test_billing_detail_units_refuse_a_misplaced_comma(tenant):
    service = ServiceFactory(practice=tenant.practice, name="Therapy", price=D("120.00"))
    ada = ClientFactory(practice=tenant.practice)
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    detail = BillingDetail.objects.get(appointment=appointment)
    edit = url(tenant, "billing:billing_detail_edit", appointment_id=appointment.pk, detail_id=detail.pk)

    response = signed_in(tenant.biller).post(edit, {"units": "1,5", "unit_price": "120", "tax_percent": "0"})

    assert response.status_code == 400
    detail.refresh_from_db()
    assert detail.units == D("1")
    assert BillingItem.objects.get(appointment=appointment).amount == D("120.00")
