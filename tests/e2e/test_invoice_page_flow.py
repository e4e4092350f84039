"""A biller in a real browser writes an invoice of five free lines on + New invoice (adding
rows with "Add line", no draft-edit-issue detour), issues it, and prints it; the console
stays clean under the strict CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in
from tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_biller_creates_and_issues_an_invoice_of_five_free_lines_and_prints_it(page: Page, tenant, console_errors):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")
    # window.print opens a dialog headless Chromium cannot show: count the calls instead.
    page.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")

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
    for n in range(1, 6):
        page.get_by_label(f"Description, line {n}", exact=True).fill(f"Report {n}")
        page.get_by_label(f"Price, line {n}", exact=True).fill(f"{n}0.00")
    page.get_by_role("button", name="Create and issue").click()

    # Then the invoice is issued with the five lines: 10 + 20 + 30 + 40 + 50
    expect(page.get_by_test_id("invoice-status")).to_have_text("Open")
    expect(page.get_by_test_id("invoice-line")).to_have_count(5)
    expect(page.get_by_test_id("invoice-total")).to_have_text("$150.00")

    # And Print opens the browser's print dialog
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") == 1
    assert console_errors == []
