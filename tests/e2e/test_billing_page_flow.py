"""A biller in a real browser on the Billing page: sees two clients' uninvoiced items from
last week on the Uninvoiced tab, runs "Invoice all uninvoiced" for last week (preview, then
confirm with issuing), and finds two numbered Open invoices on the Invoices tab with the
Outstanding total equal to their sum, while a third client's item from today, outside the
range, is still uninvoiced (and the console stays clean under the strict CSP)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_biller_invoices_all_of_last_week_from_the_billing_page(page: Page, tenant, console_errors):
    practice = tenant.practice
    today = practice.local_today()
    # Last week as a biller counts it: Monday to Sunday of the week before this one.
    monday = today - timedelta(days=today.weekday() + 7)
    sunday = monday + timedelta(days=6)
    days_ago = (today - monday).days

    # Given two clients with uninvoiced items dated last week ...
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Smith")
    ben = ClientFactory(practice=practice, first_name="Ben", last_name="Jones")
    make_item(practice, ana, "100.00", days_ago=days_ago, description="Individual therapy")
    make_item(practice, ana, "50.00", days_ago=days_ago - 4, description="Report writing")
    make_item(practice, ben, "80.00", days_ago=days_ago - 2, description="Individual therapy")
    # ... and a third client with an item dated today, outside that range
    cleo = ClientFactory(practice=practice, first_name="Cleo", last_name="Park")
    make_item(practice, cleo, "40.00", days_ago=0, description="Phone consult")

    # When the biller opens Billing from the main navigation
    sign_in(page, tenant.biller.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing")

    # Then the Uninvoiced tab lists the three clients and what they owe
    tabs = page.get_by_role("navigation", name="Billing")
    expect(tabs.get_by_role("link", name="Uninvoiced")).to_have_attribute("aria-current", "page")
    rows = page.get_by_test_id("uninvoiced-row")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Ana Smith")).to_contain_text("$150.00")
    expect(rows.filter(has_text="Ben Jones")).to_contain_text("$80.00")
    expect(rows.filter(has_text="Cleo Park")).to_contain_text("$40.00")
    expect(page.get_by_test_id("total-uninvoiced")).to_have_text("$270.00")
    expect(page.get_by_test_id("total-outstanding")).to_have_text("$0.00")
    assert_accessible(page, "billing uninvoiced tab")

    # When they open Invoice all uninvoiced and choose last week's dates
    page.get_by_role("link", name="Invoice all uninvoiced").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice all uninvoiced")
    # The "Last week" quick pick offers the same range the biller types in.
    last_week_pick = page.get_by_role("link", name=re.compile(r"^Last week"))
    expect(last_week_pick).to_have_attribute("href", f"?date_from={monday.isoformat()}&date_to={sunday.isoformat()}")
    assert_accessible(page, "invoice all uninvoiced form")
    page.get_by_label("From", exact=True).fill(monday.isoformat())
    page.get_by_label("To", exact=True).fill(sunday.isoformat())
    page.get_by_role("button", name="Preview").click()

    # Then the preview shows two clients, their item counts and the grand total
    preview = page.get_by_test_id("invoice-all-preview")
    expect(preview).to_be_visible()
    expect(preview.locator("caption")).to_have_text("2 clients, 3 items")
    preview_rows = preview.get_by_test_id("preview-row")
    expect(preview_rows).to_have_count(2)
    expect(preview_rows.filter(has_text="Ana Smith").locator("td")).to_have_text(["Ana Smith", "2", "$150.00"])
    expect(preview_rows.filter(has_text="Ben Jones").locator("td")).to_have_text(["Ben Jones", "1", "$80.00"])
    expect(preview).not_to_contain_text("Cleo Park")
    expect(preview.get_by_test_id("grand-total")).to_have_text("$230.00")
    assert_accessible(page, "invoice all uninvoiced preview")

    # When they confirm, creating issued invoices
    expect(preview.get_by_role("radio", name=re.compile(r"^Issued invoices"))).to_be_checked()
    preview.get_by_role("button", name="Create 2 invoices").click()

    # Then two issued invoices are created, with numbers
    expect(page.get_by_text("Created 2 invoice(s) for 2 client(s).")).to_be_visible()
    summary = page.get_by_test_id("invoice-all-summary")
    expect(summary).to_contain_text("2 issued invoices, $230.00 in all.")
    created = summary.get_by_test_id("created-row")
    expect(created).to_have_count(2)
    number = re.compile(rf"^{re.escape(practice.invoice_prefix)}\d{{6}}$")
    numbers = {}
    for client, total in (("Ana Smith", "$150.00"), ("Ben Jones", "$80.00")):
        row = created.filter(has_text=client)
        expect(row.locator("td").nth(0)).to_have_text(number)
        expect(row.locator("td").nth(2)).to_have_text(total)
        numbers[client] = row.locator("td").nth(0).inner_text()
    assert len(set(numbers.values())) == 2
    assert_accessible(page, "invoice all uninvoiced summary")

    # When they go back to Billing and open the Invoices tab
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    page.get_by_role("navigation", name="Billing").get_by_role("link", name="Invoices").click()
    expect(page).to_have_url(re.compile(r"/billing/invoices/$"))

    # Then they see the two new invoices, Open, with the right totals and balances
    invoice_rows = page.get_by_test_id("invoice-row")
    expect(invoice_rows).to_have_count(2)
    for client, total in (("Ana Smith", "$150.00"), ("Ben Jones", "$80.00")):
        cells = invoice_rows.filter(has_text=client).locator("td")
        expect(cells.nth(0)).to_have_text(numbers[client])
        expect(cells.nth(4)).to_have_text(total)
        expect(cells.nth(5)).to_have_text(total)
        expect(cells.nth(6)).to_have_text("Open")
    # And the Outstanding total at the top is their sum
    expect(page.get_by_test_id("total-outstanding")).to_have_text("$230.00")
    expect(page.get_by_test_id("billing-totals")).to_contain_text("2 open invoices")
    assert_accessible(page, "billing invoices tab")

    # And the third client's item from today is still on the Uninvoiced tab, alone
    page.get_by_role("navigation", name="Billing").get_by_role("link", name="Uninvoiced").click()
    rows = page.get_by_test_id("uninvoiced-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Cleo Park")
    expect(rows.first).to_contain_text("$40.00")
    expect(page.get_by_test_id("total-uninvoiced")).to_have_text("$40.00")
    assert_accessible(page, "billing uninvoiced tab after invoicing")

    assert console_errors == []
