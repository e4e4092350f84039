"""A biller charges a saved card with Pay now, on a laptop and on a phone: the biller
requests card details from the client's Billing tab, the client saves 4242 on the fake
Stripe's hosted page from the emailed link, then the biller double-clicks Pay now on the
invoice. The invoice is Paid and the fake holds exactly one PaymentIntent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from billing.models import Invoice, Payment
from payments.models import CardChargeAttempt, SavedCard, StripeAccount
from practice.models import OutgoingEmail
from tests.factories import ClientFactory, issued_invoice
from tests.payments.conftest import _fake_stripe_server, app_on_fake, fake_stripe, webhook_receiver  # noqa: F401
from tests.payments.helpers import CARD_OK, connected_account

from .helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 375])
def test_a_biller_charges_a_saved_card_with_pay_now(
    page: Page,
    browser: Browser,
    console_errors,
    app_on_fake,  # noqa: F811
    tenant,
    live_server,
    settings,
    width,
):
    settings.SITE_URL = live_server.url
    viewport = {"width": width, "height": 900 if width > 400 else 812}
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    practice = tenant.practice
    StripeAccount.objects.create(
        practice=practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    invoice = issued_invoice(practice, ana, tenant.biller, "150.00", "80.00")

    # Given the biller asks Ana for her card details from her Billing tab
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{practice.slug}/clients/{ana.pk}/billing/")
    expect(page.get_by_test_id("saved-cards")).to_contain_text("No saved cards.")
    assert_accessible(page, "client billing tab with saved cards")
    page.get_by_role("button", name="Request card details").click()
    expect(page.get_by_role("status")).to_contain_text("Card details requested: ana@mail.test")
    email = OutgoingEmail.objects.get(to="ana@mail.test")
    link = re.search(r"https?://\S+/stripe/cards/\S+/", email.text)
    assert link, email.text

    # When Ana opens the link in her own browser and saves 4242 on Stripe's page
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    client_page = context.new_page()
    client_page.goto(link.group(0))
    assert_accessible(client_page, "save a card link")
    client_page.get_by_role("button", name="Save a card").click()
    expect(client_page.get_by_role("button", name="Save card")).to_be_visible()
    assert client_page.url.startswith(app_on_fake.url)
    client_page.get_by_label("Card number").fill(CARD_OK)
    client_page.get_by_label("Expiry (MM / YY)").fill("12 / 39")
    client_page.get_by_label("CVC").fill("123")
    client_page.get_by_label("Name on card").fill("Ana Lima")
    client_page.get_by_role("button", name="Save card").click()

    # Then she is back on the practice's page, her card saved
    expect(client_page.get_by_test_id("card-saved")).to_contain_text("Visa •••• 4242")
    assert client_page.url.startswith(live_server.url)
    assert_accessible(client_page, "card saved")
    context.close()
    assert SavedCard.objects.get().is_default

    # When the biller opens the invoice and double-clicks Pay now
    page.goto(invoice.get_absolute_url())
    pay_now = page.get_by_role("button", name="Pay now with Visa •••• 4242")
    expect(pay_now).to_be_visible()
    assert_accessible(page, "invoice with Pay now")
    posted: list[tuple[str, str]] = []
    page.on("request", lambda r: posted.append((r.url, r.post_data or "")) if r.method == "POST" else None)
    pay_now.dblclick()

    # Then the invoice is Paid, by one charge
    expect(page.get_by_test_id("invoice-status")).to_have_text("Paid")
    expect(page.get_by_role("status")).to_contain_text("Payment of $230.00 taken from Visa •••• 4242.")
    expect(page.get_by_test_id("invoice-payment")).to_contain_text("Card on file")

    # Chromium sends one POST for the double-click; the form sent again as it was (a
    # second tab's resubmit, a retried request) joins the same charge.
    (url, form), *_ = posted
    again = page.request.post(url, data=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert again.ok and "Payment of $230.00 taken from Visa" in again.text()
    assert_accessible(page, "invoice paid with Pay now")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    state = app_on_fake.control.call("GET", "state")
    intents = [o for o in state.values() if o["object"] == "payment_intent"]
    assert len(intents) == 1 and intents[0]["status"] == "succeeded"
    assert CardChargeAttempt.objects.get().stripe_payment_intent_id == intents[0]["id"]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.filter(practice=practice).count() == 1
    assert console_errors == []
