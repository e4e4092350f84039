"""A client on a 375 px phone saves a card from the portal's Payment methods on the fake
Stripe's setup page, pays an invoice with it in one click, and turns AutoPay on after
reading its terms. Each page passes the axe check."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from billing.models import Invoice
from clients.models import AutoPayConsent, AutoPayEnrolment
from payments.models import SavedCard, StripeAccount
from tests.factories import ClientFactory, issued_invoice
from tests.payments.conftest import _fake_stripe_server, app_on_fake, fake_stripe, webhook_receiver  # noqa: F401
from tests.payments.helpers import CARD_OK, connected_account
from tests.portal import grant_portal, portal_browser_sign_in

from .helpers import PHONE, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_saves_a_card_pays_with_it_and_turns_autopay_on_on_a_phone(
    page: Page,
    console_errors,
    app_on_fake,  # noqa: F811
    tenant,
    live_server,
    settings,
):
    settings.SITE_URL = live_server.url
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    practice = tenant.practice
    StripeAccount.objects.create(
        practice=practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    grant_portal(ana)
    first = issued_invoice(practice, ana, tenant.biller, "150.00", "80.00")
    portal_browser_sign_in(page, live_server.url, ana)

    # Given Ana opens Payment methods: no card yet
    page.goto("/portal/payment-methods/")
    expect(page.get_by_test_id("portal-no-cards")).to_be_visible()
    assert_accessible(page, "portal payment methods, no card")

    # When she adds a card on Stripe's page
    page.get_by_role("button", name="Add a card").click()
    expect(page.get_by_role("button", name="Save card")).to_be_visible()
    assert page.url.startswith(app_on_fake.url)
    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 39")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ana Lima")
    page.get_by_role("button", name="Save card").click()

    # Then she is back on Payment methods with the card saved as her default
    expect(page.get_by_role("status")).to_contain_text("Visa •••• 4242 is saved.")
    assert page.url == f"{live_server.url}/portal/payment-methods/"
    expect(page.get_by_test_id("portal-card")).to_contain_text("Visa •••• 4242")
    expect(page.get_by_test_id("portal-card-default")).to_have_text("Default")
    assert_accessible(page, "portal payment methods, card saved")
    assert SavedCard.objects.get(client=ana).is_default

    # When she opens her invoice on Billing and pays it with the card in one click
    page.goto("/portal/")
    page.get_by_text(f"Invoice {first.number}", exact=True).click()
    pay = page.get_by_test_id("portal-invoice-details").get_by_role("button", name="Pay with Visa •••• 4242")
    expect(pay).to_be_visible()
    assert_accessible(page, "portal billing, invoice expanded")
    pay.click()

    # Then she is on the invoice, showing Paid
    expect(page.get_by_test_id("portal-details-status")).to_have_text("Paid")
    assert page.url == f"{live_server.url}/portal/invoices/{first.pk}/"
    expect(page.get_by_role("status")).to_contain_text("$230.00 paid with Visa •••• 4242")
    # (The invoice page is billing's; its own browser test checks it.)
    first.refresh_from_db()
    assert first.status == Invoice.Status.PAID

    # Given a new invoice is open, when she reads AutoPay's terms
    issued_invoice(practice, ana, tenant.biller, "90.00")
    page.goto("/portal/autopay/")
    expect(page.get_by_test_id("autopay-status")).to_have_text("Off")
    expect(page.get_by_test_id("autopay-terms")).to_contain_text("Every night between 12 AM and 6 AM")
    include = page.get_by_label("Include my current balance of $90.00")
    expect(include).not_to_be_checked()
    assert_accessible(page, "portal autopay, off")

    # And turns AutoPay on, leaving her current balance out
    page.get_by_role("button", name="Turn on AutoPay").click()

    # Then AutoPay is on with her card, and her consent is recorded
    expect(page.get_by_role("status")).to_contain_text("AutoPay is on.")
    expect(page.get_by_test_id("autopay-status")).to_have_text("On")
    expect(page.get_by_test_id("autopay-card")).to_have_text("Visa •••• 4242")
    expect(page.get_by_test_id("autopay-last-result")).to_have_text("No AutoPay charge yet.")
    assert_accessible(page, "portal autopay, on")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    enrolment = AutoPayEnrolment.objects.get(client=ana)
    assert not enrolment.include_balance and enrolment.ended_at is None
    consent = AutoPayConsent.objects.get(enrolment=enrolment)
    assert (consent.given_by, consent.channel, consent.email) == ("client", "portal", "ana@mail.test")
    # Chromium asks for /favicon.ico, which the app does not serve (not this page's concern).
    assert [e for e in console_errors if "favicon.ico" not in e] == []
