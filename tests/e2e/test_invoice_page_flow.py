"""A biller in a real browser writes an invoice of five free lines on + New invoice (adding
rows with "Add line", no draft-edit-issue detour), issues it, and prints it; the console
stays clean under the strict CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from practice.services import invoice_template_update
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice, make_item, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INSTRUCTIONS = "Bank transfer to BSB 062-000, account 1234 5678"
FOOTER = "Thank you for coming to Harbour Street Therapy."


def within_the_width(page: Page, width: int, *test_ids: str) -> None:
    """The page does not scroll sideways and each figure named lies between the screen's edges."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for test_id in test_ids:
        box = page.get_by_test_id(test_id).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (test_id, box)


@pytest.mark.parametrize("width", [1366, 375])
def test_biller_creates_and_issues_an_invoice_of_five_free_lines_and_prints_it(
    page: Page, tenant, console_errors, width
):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")
    invoice_template_update(
        practice=tenant.practice,
        actor=tenant.owner,
        data={
            "theme_colour": "#12644a",
            "layout": "classic",
            "display_name": "",
            "address": "",
            "tax_id": "",
            "footer": FOOTER,
            "payment_instructions": INSTRUCTIONS,
        },
    )
    # window.print opens a dialog headless Chromium cannot show: count the calls instead.
    page.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 812})

    # When the biller opens + New invoice for Ana
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{tenant.practice.slug}/billing/invoices/new/?client={ana.pk}")
    rows = page.get_by_test_id("free-line")
    expect(rows).to_have_count(3)

    # ... adds two rows with "Add line" and fills in five lines
    page.get_by_role("button", name="Add line").click()
    page.get_by_role("button", name="Add line").click()
    expect(rows).to_have_count(5)
    expect(page.get_by_label("Date, line 5")).to_be_focused()
    within_the_width(page, width)
    assert_accessible(page, "new invoice with five free lines")
    for n in range(1, 6):
        page.get_by_label(f"Description, line {n}", exact=True).fill(f"Report {n}")
        page.get_by_label(f"Price, line {n}", exact=True).fill(f"{n}0.00")
    page.get_by_role("button", name="Create and issue").click()

    # Then the invoice is issued with the five lines: 10 + 20 + 30 + 40 + 50
    expect(page.get_by_test_id("invoice-status")).to_have_text("Open")
    expect(page.get_by_test_id("invoice-line")).to_have_count(5)
    expect(page.get_by_test_id("invoice-total")).to_have_text("$150.00")
    within_the_width(page, width, "invoice-total", "invoice-balance")
    assert_accessible(page, "issued invoice of five lines")

    # And Print opens the browser's print dialog
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") == 1

    # On paper: the invoice as its PDF reads, in the practice's template, without the app around it
    page.emulate_media(media="print")
    paper = page.get_by_test_id("invoice-print")
    expect(paper).to_be_visible()
    title = paper.get_by_test_id("document-title")
    expect(title).to_have_text("Invoice")
    expect(title).to_have_css("color", "rgb(18, 100, 74)")  # the theme colour, #12644a
    expect(paper.get_by_test_id("document-issuer")).to_have_text("Harbour Street Therapy")
    expect(paper.get_by_test_id("document-instructions")).to_contain_text(INSTRUCTIONS)
    expect(paper.get_by_test_id("document-footer")).to_have_text(FOOTER)
    expect(paper).to_contain_text("Report 5")
    expect(paper).to_contain_text("$150.00")
    for hidden in (
        page.get_by_role("navigation", name="Main"),
        page.get_by_role("button", name="Print"),
        page.get_by_test_id("invoice-total"),
        page.get_by_role("complementary", name="Actions"),
    ):
        expect(hidden).to_be_hidden()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"invoice-print-{width}.png"), full_page=True)
    assert console_errors == []


PHONE = {"width": 375, "height": 812}
WIDE = {"width": 1366, "height": 900}
# Nothing wider than the viewport: neither the page nor a table inside its scroll box.
OVERFLOW = """() => {
  const wide = [document.documentElement, ...document.querySelectorAll('.table-wrap')]
    .filter(el => el.scrollWidth > el.clientWidth + 1);
  return wide.map(el => (el.className || el.tagName) + ' ' + el.scrollWidth + '>' + el.clientWidth);
}"""
# Controls smaller than 24 x 24 px, and primary actions lower than 44 px (WCAG 2.5.8, and
# the comfortable size for a thumb).
SMALL_TARGETS = """() => [...document.querySelectorAll('main button, main .button, main input, main select')]
  .filter(el => el.offsetParent !== null && el.type !== 'hidden')
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width < 24 || r.height < 24 || (el.matches('.primary') && r.height < 44))
  .map(([el, r]) => (el.name || el.textContent.trim()) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
"""

# Summary figures that reach into their tile's padding (or past its edge).
CRAMPED_TILES = """() => [...document.querySelectorAll('.tile-value')].filter(el => {
  const tile = el.closest('.tile').getBoundingClientRect();
  const text = document.createRange(); text.selectNodeContents(el);
  const box = text.getBoundingClientRect();
  return box.right > tile.right - 12 || box.left < tile.left + 12;
}).map(el => el.textContent.trim());
"""


def test_invoice_and_billing_tab_fit_a_phone(page: Page, tenant, console_errors):
    practice = tenant.practice
    ana = ClientFactory(
        practice=practice,
        first_name="Anastasia",
        last_name="Konstantinopoulou-Vanderberg",
        email="anastasia.konstantinopoulou-vanderberg@example-clinic-mail.com",
    )
    invoice = issued_invoice(practice, ana, tenant.owner, "1250.00", "980.50", "75.00")
    issued_invoice(practice, ana, tenant.owner, "96000.00")  # a balance of $97,805.50 for the tiles
    pay(practice, ana, tenant.owner, "500.00")
    make_item(practice, ana, price="120.00", description="Individual therapy, extended session")
    make_item(practice, ana, price="45.50", description="Report writing")
    sign_in(page, tenant.biller.email)

    for name, path in (
        ("invoice", f"/p/{practice.slug}/billing/invoices/{invoice.pk}/"),
        ("client-billing", f"/p/{practice.slug}/clients/{ana.pk}/billing/"),
        ("payment", f"/p/{practice.slug}/billing/payments/new/?invoice={invoice.pk}"),
        ("invoice-new", f"/p/{practice.slug}/billing/invoices/new/?client={ana.pk}"),
    ):
        for size in (WIDE, PHONE):
            page.set_viewport_size(size)
            page.goto(path)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{size['width']}.png"), full_page=True)
            assert page.evaluate(OVERFLOW) == [], f"{name} at {size['width']} px scrolls sideways"
            assert page.evaluate(SMALL_TARGETS) == [], f"{name} at {size['width']} px"
            assert page.evaluate(CRAMPED_TILES) == [], f"{name} at {size['width']} px"
            assert_accessible(page, name)

    # At 375 px the invoice's total is on screen, not past the right edge
    page.set_viewport_size(PHONE)
    page.goto(f"/p/{practice.slug}/billing/invoices/{invoice.pk}/")
    total = page.get_by_test_id("invoice-total")
    expect(total).to_have_text("$2,305.50")
    box = total.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    balance = page.get_by_test_id("invoice-balance").bounding_box()
    assert balance is not None and balance["x"] + balance["width"] <= PHONE["width"]
    # A long email in the client's header is one line cut short, whole in its title
    page.goto(f"/p/{practice.slug}/clients/{ana.pk}/billing/")
    email = page.get_by_test_id("header-email")
    expect(email).to_have_attribute("title", ana.email)
    assert email.evaluate("el => el.scrollWidth > el.clientWidth && el.getClientRects().length === 1")
    assert console_errors == []
