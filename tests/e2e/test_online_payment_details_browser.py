"""Online payments' Stripe details (ids, status, fee, Dashboard link) on the Billing page's
Payments tab, the client's Billing tab and the payment page: on a desktop, and on a 375 px
phone where each table row is still one card, nothing scrolls sideways and the long Stripe
ids wrap inside their card."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import OFF_SCREEN, PHONE, SCROLLS_SIDEWAYS, assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice, online_payment, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_online_payments_show_stripe_details_on_desktop_and_phone(page: Page, tenant, console_errors):
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Anastasia", last_name="Konstantinopoulou-Vanderberg")
    invoice = issued_invoice(practice, ana, tenant.owner, "96000.00")
    payment, details = online_payment(
        practice, ana, "96000.00", fee="2784.30", allocations={invoice.pk: invoice.balance}
    )
    pay(practice, ana, tenant.owner, "50.00", to_credit=True)
    sign_in(page, tenant.biller.email)
    base = f"/p/{practice.slug}"

    pages = (
        ("payments", f"{base}/billing/payments/", "payment-row"),
        ("client-billing", f"{base}/clients/{ana.pk}/billing/", "client-payment-row"),
    )
    for label, path, row_id in pages:
        # On a desktop the online payment's row shows its Stripe details, the cash one a dash
        page.goto(path)
        online = page.get_by_test_id(row_id).filter(has=page.get_by_test_id("online-payment"))
        expect(online).to_have_count(1)
        expect(online.get_by_test_id("online-dashboard-link")).to_have_text(details.payment_intent_id)
        expect(online.get_by_test_id("online-charge")).to_have_text(details.charge_id)
        expect(online.get_by_test_id("online-status")).to_have_text("Stripe: Succeeded")
        expect(online.get_by_test_id("online-fee")).to_have_text("$2,784.30")
        href = online.get_by_test_id("online-dashboard-link").get_attribute("href")
        assert href and href.endswith(f"/{details.stripe_account_id}/test/payments/{details.payment_intent_id}")
        assert_accessible(page, f"{label} with an online payment")

        # On a phone each row is a card and the ids wrap inside it
        page.set_viewport_size(PHONE)
        page.goto(path)
        expect(online).to_have_count(1)
        assert online.evaluate("el => getComputedStyle(el).display") == "block", label
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], label
        assert page.evaluate(SCROLLS_SIDEWAYS) == [], label
        assert page.evaluate(OFF_SCREEN, PHONE["width"]) == [], label
        link = online.get_by_test_id("online-dashboard-link").bounding_box()
        assert link is not None and link["x"] >= 0 and link["x"] + link["width"] <= PHONE["width"], label
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"online-payment-{label}-375.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})

    # The payment's page has the Stripe panel, fee and net
    page.goto(f"{base}/billing/payments/{payment.pk}/")
    panel = page.get_by_test_id("stripe-payment-panel")
    expect(panel.get_by_test_id("stripe-payment-intent")).to_have_text(details.payment_intent_id)
    expect(panel.get_by_test_id("stripe-fee")).to_have_text("$2,784.30")
    expect(panel.get_by_test_id("stripe-net")).to_have_text("$93,215.70")
    assert_accessible(page, "payment page with its Stripe panel")
    assert [e for e in console_errors if "favicon.ico" not in e] == []
