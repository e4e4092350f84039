"""The client portal on a phone (375 px wide), by keyboard where a person would use it: a
client asks for a sign-in link, follows it from the development Outbox, sees the red count
of unpaid invoices, expands an invoice, downloads its PDF, pays it with 4242 on the fake
Stripe's hosted page, and sees the count go down. axe-core checks every page on the way."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.models import Invoice, Payment
from payments.models import StripeAccount
from practice.mail import OUTBOX_BACKEND
from tests.factories import ClientFactory, PracticeFactory, issued_invoice
from tests.payments.conftest import _fake_stripe_server, app_on_fake, fake_stripe, webhook_receiver  # noqa: F401
from tests.payments.helpers import CARD_OK, connected_account
from tests.portal import grant_portal

from .helpers import PHONE, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _fits_the_phone(page: Page, label: str) -> None:
    assert page.evaluate(FITS), f"{label} is wider than the phone"


def _check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    _fits_the_phone(page, label)


def _sign_in_from_the_outbox(page: Page, email: str) -> None:
    page.goto("/portal/")
    expect(page.get_by_role("heading", name="Sign in to the client portal")).to_be_visible()
    _check(page, "portal sign-in")
    page.get_by_label("Email").fill(email)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("portal-signin-sent")).to_contain_text(email)
    _check(page, "portal sign-in sent")

    page.get_by_role("contentinfo").get_by_role("link", name="Outbox").click()
    page.get_by_role("link", name=re.compile("sign-in link")).first.click()
    page.get_by_role("region", name="Links in this email").get_by_role("link", name=re.compile("signin.link")).click()
    expect(page.get_by_role("heading", name="Sign in to the client portal")).to_be_visible()
    _check(page, "portal sign-in link")
    sign_in = page.get_by_role("button", name="Sign in")
    sign_in.focus()
    page.keyboard.press("Enter")


def test_a_client_signs_in_by_email_link_and_pays_an_invoice_on_a_phone(
    page: Page,
    app_on_fake,  # noqa: F811
    tenant,
    live_server,
    settings,
    tmp_path: Path,
    console_errors: list[str],
):
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    practice = tenant.practice
    practice.phone = "(207) 555-0100"
    practice.email = "hello@harbour.test"
    practice.save()
    StripeAccount.objects.create(
        practice=practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    ann = ClientFactory(practice=practice, first_name="Ann", last_name="Lee", email="ann@mail.test")
    grant_portal(ann)
    with time_machine.travel(timezone.now() - timedelta(days=20), tick=False):
        older = issued_invoice(practice, ann, tenant.biller, "150.00", "80.00")
    newer = issued_invoice(practice, ann, tenant.biller, "45.00")
    page.set_viewport_size(PHONE)

    _sign_in_from_the_outbox(page, "ann@mail.test")

    # Billing: the red count is in the navigation, as words a screen reader says too.
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Portal")
    expect(nav.get_by_role("link", name="Billing, 2 unpaid")).to_be_visible()
    expect(page.get_by_test_id("portal-unpaid-count")).to_have_text("2")
    expect(page.get_by_test_id("portal-contact")).to_contain_text("(207) 555-0100")
    _check(page, "portal billing")

    # Expand the older invoice by keyboard: its details arrive in place.
    row = page.get_by_test_id("portal-invoice").filter(has_text=f"Invoice {older.number}")
    row.locator("summary").focus()
    page.keyboard.press("Enter")
    details = row.get_by_test_id("portal-invoice-details")
    expect(details).to_be_visible()
    expect(details.get_by_test_id("portal-line")).to_have_count(2)
    expect(details.get_by_test_id("portal-details-due")).to_have_text("$230.00")
    _check(page, "portal billing, invoice expanded")

    with page.expect_download() as download:
        details.get_by_role("link", name=re.compile("^Download PDF")).click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"invoice-{older.number}.pdf"
    assert saved.read_bytes().startswith(b"%PDF")

    details.get_by_role("link", name=re.compile("^View")).click()
    expect(page.get_by_test_id("document")).to_contain_text(older.number)
    _check(page, "portal invoice document")
    page.go_back()

    # Make payment, by keyboard, and pay on the fake Stripe page with 4242.
    row = page.get_by_test_id("portal-invoice").filter(has_text=f"Invoice {older.number}")
    if row.locator("details").get_attribute("open") is None:
        row.locator("summary").click()
    pay = row.get_by_role("button", name=re.compile("^Make payment"))
    pay.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Pay 230.00 USD")).to_be_visible()
    assert page.url.startswith(app_on_fake.url)
    page.get_by_label("Email").fill("ann@mail.test")
    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 39")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ann Lee")
    page.get_by_role("button", name="Pay 230.00 USD").click()

    # Back in the portal: the invoice shows Paid and the count went down.
    expect(page.get_by_role("heading", name=f"Invoice {older.number}")).to_be_visible()
    assert page.url.startswith(live_server.url)
    expect(page.get_by_test_id("portal-details-status")).to_have_text("Paid")
    expect(page.get_by_role("status")).to_contain_text("Thank you: your payment of $230.00 was received.")
    expect(nav.get_by_role("link", name="Billing, 1 unpaid")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Make payment"))).to_have_count(0)
    _check(page, "portal invoice, paid")
    older.refresh_from_db()
    assert older.status == Invoice.Status.PAID
    assert Payment.objects.filter(client=ann, method=Payment.Method.CARD_ONLINE).count() == 1

    page.get_by_role("link", name="Billing, 1 unpaid").click()
    expect(page.get_by_test_id("portal-invoice").filter(has_text=f"Invoice {older.number}")).to_contain_text("Paid")
    expect(page.get_by_test_id("portal-invoice").filter(has_text=f"Invoice {newer.number}")).to_contain_text("Unpaid")

    # The other portal pages, reached from the navigation.
    for label in ("Payment methods", "AutoPay", "Documents", "Profile"):
        nav.get_by_role("link", name=label).click()
        expect(nav.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")
        _check(page, f"portal {label}")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the client portal")).to_be_visible()
    page.goto("/portal/")
    expect(page.get_by_role("heading", name="Sign in to the client portal")).to_be_visible()
    # htmx, the theme colour and the forms to Stripe all held under the strict CSP.
    # (The fake Stripe's own page has no favicon: not ours.)
    assert [e for e in console_errors if app_on_fake.url not in e] == []


def test_processing_and_the_practice_chooser_on_a_phone(
    page: Page,
    app_on_fake,  # noqa: F811
    tenant,
    live_server,
    settings,
):
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    practice = tenant.practice
    StripeAccount.objects.create(
        practice=practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    ann = ClientFactory(practice=practice, first_name="Ann", last_name="Lee", email="ann@mail.test")
    elsewhere = PracticeFactory(name="Riverside Counselling", slug="riverside")
    twin = ClientFactory(practice=elsewhere, first_name="Ann", last_name="Lee", email="ann@mail.test")
    grant_portal(ann, twin)
    issued_invoice(practice, ann, tenant.biller, "60.00")
    page.set_viewport_size(PHONE)

    _sign_in_from_the_outbox(page, "ann@mail.test")

    expect(page.get_by_role("heading", name="Which account?")).to_be_visible()
    _check(page, "portal chooser")
    page.get_by_role("button", name=re.compile(f"^{practice.name}")).click()
    expect(page.get_by_test_id("portal-practice")).to_have_text(practice.name)

    # Pay full balance, then come back before paying: Processing, and nothing recorded.
    page.get_by_role("button", name=re.compile("^Pay full balance")).click()
    expect(page.get_by_role("button", name="Pay 60.00 USD")).to_be_visible()
    from payments.checkout import attempt_token
    from payments.models import CheckoutAttempt

    attempt = CheckoutAttempt.objects.get()
    page.goto(f"/portal/checkout/{attempt_token(attempt)}/return/")
    expect(page.get_by_test_id("portal-processing")).to_contain_text("Processing")
    _check(page, "portal processing")
    assert not Payment.objects.exists()
    # Stripe takes the money meanwhile: the page moves on by itself.
    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)
    expect(page.get_by_test_id("portal-owed-nothing")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("portal-unpaid-count")).to_have_count(0)
