"""The development Outbox in a real browser: reached from the footer, an email's page with
its link, its HTML in a sandboxed frame under the strict CSP, and its attachment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from practice.mail import OUTBOX_BACKEND, Attachment, email_queue
from tests.e2e.helpers import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_newcomer_opens_an_email_from_the_outbox_and_follows_its_link(page: Page, tenant, settings, live_server):
    # Given development's Outbox backend and an email that went out through it
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    # A long link, as signed links are, must not widen the page on a phone
    link = f"{live_server.url}/signin/?next=/p/{'x' * 90}/"
    email_queue(
        key="portal-sign-in:1",
        practice=tenant.practice,
        to="payer@example.test",
        subject="Invoice INV-0001 from Harbour Street Therapy",
        template="staff_invite",
        context={"invite": None, "link": link, "days": 7},
        attachments=[Attachment("INV-0001.pdf", b"%PDF-1.7 invoice", "application/pdf")],
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # When she follows the footer's Outbox link from the sign-in page
    page.goto("/signin/")
    page.get_by_role("contentinfo").get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("payer@example.test"))).to_be_visible()
    assert_accessible(page, "outbox list")

    # Then the email's page shows its HTML in a frame, its text, its attachment and its link
    page.get_by_role("link", name="Invoice INV-0001 from Harbour Street Therapy").click()
    expect(page.get_by_role("heading", name="Invoice INV-0001 from Harbour Street Therapy")).to_be_visible()
    frame = page.frame_locator("iframe.outbox-html")
    expect(frame.get_by_text("This is a service email from Harbour Street Therapy")).to_be_visible()
    expect(page.locator("pre.outbox-text")).to_contain_text(link)
    expect(page.get_by_role("link", name="INV-0001.pdf")).to_be_visible()
    assert_accessible(page, "outbox email")
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 900})
    with page.expect_download() as download:
        page.get_by_role("link", name="INV-0001.pdf").click()
    assert download.value.suggested_filename == "INV-0001.pdf"

    page.get_by_role("region", name="Links in this email").get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name="Sign in to Practica")).to_be_visible()
    # The frame's own CSP and the page's both held without complaint
    assert errors == []
