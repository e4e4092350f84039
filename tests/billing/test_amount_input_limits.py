"""Money, units and tax typed by a biller: plain decimals only, within what the columns
hold. "1e15", "1e30", "1e10" or a cent fraction is a field error and nothing is saved
(they used to reach the database and end in a 500)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import Invoice, Payment
from tests.billing.helpers import post_payment
from tests.factories import ClientFactory, issued_invoice, make_item
from tests.helpers import url

D = Decimal
pytestmark = pytest.mark.django_db

USD_TOO_FINE = services.AMOUNT_TOO_FINE.format(places=2, currency="USD")


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


# --- Add payment ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1e15", services.ENTER_AMOUNT),
        ("1e30", services.ENTER_AMOUNT),
        ("1E3", services.ENTER_AMOUNT),
        ("Infinity", services.ENTER_AMOUNT),
        ("1000000000000000", services.AMOUNT_TOO_LARGE),
        ("1000000000", services.AMOUNT_TOO_LARGE),
        ("12.345", USD_TOO_FINE),
    ],
)
def test_given_an_invoice_when_paying_a_huge_or_too_fine_amount_as_credit_then_a_field_error(
    tenant, biller, ana, amount, message
):
    # Given an open invoice of 100
    invoice = issued_invoice(tenant.practice, ana, tenant.owner)
    # When the biller pays an impossible amount and answers "Keep as credit"
    response = post_payment(biller, tenant, {"invoice": invoice.pk}, amount=amount, overpayment_to_credit="1")
    # Then the amount field says why, and nothing is saved
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.balance == D("100.00")


def test_an_exponent_allocation_is_a_field_error(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner)
    response = post_payment(biller, tenant, {"invoice": invoice.pk}, amount="50", **{f"alloc_{invoice.pk}": "5e1"})
    assert response.status_code == 400 and services.ENTER_AMOUNT in response.content.decode()
    assert not Payment.objects.exists()


def test_the_service_refuses_huge_amounts_without_crashing(tenant, ana):
    issued_invoice(tenant.practice, ana, tenant.owner)
    for amount in (D("1e15"), D("1e30")):
        with pytest.raises(ValidationError) as exc:
            services.payment_record_manual(
                practice=tenant.practice,
                client=ana,
                actor=tenant.biller,
                amount=amount,
                received_on=tenant.practice.local_today(),
                method="cash",
                overpayment_to_credit=True,
            )
        assert exc.value.message_dict == {"amount": [services.AMOUNT_TOO_LARGE]}
    assert not Payment.objects.exists()


# --- the client Billing tab: Uninvoiced amounts -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("units", "1e10", services.ENTER_AMOUNT),
        ("units", "1000000", services.UNITS_TOO_LARGE),
        ("units", "1.555", services.UNITS_TOO_FINE),
        ("price", "1e30", services.ENTER_AMOUNT),
        ("price", "1000000000", services.AMOUNT_TOO_LARGE),
        ("price", "12.3456", services.PRICE_TOO_FINE),
        ("tax", "1e1", services.ENTER_AMOUNT),
        ("tax", "7.12345", services.TAX_TOO_FINE),
    ],
)
def test_given_an_uninvoiced_item_when_adjusted_beyond_the_columns_then_a_field_error(
    tenant, biller, ana, field, value, message
):
    # Given an uninvoiced item of 100
    item = make_item(tenant.practice, ana)
    figures = {"units": "1", "price": "100", "tax": "0", field: value}
    # When the biller creates an invoice with one figure out of range
    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [item.pk], "action": "issue", **{f"{name}_{item.pk}": v for name, v in figures.items()}},
    )
    # Then that input says why, and no invoice is made
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Invoice.objects.exists()
    item.refresh_from_db()
    assert (item.units, item.amount, item.invoice_id) == (D("1"), D("100.00"), None)


# --- editing an invoice -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("units", "1e10", services.ENTER_AMOUNT),
        ("units", "1.555", services.UNITS_TOO_FINE),
        ("price", "1e30", services.ENTER_AMOUNT),
        ("price", "12.3456", services.PRICE_TOO_FINE),
        ("tax", "7.12345", services.TAX_TOO_FINE),
    ],
)
def test_given_an_open_invoice_when_a_line_is_edited_beyond_the_columns_then_nothing_changes(
    tenant, biller, ana, field, value, message
):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    line = invoice.lines.get()
    figures = {"units": "1", "price": "100", "tax": "0", field: value}
    response = biller.post(
        url(tenant, "billing:invoice_edit", invoice_id=invoice.pk),
        {
            **{f"{name}_{line.pk}": v for name, v in figures.items()},
            "line-TOTAL_FORMS": "0",
            "line-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 400 and message in response.content.decode()
    invoice.refresh_from_db()
    line.refresh_from_db()
    assert (invoice.total, line.units, line.net) == (D("100.00"), D("1"), D("100.00"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("units", "1e10", services.ENTER_AMOUNT),
        ("units", "1.555", services.UNITS_TOO_FINE),
        ("unit_price", "1e30", services.ENTER_AMOUNT),
        ("unit_price", "1000000000", services.AMOUNT_TOO_LARGE),
        ("unit_price", "12.3456", services.PRICE_TOO_FINE),
        ("tax_percent", "7.12345", services.TAX_TOO_FINE),
    ],
)
def test_a_free_line_beyond_the_columns_is_a_field_error(tenant, biller, ana, field, value, message):
    line = {"description": "Report", "units": "1", "unit_price": "80", "tax_percent": "0", field: value}
    response = biller.post(
        url(tenant, "billing:invoice_new"),
        {
            "client": ana.pk,
            "action": "issue",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            **{f"line-0-{name}": v for name, v in line.items()},
        },
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not Invoice.objects.exists()


# --- the services, for callers other than the forms (item 4) -------------------------------------


@pytest.mark.parametrize(
    ("adjustment", "errors"),
    [
        (
            services.ItemAdjustment(units=D("1.555"), unit_price=D("100"), tax_percent=D("0")),
            {"units": [services.UNITS_TOO_FINE]},
        ),
        (
            services.ItemAdjustment(units=D("1"), unit_price=D("10.0001"), tax_percent=D("0")),
            {"unit_price": [services.PRICE_TOO_FINE]},
        ),
        (
            services.ItemAdjustment(units=D("1"), unit_price=D("100"), tax_percent=D("7.00001")),
            {"tax_percent": [services.TAX_TOO_FINE]},
        ),
        (
            services.ItemAdjustment(units=D("1e10"), unit_price=D("1e30"), tax_percent=D("0")),
            {"units": [services.UNITS_TOO_LARGE], "unit_price": [services.AMOUNT_TOO_LARGE]},
        ),
    ],
)
def test_an_adjustment_finer_or_larger_than_the_columns_is_refused_not_rounded(tenant, ana, adjustment, errors):
    item = make_item(tenant.practice, ana)
    with pytest.raises(ValidationError) as exc:
        services.invoice_create(
            practice=tenant.practice,
            client=ana,
            actor=tenant.biller,
            item_ids=[item.pk],
            adjustments={item.pk: adjustment},
        )
    assert exc.value.message_dict == errors
    assert not Invoice.objects.exists()


def test_an_invoice_update_with_units_finer_than_the_column_is_refused(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    line = invoice.lines.get()
    with pytest.raises(ValidationError) as exc:
        services.invoice_update(
            invoice=invoice,
            actor=tenant.biller,
            line_changes={line.pk: services.ItemAdjustment(units=D("1.555"), unit_price=D("100"), tax_percent=D("0"))},
        )
    assert exc.value.message_dict == {"units": [services.UNITS_TOO_FINE]}
    line.refresh_from_db()
    assert (line.units, line.net) == (D("1"), D("100.00"))
