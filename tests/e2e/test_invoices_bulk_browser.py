"""Browser test: marking three invoices paid at once from the Billing page's Invoices tab,
with a double click on the button, on a laptop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from billing.models import Invoice, Payment
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# Boxes wider than they show: the page, or a table inside its sideways-scrolling wrapper.
SCROLLS_SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('.table-wrap')]
  .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.className || el.tagName)"""


def fits_the_width(page: Page, width: int, figure: str) -> None:
    """Nothing scrolls sideways, and the cell showing ``figure`` lies between the screen's edges."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(SCROLLS_SIDEWAYS) == []
    box = page.get_by_test_id("invoice-row").locator("td", has_text=figure).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box


@pytest.mark.parametrize("width", [1366, 375])
def test_bulk_mark_as_paid_with_a_double_click_pays_each_once(page, console_errors, tenant, other_tenant, width):
    # Given four open invoices, of which the biller will tick three
    client = ClientFactory(practice=tenant.practice, first_name="Lily", last_name="Whitaker")
    invoices = [issued_invoice(tenant.practice, client, tenant.biller, p) for p in ("100.00", "60.00", "40.00", "5.00")]
    chosen = invoices[:3]
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 812})
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{tenant.practice.slug}/billing/invoices/?status=open")
    fits_the_width(page, width, "$100.00")
    for invoice in chosen:
        page.get_by_role("checkbox", name=f"Tick {invoice.number}").check()
    page.get_by_label("Method").select_option(label="Bank transfer")
    assert_accessible(page, "invoices tab with three ticked")

    # When they double-click Mark as paid
    page.get_by_role("button", name="Mark as paid").dblclick()
    page.wait_for_url("**/billing/invoices/?status=open")

    # Then the three are paid once each, the fourth is not, and the page says what was done
    expect(page.get_by_role("status")).to_contain_text("Marked as paid: 3 invoice(s)")
    expect(page.get_by_test_id("invoice-row")).to_have_count(1)
    fits_the_width(page, width, "$5.00")
    assert_accessible(page, "invoices tab after the bulk action")
    assert Payment.objects.filter(practice=tenant.practice).count() == 3
    assert [Invoice.objects.get(pk=i.pk).status for i in invoices] == ["paid", "paid", "paid", "open"]
    assert [e for e in console_errors if "favicon.ico" not in e] == []
