"""The Billing page's four tabs on a 375 px phone: each table turns into one card per row,
nothing scrolls sideways, every figure is on screen and each box to tick is big enough for
a thumb. Saves a screenshot of each tab (billing-<tab>-375.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import OFF_SCREEN, PHONE, SCROLLS_SIDEWAYS, SMALL_BOXES, assert_accessible, sign_in
from tests.factories import ClientFactory, draft_invoice, give_credit, issued_invoice, make_item, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_tabs_are_cards_on_a_phone(page: Page, tenant, console_errors):
    practice = tenant.practice
    # Given a client with a long name, large figures on every tab, and one of each kind of row
    ana = ClientFactory(practice=practice, first_name="Anastasia", last_name="Konstantinopoulou-Vanderberg")
    ben = ClientFactory(practice=practice, first_name="Ben", last_name="Jones")
    issued_invoice(practice, ana, tenant.owner, "96000.00", "1250.00")
    issued_invoice(practice, ben, tenant.owner, "80.00")
    draft_invoice(practice, ben, tenant.owner, "45.50")
    give_credit(practice, ana, tenant.owner, "1234.56", reason="Goodwill after a cancelled block of sessions")
    pay(practice, ana, tenant.owner, "97000.00", reference="Bank transfer ref 2026-000123-ABCDEFGH")
    pay(practice, ben, tenant.owner, "200.00", to_credit=True)
    make_item(practice, ana, price="12000.00", description="Assessment", days_ago=9)
    make_item(practice, ana, price="45.50", description="Report writing", days_ago=2)
    make_item(practice, ben, price="120.00", description="Individual therapy", days_ago=1)
    sign_in(page, tenant.biller.email)
    page.set_viewport_size(PHONE)
    base = f"/p/{practice.slug}/billing/"

    for tab, path, row_id, figure in (
        ("uninvoiced", base, "uninvoiced-row", "$12,045.50"),
        ("invoices", f"{base}invoices/", "invoice-row", "$97,250.00"),
        ("payments", f"{base}payments/", "payment-row", "$97,000.00"),
        ("credits", f"{base}credits/", "credit-row", "$1,234.56"),
    ):
        # When the biller opens the tab on a phone
        page.goto(path)
        rows = page.get_by_test_id(row_id)
        expect(rows.first).to_be_visible()

        # Then each row is a card, the page does not scroll sideways, and the figures show
        assert rows.first.evaluate("el => getComputedStyle(el).display") == "block", tab
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], tab
        assert page.evaluate(SCROLLS_SIDEWAYS) == [], tab
        assert page.evaluate(OFF_SCREEN, PHONE["width"]) == [], tab
        box = page.locator("main td", has_text=figure).first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], tab
        assert page.evaluate(SMALL_BOXES) == [], tab
        assert_accessible(page, f"billing {tab} tab on a phone")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"billing-{tab}-375.png"), full_page=True)

    # The Invoices cards can still be ticked: a click on a card's box ticks it
    page.goto(f"{base}invoices/")
    tick = page.get_by_test_id("invoice-row").first.get_by_role("checkbox")
    tick.click()
    expect(tick).to_be_checked()
    assert [e for e in console_errors if "favicon.ico" not in e] == []
