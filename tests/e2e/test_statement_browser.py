"""A biller, in a real browser at desk and phone widths, uses the client header's Download
statement and Send statement: the downloaded PDF reads back the closing balance, and the
sent statement is in the development Outbox with the same PDF attached. Every state passes
axe under the strict CSP."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from practice.mail import OUTBOX_BACKEND
from tests.billing.test_documents_pdf import pdf_text
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize("width", [1366, 375])
def test_biller_downloads_and_sends_a_statement_from_the_client_header(
    page: Page, tenant, settings, live_server, console_errors, width
):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    settings.SITE_URL = live_server.url
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 812})
    # Given Ana, billed 200 and 80, who has paid 150: she owes 130
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    issued_invoice(practice, ana, tenant.biller, "200.00")
    issued_invoice(practice, ana, tenant.biller, "80.00")
    pay(practice, ana, tenant.biller, "150.00")
    today = practice.local_today()
    start, end = (today - timedelta(days=30)).isoformat(), today.isoformat()
    filename = f"statement-lima-ana-{start}-{end}.pdf"

    # When the biller opens Ana's record and chooses Download statement in its header
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{practice.slug}/clients/{ana.pk}/")
    actions = page.get_by_test_id("client-actions")
    expect(page.get_by_test_id("header-balance")).to_have_text("$130.00")
    assert_accessible(page, f"client record at {width}")
    actions.get_by_role("link", name="Download statement").click()
    expect(page.get_by_role("heading", name="Download statement")).to_be_visible()
    assert_accessible(page, f"statement period form at {width}")
    page.get_by_label("From").fill(start)
    page.get_by_label("To").fill(end)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PDF").click()

    # Then the PDF is Ana's statement for the period, closing at what she owes
    download = download_info.value
    assert download.suggested_filename == filename
    text = pdf_text(Path(download.path()).read_bytes())
    assert "Statement" in text and "Ana Lima" in text
    assert "Opening balance $0.00" in text
    assert "Closing balance $130.00" in text

    # When she goes back and sends the statement to Ana for the same period
    page.goto(f"/p/{practice.slug}/clients/{ana.pk}/")
    page.get_by_test_id("client-actions").get_by_role("link", name="Send statement").click()
    expect(page.get_by_role("heading", name="Send statement")).to_be_visible()
    expect(page.get_by_label("Send to")).to_contain_text("ana@mail.test")
    assert_accessible(page, f"send statement form at {width}")
    page.get_by_label("From").fill(start)
    page.get_by_label("To", exact=True).fill(end)
    page.get_by_role("button", name="Send statement").click()

    # Then the record says it is on its way
    expect(page.get_by_text("The statement to ana@mail.test is on its way.")).to_be_visible()
    assert_accessible(page, f"client record after sending at {width}")

    # And the email is in the Outbox with the statement's PDF attached, reading the same balance
    page.goto("/dev/outbox/")
    expect(page.get_by_role("row", name=re.compile("ana@mail.test"))).to_have_count(1)
    assert_accessible(page, f"outbox at {width}")
    page.get_by_role("link", name=re.compile(r"^Your statement from Harbour Street Therapy")).click()
    attachment = page.get_by_role("link", name=filename)
    expect(attachment).to_be_visible()
    assert_accessible(page, f"outbox email at {width}")
    with page.expect_download() as sent_info:
        attachment.click()
    sent = pdf_text(Path(sent_info.value.path()).read_bytes())
    assert "Ana Lima" in sent and "Closing balance $130.00" in sent
    assert console_errors == []
