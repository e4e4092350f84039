"""A biller in a real browser: on a client's Billing tab, picks two uninvoiced items,
ticks Apply credit balance, creates and issues the invoice, records a cash payment, and
sees the invoice Paid with a balance of 0 (and a clean console under the strict CSP)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from billing import services
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_biller_invoices_two_items_with_credit_and_takes_cash(page: Page, tenant, console_errors):
    # Given a client with 30.00 of credit and three uninvoiced sessions
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")
    services.credit_invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.owner,
        reason="Goodwill",
        lines=[services.LineInput(description="Goodwill credit", unit_price=Decimal("30.00"))],
    )
    first = make_item(tenant.practice, ana, price="100.00", description="Individual therapy", days_ago=9)
    second = make_item(tenant.practice, ana, price="50.00", description="Report writing", days_ago=5)
    make_item(tenant.practice, ana, price="70.00", description="Phone consult", days_ago=2)

    # When the biller opens the client's Billing tab
    sign_in(page, tenant.biller.email)
    expect(page.get_by_test_id("practice-name")).to_be_visible()
    page.goto(f"/p/{tenant.practice.slug}/clients/{ana.pk}/billing/")
    expect(page.get_by_role("heading", name="Uninvoiced amounts")).to_be_visible()
    expect(page.get_by_test_id("client-credit")).to_have_text("$30.00")
    expect(page.get_by_test_id("uninvoiced-row")).to_have_count(3)
    assert_accessible(page, "client billing tab")

    # ... selects two items, ticks Apply credit balance, and creates and issues the invoice
    page.locator(f"input[name=item][value='{first.pk}']").check()
    page.locator(f"input[name=item][value='{second.pk}']").check()
    page.get_by_label("Apply credit balance").check()
    page.get_by_role("button", name="Create and issue").click()

    # Then the invoice is open: 150.00 less 30.00 of credit
    expect(page.get_by_test_id("invoice-status")).to_have_text("Partially paid")
    expect(page.get_by_test_id("invoice-total")).to_have_text("$150.00")
    expect(page.get_by_test_id("invoice-credit-applied")).to_have_text("$30.00")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$120.00")
    expect(page.get_by_test_id("invoice-line")).to_have_count(2)
    assert_accessible(page, "issued invoice")

    # When they record a cash payment of the balance
    page.get_by_role("link", name="Add payment").click()
    expect(page.get_by_label("Amount")).to_have_value("120")
    assert_accessible(page, "add payment form")
    page.get_by_label("Method").select_option(label="Cash")
    page.get_by_role("button", name="Add payment").click()

    # Then they see the invoice Paid, balance 0
    expect(page).to_have_url(re.compile(r"/billing/invoices/\d+/$"))
    expect(page.get_by_text("Payment of $120.00 recorded.")).to_be_visible()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Paid")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$0.00")
    expect(page.get_by_test_id("invoice-amount-paid")).to_have_text("$120.00")
    assert_accessible(page, "paid invoice")

    # And the client's Billing tab agrees: nothing owed, no credit left, one item still uninvoiced
    page.goto(f"/p/{tenant.practice.slug}/clients/{ana.pk}/billing/")
    expect(page.get_by_test_id("client-balance")).to_have_text("$0.00")
    expect(page.get_by_test_id("client-credit")).to_have_text("$0.00")
    expect(page.get_by_test_id("uninvoiced-row")).to_have_count(1)
    assert_accessible(page, "client billing tab after payment")
    assert console_errors == []
