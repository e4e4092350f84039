"""The owner changes the theme colour and layout on Settings > Invoice template and sees
the preview follow at once (htmx), saves, and the invoice page's Download PDF gives the
invoice as a PDF; the console stays clean under the strict CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_owner_changes_the_theme_colour_and_sees_it_in_the_preview(page: Page, tenant, console_errors):
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{tenant.practice.slug}/settings/invoice-template/")
    preview = page.get_by_test_id("invoice-preview")
    title = preview.get_by_test_id("document-title")
    # The default colour, #1f5f8b
    expect(title).to_have_css("color", "rgb(31, 95, 139)")
    assert_accessible(page, "invoice template, defaults")

    # When the owner picks a new theme colour and the banner layout
    page.get_by_label("Theme colour").fill("#7a1f5c")
    expect(title).to_have_css("color", "rgb(122, 31, 92)")
    page.get_by_label("Layout").select_option("banner")
    head = preview.locator(".doc-head")
    expect(head).to_have_css("background-color", "rgb(122, 31, 92)")
    page.get_by_label("Footer text").fill("Thank you for coming.")
    expect(preview.get_by_test_id("document-footer")).to_have_text("Thank you for coming.")
    assert_accessible(page, "invoice template, banner preview")

    # ... and saves: the page comes back with the new look
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Invoice template saved.")).to_be_visible()
    expect(page.get_by_test_id("invoice-preview").locator(".doc-head")).to_have_css(
        "background-color", "rgb(122, 31, 92)"
    )

    # On a phone the preview scrolls sideways inside its own box, which the keyboard reaches
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "invoice template at 375 px")
    assert console_errors == []


def test_download_pdf_on_the_invoice_page_gives_the_invoice(page: Page, tenant, console_errors):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{tenant.practice.slug}/billing/invoices/{invoice.pk}/")
    assert_accessible(page, "invoice page with its PDF link")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()

    download = download_info.value
    assert download.suggested_filename == f"invoice-{invoice.number}.pdf"
    text = PdfReader(download.path()).pages[0].extract_text()
    assert invoice.number in text and "Ana Smith" in text and "$150.00" in text
    assert console_errors == []
