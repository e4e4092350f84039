"""A client, on a 375 px phone and with the keyboard only, opens Documents in the portal,
downloads a statement for a period (after a period that runs backwards is refused),
changes the phone on their Profile, asks for a new email and confirms it from the link in
the development Outbox. Every page and state passes axe under the strict CSP."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from billing.documents.statement import PERIOD_BACKWARDS
from clients.profile import EMAIL_CHANGE_DONE, EMAIL_CHANGE_PENDING, PROFILE_SAVED
from practice.mail import OUTBOX_BACKEND
from tests.billing.test_documents_pdf import pdf_text
from tests.e2e.helpers import PHONE, SCROLLS_SIDEWAYS, assert_accessible
from tests.factories import ClientFactory, issued_invoice, pay
from tests.portal import grant_portal, portal_browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tab_to(page: Page, target: Locator, limit: int = 60) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user moves through a page."""
    handle = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => el === document.activeElement", handle):
            return
    raise AssertionError(f"Tab never reached {target}")


def type_into(page: Page, field: Locator, text: str) -> None:
    """Reach ``field`` with Tab, clear it and type, keys only."""
    tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def fits_the_phone(page: Page, label: str) -> None:
    assert page.evaluate(SCROLLS_SIDEWAYS) == [], f"{label} scrolls sideways at 375 px"
    assert_accessible(page, label)


def test_a_client_downloads_a_statement_and_changes_phone_and_email_by_keyboard_on_a_phone(
    page: Page, tenant, settings, live_server, console_errors
):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    settings.SITE_URL = live_server.url
    page.set_viewport_size(PHONE)
    # Given Ana, billed 200 and 80, who has paid 150: she owes 130
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima", email="ana@mail.test", phone="555 0100")
    grant_portal(ana)
    issued_invoice(practice, ana, tenant.biller, "200.00")
    issued_invoice(practice, ana, tenant.biller, "80.00")
    pay(practice, ana, tenant.biller, "150.00")
    today = practice.local_today()
    start, end = (today - timedelta(days=30)).isoformat(), today.isoformat()
    portal_browser_sign_in(page, live_server.url, ana)

    # When she goes from the portal's home to Documents with the keyboard
    page.goto("/portal/")
    tab_to(page, page.get_by_role("navigation", name="Portal").get_by_role("link", name="Documents"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Documents", level=1)).to_be_visible()

    # Then her receipt is listed
    expect(page.get_by_test_id("portal-receipt-row")).to_have_count(1)
    expect(page.get_by_test_id("portal-receipt-row")).to_contain_text("$150.00")
    fits_the_phone(page, "portal documents")

    # When she asks for a statement whose period runs backwards, it is refused with the reason
    # (dates are set with fill: typing into a date field follows the browser's locale)
    statement = page.get_by_test_id("statement-form")
    statement.get_by_label("From").fill(end)
    statement.get_by_label("To").fill(start)
    tab_to(page, statement.get_by_role("button", name="Download statement"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("statement-form").get_by_text(PERIOD_BACKWARDS, exact=True)).to_be_visible()
    fits_the_phone(page, "portal documents with a refused period")

    # And with the period the right way round, the statement downloads
    statement = page.get_by_test_id("statement-form")
    statement.get_by_label("From").fill(start)
    statement.get_by_label("To").fill(end)
    tab_to(page, statement.get_by_role("button", name="Download statement"))
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == f"statement-lima-ana-{start}-{end}.pdf"
    text = pdf_text(Path(download.path()).read_bytes())
    assert "Ana Lima" in text and "Closing balance $130.00" in text

    # When she opens her Profile and changes her phone
    tab_to(page, page.get_by_role("navigation", name="Portal").get_by_role("link", name="Profile"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Profile", level=1)).to_be_visible()
    fits_the_phone(page, "portal profile")
    type_into(page, page.get_by_label("Phone"), "+1 555 0199")
    tab_to(page, page.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")

    # Then it is saved
    expect(page.get_by_text(PROFILE_SAVED)).to_be_visible()
    expect(page.get_by_label("Phone")).to_have_value("+1 555 0199")
    fits_the_phone(page, "portal profile saved")

    # When she asks for a new email
    type_into(page, page.get_by_label("Email", exact=True), "ana.new@mail.test")
    tab_to(page, page.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")

    # Then the page says the old one is used until she confirms the new one
    waiting = EMAIL_CHANGE_PENDING.format(new="ana.new@mail.test", old="ana@mail.test")
    expect(page.get_by_test_id("email-change-waiting")).to_contain_text(waiting)
    fits_the_phone(page, "portal profile with an email change waiting")

    # When she opens the email in the Outbox (from the footer) and follows its link
    tab_to(page, page.get_by_role("contentinfo").get_by_role("link", name="Outbox"))
    page.keyboard.press("Enter")
    row = page.get_by_role("row", name=re.compile("ana.new@mail.test"))
    expect(row).to_have_count(1)
    tab_to(page, row.get_by_role("link", name="Confirm your new email for Harbour Street Therapy"))
    page.keyboard.press("Enter")
    link = page.get_by_role("region", name="Links in this email").get_by_role(
        "link", name=re.compile(r"portal.profile.email.")
    )
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Confirm your new email")).to_be_visible()
    fits_the_phone(page, "portal email confirmation")
    tab_to(page, page.get_by_role("button", name="Confirm email"))
    page.keyboard.press("Enter")

    # Then the new email is hers, and she is still signed in
    expect(page.get_by_text(EMAIL_CHANGE_DONE.format(new="ana.new@mail.test"))).to_be_visible()
    expect(page.get_by_label("Email", exact=True)).to_have_value("ana.new@mail.test")
    expect(page.get_by_test_id("email-change-waiting")).to_have_count(0)
    fits_the_phone(page, "portal profile after the email change")
    ana.refresh_from_db()
    assert (ana.phone, ana.email) == ("+1 555 0199", "ana.new@mail.test")
    # The refused period's page answered 400 (as a form with errors does): nothing else
    assert [e for e in console_errors if "status of 400" not in e] == []
