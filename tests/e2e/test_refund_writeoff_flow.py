"""A biller in a real browser (issue 9, parts 13 to 15): records a cash payment, records a
refund on it and sees the invoice reopen, writes off another invoice, and reads the account
history with its running balance; then ``ledger_verify`` finds the books in agreement."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing import services
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_biller_refunds_a_payment_writes_off_an_invoice_and_reads_the_history(page: Page, tenant, console_errors):
    # Given Ana with two open invoices: 100.00 (older) and 60.00
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        sessions = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    report = issued_invoice(tenant.practice, ana, tenant.owner, "60.00")
    page.on("dialog", lambda dialog: dialog.accept())

    # When the biller records a cash payment of the first invoice's 100.00
    sign_in(page, tenant.biller.email)
    expect(page.get_by_test_id("practice-name")).to_be_visible()
    page.goto(f"/p/{tenant.practice.slug}/billing/invoices/{sessions.pk}/")
    page.get_by_role("link", name="Add payment").click()
    expect(page.get_by_label("Amount")).to_have_value("100")
    page.get_by_label("Method").select_option(label="Cash")
    page.get_by_role("button", name="Add payment").click()
    expect(page.get_by_text("Payment of $100.00 recorded.")).to_be_visible()
    assert_accessible(page, "invoice after payment")
    expect(page.get_by_test_id("invoice-status")).to_have_text("Paid")

    # ... opens the payment and records a refund of 40.00 handed back in cash
    page.get_by_test_id("invoice-payment").get_by_role("link").click()
    page.get_by_role("link", name="Record refund").click()
    expect(page.get_by_test_id("refund-left")).to_have_text("$100.00")
    assert_accessible(page, "refund form")
    page.get_by_label("Amount").fill("40.00")
    page.get_by_label("Reason").fill("Session cancelled")
    page.get_by_role("button", name="Preview refund").click()
    # Then the form says in words what will happen before anything is saved
    expect(page.get_by_test_id("refund-plan")).to_contain_text(f"{sessions.number} will owe $40.00 again")
    assert_accessible(page, "refund preview")
    page.get_by_role("button", name="Record refund").click()
    expect(page.get_by_text("Refund of $40.00 recorded.")).to_be_visible()
    expect(page.get_by_test_id("payment-status")).to_have_text("Partially refunded")
    expect(page.get_by_test_id("payment-refunded")).to_have_text("$40.00")
    assert_accessible(page, "payment after refund")

    # And the invoice it paid is open again for 40.00
    page.get_by_test_id("payment-refund").get_by_role("link", name=sessions.number).click()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Partially paid")
    expect(page.get_by_test_id("invoice-amount-paid")).to_have_text("$60.00")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$40.00")

    # When the biller writes off the second invoice
    page.goto(f"/p/{tenant.practice.slug}/billing/invoices/{report.pk}/")
    page.locator("#id_write_off-reason").fill("Uncollectable: client moved abroad")
    page.get_by_role("button", name="Write off").click()
    expect(page.get_by_text(f"Invoice {report.number} written off: $60.00.")).to_be_visible()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Written off")
    expect(page.get_by_test_id("invoice-written-off")).to_have_text("$60.00")
    assert_accessible(page, "written-off invoice")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$0.00")

    # Then the account history lists every movement with the running balance
    page.goto(f"/p/{tenant.practice.slug}/clients/{ana.pk}/billing/")
    expect(page.get_by_role("heading", name="Account history")).to_be_visible()
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(5)
    expect(rows.nth(2)).to_contain_text("Payment")
    expect(rows.nth(3)).to_contain_text("Refund")
    expect(rows.nth(4)).to_contain_text("Write-off")
    expect(page.get_by_test_id("history-balance")).to_have_text(["$100.00", "$160.00", "$60.00", "$100.00", "$40.00"])
    expect(page.get_by_test_id("client-balance")).to_have_text("$40.00")
    assert_accessible(page, "client billing tab with account history")
    expect(page.locator("#account-history-heading")).to_be_visible()
    assert re.search(r"Written off", page.content())

    # And the books agree
    assert services.ledger_verify(tenant.practice) == []
    call_command("ledger_verify")
    assert console_errors == []
    assert Decimal("40.00") == ana.account.balance
