"""A biller sends an invoice from its page, finds the email in the development Outbox with
its PDF, follows the payment link there and sees the invoice without signing in; the
copy button puts the link on the clipboard. Every page passes axe under the strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from practice.mail import OUTBOX_BACKEND
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_biller_sends_an_invoice_and_the_client_opens_its_link_from_the_outbox(
    page: Page, tenant, settings, live_server, console_errors
):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    settings.SITE_URL = live_server.url
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")

    # Given the biller on the invoice page
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{tenant.practice.slug}/billing/invoices/{invoice.pk}/")
    actions = page.get_by_role("complementary", name="Actions")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    actions.get_by_text("Copy payment link").click()
    actions.get_by_role("button", name="Copy").click()
    expect(actions.get_by_role("status")).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "/pay/" in copied
    assert_accessible(page, "invoice page with the payment link")

    # When she sends it, confirming the contact
    actions.get_by_role("link", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name=f"Send invoice {invoice.number}")).to_be_visible()
    expect(page.get_by_label("Subject")).to_have_value(f"Invoice {invoice.number} from Harbour Street Therapy")
    assert_accessible(page, "send form")
    page.get_by_label("I have checked this is the client's contact").check()
    page.get_by_role("button", name="Send invoice").click()

    # Then the invoice page says so and logs the send
    expect(page.get_by_text(f"Invoice {invoice.number} is on its way to ana@mail.test.")).to_be_visible()
    log = page.get_by_test_id("send-log")
    expect(log.get_by_test_id("send-log-row")).to_have_count(1)
    expect(log).to_contain_text("ana@mail.test")
    expect(log).to_contain_text("Bella Test")
    assert_accessible(page, "invoice page after sending")

    # And the email is in the Outbox with its PDF and the payment link
    page.goto("/dev/outbox/")
    page.get_by_role("link", name=f"Invoice {invoice.number} from Harbour Street Therapy").click()
    expect(page.get_by_role("link", name=f"invoice-{invoice.number}.pdf")).to_be_visible()
    assert_accessible(page, "outbox email")
    links = page.get_by_role("region", name="Links in this email")
    links.get_by_role("link", name=re.compile(r"\bpay\b")).click()

    # And the link opens the invoice in a fresh session (no sign-in needed)
    link = page.url
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_role("heading", name=re.compile(f"Invoice {invoice.number}"))).to_be_visible()
    expect(page.get_by_test_id("pay-balance")).to_have_text("$150.00")
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
    assert_accessible(page, "payment link page")
    assert console_errors == []
