"""Issue 14, part 4 and "Bad input and failure", from the payment link: a practice whose
Stripe account cannot take charges (disconnected, or charges not enabled) says why instead
of failing; an invoice changed since its link was sent, paid or voided gets a clear page
and no charge; Stripe failing after stripe-python's retries charges nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice
from billing.payment_links import payment_link_path, payment_link_token
from billing.services import LineInput, invoice_update
from payments.checkout import INVOICE_CHANGED, ONLINE_UNAVAILABLE
from payments.checkout_views import STRIPE_UNAVAILABLE
from payments.models import CheckoutAttempt, StripeAccount
from tests.factories import ClientFactory, issued_invoice

from .helpers import connected_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(tenant):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def start(invoice, balance):
    path = reverse("checkout_start", kwargs={"token": payment_link_token(invoice)})
    return Browser().post(path, {"balance": balance})


def sessions_made(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


def test_a_disconnected_account_explains_on_the_link_and_charges_nothing(app_on_fake, account, tenant, invoice):
    page = Browser().get(payment_link_path(invoice)).content.decode()  # loaded while connected
    assert "Pay online" in page
    StripeAccount.objects.filter(pk=account.pk).update(disconnected_at=timezone.now())
    message = ONLINE_UNAVAILABLE.format(practice=tenant.practice.name)

    page = Browser().get(payment_link_path(invoice)).content.decode()
    assert 'data-testid="pay-online-unavailable"' in page and "cannot take card payments online" in page
    assert "Pay online</button>" not in page

    response = start(invoice, "230.00")
    assert response.status_code == 409
    assert message.split(".")[0] in response.content.decode()
    assert not sessions_made(app_on_fake) and not CheckoutAttempt.objects.exists()


def test_an_invoice_edited_since_its_link_was_opened_is_not_charged(app_on_fake, account, tenant, invoice):
    page = Browser().get(payment_link_path(invoice)).content.decode()
    assert "$230.00" in page
    # The biller adds a line after the client opened the link.
    invoice_update(
        invoice=invoice, actor=tenant.biller, add_lines=[LineInput(description="Report", unit_price=Decimal("40"))]
    )
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("270.00")

    response = start(invoice, "230.00")  # the form as the client saw it

    assert response.status_code == 409
    assert INVOICE_CHANGED in response.content.decode().replace("&#x27;", "'")
    assert not sessions_made(app_on_fake)
    # Opened again, the link shows (and asks for) the new balance.
    assert "$270.00" in Browser().get(payment_link_path(invoice)).content.decode()
    assert start(invoice, "270.00").status_code == 303
    assert CheckoutAttempt.objects.get().amount == Decimal("270.00")


def test_stripe_down_charges_nothing_and_the_retry_reuses_the_key(app_on_fake, account, invoice):
    app_on_fake.control.fail_next("500", count=3, method="POST", path="/v1/checkout/sessions")

    response = start(invoice, "230.00")

    assert response.status_code == 503
    assert STRIPE_UNAVAILABLE in response.content.decode()
    attempt = CheckoutAttempt.objects.get()
    assert start(invoice, "230.00").status_code == 303
    assert CheckoutAttempt.objects.get() == attempt
    assert {r["idempotency_key"] for r in sessions_made(app_on_fake)} == {f"checkout:{attempt.pk}:session"}
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
