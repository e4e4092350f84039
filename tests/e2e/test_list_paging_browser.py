"""Browser test: paging and filtering the clients list on a laptop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 375])
def test_page_through_then_filter_the_clients_list(page, console_errors, tenant, other_tenant, width):
    # Given 30 clients, three of them Whitakers
    ClientFactory.create_batch(27, practice=tenant.practice, last_name="Moreau")
    for first in ("Lily", "Sam", "Tom"):
        ClientFactory(practice=tenant.practice, first_name=first, last_name="Whitaker")
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{tenant.practice.slug}/clients/")
    rows = page.locator("[data-testid=client-row]")
    assert rows.count() == 25
    assert_accessible(page, "clients list")

    # When the user follows Next
    page.get_by_role("link", name="Next").click()
    page.wait_for_url("**/clients/?*page=2*")
    # Then page 2 holds the last five, and Previous goes back
    assert rows.count() == 5
    assert "Page 2 of 2" in page.get_by_role("navigation", name="Pages").inner_text()
    assert "??" not in page.url
    page.get_by_role("link", name="Previous").click()
    page.wait_for_url("**page=1*")
    assert rows.count() == 25

    # When they type a name, the list narrows and the pager goes away
    page.get_by_label("Search").fill("whitaker")
    expect(rows).to_have_count(3)
    assert page.get_by_role("link", name="Next").count() == 0
    assert_accessible(page, "clients list filtered")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert [e for e in console_errors if "favicon.ico" not in e] == []
