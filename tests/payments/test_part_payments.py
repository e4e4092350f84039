"""Issue 14, part 4: part-payments. A practice may let payers pay part of an invoice online
(Settings > Online payments: allow, and the least amount). The payment link page and Take
payment then offer an amount between the minimum (or the balance, when less is owed) and
the balance; a wrong amount is refused with a clear message and no session; the payment
is allocated to the invoice, which is left partially paid."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils.html import escape

from billing.inputs import ENTER_AMOUNT
from billing.models import Invoice, Payment
from billing.payment_links import payment_link_path, payment_link_token
from payments.checkout import attempt_token
from payments.models import CheckoutAttempt, OnlinePaymentSettings, StripeAccount
from payments.part_payments import (
    AMOUNT_ABOVE_BALANCE,
    AMOUNT_BELOW_MINIMUM,
    AMOUNT_FULL_ONLY,
    AMOUNT_UNREADABLE,
    MINIMUM_BELOW_STRIPE,
    MINIMUM_REQUIRED,
    SETTINGS_SAVED,
)
from practice.models import AuditLog, OutgoingEmail
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

from .helpers import connected_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


@pytest.fixture
def invoice(tenant, ana):
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


@pytest.fixture
def part_payments(tenant):
    return OnlinePaymentSettings.objects.create(
        practice=tenant.practice, part_payments_allowed=True, part_payment_minimum=Decimal("50.00")
    )


def save_settings(client, tenant, **data):
    return client.post(url(tenant, "payments:part_payments"), data)


def start(invoice, amount, balance=None):
    path = reverse("checkout_start", kwargs={"token": payment_link_token(invoice)})
    return Browser().post(path, {"balance": str(invoice.balance if balance is None else balance), "amount": amount})


def sessions_made(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


# --- Settings > Online payments ---------------------------------------------------------------


def test_an_owner_allows_part_payments_from_a_minimum(tenant):
    owner = signed_in(tenant.owner)
    page = owner.get(url(tenant, "payments:online_payments")).content.decode()
    assert "Part-payments" in page and "Allow part-payments" in page

    response = save_settings(owner, tenant, part_payments_allowed="on", part_payment_minimum="50")

    assert response.status_code == 302
    assert SETTINGS_SAVED in owner.get(response["Location"]).content.decode()
    row = OnlinePaymentSettings.objects.get(practice=tenant.practice)
    assert row.part_payments_allowed and row.part_payment_minimum == Decimal("50.00")
    audit = AuditLog.objects.get(action="payments.settings_changed")
    assert audit.changes["part_payments_allowed"] == [False, True]

    # Turned off again: the minimum is kept for next time.
    save_settings(owner, tenant, part_payment_minimum="50.00")
    row.refresh_from_db()
    assert not row.part_payments_allowed and row.part_payment_minimum == Decimal("50.00")


@pytest.mark.parametrize(
    ("minimum", "message"),
    [
        ("", MINIMUM_REQUIRED),
        ("0", MINIMUM_REQUIRED),
        ("-5", MINIMUM_REQUIRED),
        ("fifty", ENTER_AMOUNT),
        ("10.005", "at most 2 decimal places"),
        ("0.25", MINIMUM_BELOW_STRIPE.format(least="$0.50", currency="USD")),
    ],
)
def test_a_wrong_minimum_is_refused_with_a_clear_message(tenant, minimum, message):
    response = save_settings(signed_in(tenant.owner), tenant, part_payments_allowed="on", part_payment_minimum=minimum)
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not OnlinePaymentSettings.objects.filter(part_payments_allowed=True).exists()


def test_only_owners_and_admins_change_the_setting(tenant):
    for user in (tenant.biller, tenant.clinician):
        response = save_settings(signed_in(user), tenant, part_payments_allowed="on", part_payment_minimum="50")
        assert response.status_code == 403
    assert not OnlinePaymentSettings.objects.exists()
    assert save_settings(signed_in(tenant.admin), tenant, part_payment_minimum="20").status_code == 302


# --- the payment link ------------------------------------------------------------------------


def test_the_payment_link_offers_an_amount_only_where_allowed(app_on_fake, account, tenant, invoice):
    page = Browser().get(payment_link_path(invoice)).content.decode()
    assert 'name="amount"' not in page

    OnlinePaymentSettings.objects.create(
        practice=tenant.practice, part_payments_allowed=True, part_payment_minimum=Decimal("50")
    )
    page = Browser().get(payment_link_path(invoice)).content.decode()
    assert 'name="amount"' in page and 'value="230"' in page
    assert "Pay the balance, $230.00, or part of it: at least $50.00." in page


def test_a_client_pays_part_of_an_invoice(app_on_fake, account, part_payments, tenant, invoice):
    response = start(invoice, "100")
    assert response.status_code == 303
    attempt = CheckoutAttempt.objects.get()
    assert attempt.amount == Decimal("100.00")
    (request,) = sessions_made(app_on_fake)
    assert request["params"]["line_items"][0]["price_data"]["unit_amount"] == "10000"

    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)
    page = Browser().get(reverse("checkout_return", kwargs={"token": attempt_token(attempt)}))
    assert 'data-testid="checkout-paid"' in page.content.decode()

    payment = Payment.objects.get()
    assert payment.amount == Decimal("100.00") and payment.allocated == Decimal("100.00")
    assert list(payment.allocations.values_list("invoice_id", "amount")) == [(invoice.pk, Decimal("100.00"))]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and invoice.balance == Decimal("130.00")
    assert invoice.display_status == "Partially paid"
    staff = signed_in(tenant.biller).get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert "Partially paid" in staff and "$130.00" in staff
    receipt = OutgoingEmail.objects.get(topic="payment_receipt")
    assert "Still owing on this invoice: $130.00" in receipt.text
    # The link now asks for what is left.
    assert 'value="130"' in Browser().get(payment_link_path(invoice)).content.decode()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("20", AMOUNT_BELOW_MINIMUM.format(least="$50.00", practice="Harbour Street Therapy")),
        ("230.01", AMOUNT_ABOVE_BALANCE.format(balance="$230.00")),
        ("lots", AMOUNT_UNREADABLE),
        ("0", "Nothing has been charged."),
        ("50.001", "at most 2 decimal places"),
    ],
)
def test_a_wrong_amount_gets_a_clear_message_and_no_session(
    app_on_fake, account, part_payments, invoice, amount, message
):
    response = start(invoice, amount)
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not sessions_made(app_on_fake) and not CheckoutAttempt.objects.exists()


def test_without_part_payments_only_the_balance_may_be_paid(app_on_fake, account, invoice):
    response = start(invoice, "100")
    assert response.status_code == 400
    assert escape(AMOUNT_FULL_ONLY.format(balance="$230.00")) in response.content.decode()
    assert not sessions_made(app_on_fake)
    assert start(invoice, "230.00").status_code == 303


def test_an_invoice_owing_less_than_the_minimum_is_paid_in_full(app_on_fake, account, part_payments, tenant, ana):
    small = issued_invoice(tenant.practice, ana, tenant.biller, "30.00")
    assert 'name="amount"' not in Browser().get(payment_link_path(small)).content.decode()
    assert start(small, "20").status_code == 400
    assert start(small, "30").status_code == 303
    assert CheckoutAttempt.objects.get().amount == Decimal("30.00")


# --- Take payment --------------------------------------------------------------------------------


def test_take_payment_takes_part_of_the_balance(app_on_fake, account, part_payments, tenant, invoice):
    biller = signed_in(tenant.biller)
    page = biller.get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert 'id="take-payment-amount"' in page

    path = url(tenant, "payments:take_payment", invoice_id=invoice.pk)
    refused = biller.post(path, {"balance": "230.00", "amount": "10"}, follow=True)
    assert escape(AMOUNT_BELOW_MINIMUM.format(least="$50.00", practice="Harbour Street Therapy")) in (
        refused.content.decode()
    )
    assert not sessions_made(app_on_fake)

    response = biller.post(path, {"balance": "230.00", "amount": "80.50"})
    assert response["Location"].startswith(app_on_fake.url)
    attempt = CheckoutAttempt.objects.get()
    assert attempt.amount == Decimal("80.50")
    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)
    biller.get(url(tenant, "payments:take_payment_return", invoice_id=invoice.pk), {"attempt": attempt.pk})
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("149.50") and invoice.display_status == "Partially paid"
