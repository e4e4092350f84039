"""A client opens an invoice's payment link, clicks Pay online, pays with 4242 on the fake
Stripe's hosted page, and comes back to Paid; the invoice is paid in the books."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from billing.models import Invoice, Payment
from billing.payment_links import payment_link_path
from payments.models import StripeAccount
from tests.factories import ClientFactory, issued_invoice
from tests.payments.conftest import _fake_stripe_server, app_on_fake, fake_stripe, webhook_receiver  # noqa: F401
from tests.payments.helpers import CARD_DECLINED, CARD_OK, connected_account

from .helpers import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _invoice(fake, tenant, live_server, settings):
    settings.SITE_URL = live_server.url
    StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(fake), charges_enabled=True
    )
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


def _pay_on_hosted_page(page: Page, fake, card: str) -> None:
    expect(page.get_by_role("button", name="Pay 230.00 USD")).to_be_visible()
    assert page.url.startswith(fake.url)
    page.get_by_label("Email").fill("ana@example.test")
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 39")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ana Lima")
    page.get_by_role("button", name="Pay 230.00 USD").click()


def test_a_client_pays_an_invoice_online(page: Page, app_on_fake, tenant, live_server, settings):  # noqa: F811
    invoice = _invoice(app_on_fake, tenant, live_server, settings)

    page.goto(payment_link_path(invoice))
    assert_accessible(page, "payment link with Pay online")
    page.get_by_role("button", name="Pay online").click()
    _pay_on_hosted_page(page, app_on_fake, CARD_OK)

    expect(page.get_by_test_id("checkout-paid")).to_contain_text("Paid")
    assert page.url.startswith(live_server.url)
    assert_accessible(page, "checkout return, paid")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.filter(practice=tenant.practice).count() == 1

    page.get_by_role("link", name="Back to the invoice").click()
    expect(page.get_by_test_id("pay-paid")).to_be_visible()
    expect(page.get_by_role("button", name="Pay online")).to_have_count(0)
    assert_accessible(page, "payment link, paid")


def test_a_declined_card_shows_the_decline_and_the_invoice_stays_open(
    page: Page,
    app_on_fake,  # noqa: F811
    tenant,
    live_server,
    settings,
):
    invoice = _invoice(app_on_fake, tenant, live_server, settings)

    page.goto(payment_link_path(invoice))
    page.get_by_role("button", name="Pay online").click()
    _pay_on_hosted_page(page, app_on_fake, CARD_DECLINED)

    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    assert_accessible(page, "hosted page, card declined")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and invoice.balance == Decimal("230.00")
    assert not Payment.objects.exists()

    page.goto(payment_link_path(invoice))
    expect(page.get_by_role("button", name="Pay online")).to_be_visible()
    expect(page.get_by_test_id("pay-paid")).to_have_count(0)
