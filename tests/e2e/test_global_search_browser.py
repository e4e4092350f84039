"""Browser test: finding a client from the header's search with the keyboard, and with the mouse."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def within_the_width(page, width: int, *elements) -> None:
    """The page does not scroll sideways and each element lies between the screen's edges."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for element in elements:
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box


@pytest.mark.parametrize("width", [1366, 375])
def test_search_a_client_from_the_header_and_open_them(page, console_errors, tenant, other_tenant, width):
    # Given three Whitakers, one with an invoice, and a look-alike in another practice
    ClientFactory(practice=other_tenant.practice, first_name="Lily", last_name="Whitaker")
    lily = ClientFactory(practice=tenant.practice, first_name="Lily", last_name="Whitaker", email="lily@mail.test")
    sam = ClientFactory(practice=tenant.practice, first_name="Sam", last_name="Whitaker")
    ClientFactory(practice=tenant.practice, first_name="Tom", last_name="Ng")
    invoice = issued_invoice(tenant.practice, sam, tenant.biller)
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 812})
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{tenant.practice.slug}/billing/")

    # When the user types in the header's search
    box = page.get_by_role("combobox", name="Quick find")
    box.fill("whitaker")
    listbox = page.get_by_role("listbox", name="Quick find results")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("search-clients")).to_contain_text("Clients")
    within_the_width(page, width, box, listbox, options.nth(0), options.nth(1))
    assert_accessible(page, "header search with results open")

    # Then arrow keys move the choice and Escape closes the list
    box.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", f"search-client-{sam.pk}")
    box.press("ArrowUp")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    # And Enter on the chosen client opens their record
    box.press("ArrowDown")
    expect(listbox).to_be_visible()
    box.press("Enter")
    page.wait_for_url(f"**/clients/{lily.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lily Whitaker")
    within_the_width(page, width, page.get_by_role("heading", level=1))
    assert_accessible(page, "client record opened from the search")

    # And an invoice number finds the invoice under its own heading; a click opens it
    box = page.get_by_role("combobox", name="Quick find")
    box.fill(invoice.number)
    option = page.get_by_role("listbox", name="Quick find results").get_by_role("option")
    expect(option).to_have_count(1)
    expect(page.get_by_test_id("search-invoices")).to_contain_text("Invoices")
    within_the_width(page, width, option)
    option.click()
    page.wait_for_url(f"**/billing/invoices/{invoice.pk}/")
    within_the_width(page, width, page.get_by_test_id("invoice-total"), page.get_by_test_id("invoice-balance"))
    assert [e for e in console_errors if "favicon.ico" not in e] == []


def test_the_search_fits_a_phone(page, tenant, other_tenant):
    ClientFactory(practice=tenant.practice, first_name="Lily", last_name="Whitaker", email="lily.whitaker@mail.test")
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{tenant.practice.slug}/clients/")
    page.get_by_role("combobox", name="Quick find").fill("lily")
    expect(page.get_by_role("listbox", name="Quick find results").get_by_role("option")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "header search on a phone")
