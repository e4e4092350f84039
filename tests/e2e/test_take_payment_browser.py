"""A biller opens an invoice, clicks Take payment, pays with 4242 on the fake Stripe's
hosted page and comes back to the invoice, which shows Paid: on a laptop and on a phone,
in Chromium under the app's strict CSP (the form leads to Stripe's origin). Saves a
screenshot of the invoice before and after (take-payment-<state>-<width>.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from billing.models import Invoice, Payment
from payments.models import StripeAccount
from tests.e2e.conftest import ARTIFACTS
from tests.factories import ClientFactory, issued_invoice
from tests.payments.conftest import _fake_stripe_server, app_on_fake, fake_stripe, webhook_receiver  # noqa: F401
from tests.payments.helpers import CARD_OK, connected_account

from .helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 375])
def test_a_biller_takes_payment_on_stripes_page_and_sees_paid(
    page: Page,
    console_errors,
    app_on_fake,  # noqa: F811
    tenant,
    live_server,
    settings,
    width,
):
    settings.SITE_URL = live_server.url
    StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 740})

    # Given a biller on the invoice
    sign_in(page, tenant.biller.email)
    page.goto(invoice.get_absolute_url())
    expect(page.get_by_test_id("invoice-status")).to_have_text("Open")
    take = page.get_by_role("button", name="Take payment")
    take.scroll_into_view_if_needed()
    expect(take).to_be_visible()
    assert_accessible(page, f"invoice with Take payment at {width}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"take-payment-invoice-{width}.png"), full_page=True)

    # When they take payment and the client's card is entered on Stripe's page
    take.click()
    pay = page.get_by_role("button", name="Pay 230.00 USD")
    expect(pay).to_be_visible()
    assert page.url.startswith(app_on_fake.url)
    page.get_by_label("Email").fill("ana@example.test")
    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 39")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ana Lima")
    pay.click()

    # Then they are back on the invoice, which is paid
    expect(page.get_by_test_id("invoice-status")).to_have_text("Paid")
    assert page.url.startswith(live_server.url + invoice.get_absolute_url())
    expect(page.get_by_text(f"Card payment of $230.00 received for invoice {invoice.number}.")).to_be_visible()
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$0.00")
    expect(page.get_by_role("button", name="Take payment")).to_have_count(0)
    assert_accessible(page, f"invoice paid by Take payment at {width}")
    page.screenshot(path=str(ARTIFACTS / f"take-payment-paid-{width}.png"), full_page=True)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.filter(practice=tenant.practice, method=Payment.Method.CARD_ONLINE).count() == 1
    # The app's pages (the fake's hosted page has no favicon, which is not the app's concern).
    assert [e for e in console_errors if app_on_fake.url not in e] == []
