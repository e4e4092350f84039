"""The owner edits Settings > Invoice reminders: a typo in a placeholder is refused with
the reason and nothing saved; corrected, the rules save. A biller then sends a reminder
from an invoice and sees it listed there."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from billing.models import InvoiceReminder, ReminderRule
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_edits_a_reminder_sees_the_error_and_saves(page: Page, tenant, console_errors):
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{tenant.practice.slug}/settings/invoice-reminders/")
    expect(page.get_by_test_id("reminders-default")).to_be_visible()
    assert_accessible(page, "invoice reminders, suggested rules")

    rules = page.get_by_test_id("reminder-rule")
    after = rules.nth(2)
    after.get_by_label("Days", exact=True).fill("10")
    after.get_by_label("Message").fill("Hello {client}, {amount_due} is overdue.")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("reminders-invalid")).to_contain_text("Nothing was saved")
    refused = page.get_by_test_id("reminder-rule").nth(2)
    expect(refused.locator("p.error")).to_contain_text("Unknown placeholder {client}. Use one of: {client_name}")
    expect(refused.get_by_role("link", name="Message: Unknown placeholder {client}")).to_be_visible()
    assert not ReminderRule.objects.filter(practice=tenant.practice).exists()
    assert_accessible(page, "invoice reminders, a refused placeholder")

    page.get_by_test_id("reminder-rule").nth(2).get_by_label("Message").fill(
        "Hello {client_name}, {amount_due} is overdue."
    )
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Invoice reminders saved.")).to_be_visible()
    expect(page.get_by_test_id("reminders-default")).to_have_count(0)
    expect(page.get_by_test_id("reminder-rule").nth(2).get_by_label("Days", exact=True)).to_have_value("10")
    assert_accessible(page, "invoice reminders, saved")
    assert [(r.kind, r.days) for r in ReminderRule.objects.filter(practice=tenant.practice)] == [
        ("before_due", 3),
        ("on_due", 0),
        ("after_due", 10),
        ("repeat", 7),
    ]
    # The refused form answers 400 on purpose; Chromium logs a 4xx document as an error.
    assert [e for e in console_errors if "status of 400" not in e] == []


def test_biller_sends_a_reminder_from_the_invoice(page: Page, tenant, console_errors):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", email="ana@mail.test")
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{tenant.practice.slug}/billing/invoices/{invoice.pk}/")

    page.get_by_role("button", name="Send reminder").click()

    expect(page.get_by_text("Reminder sent to ana@mail.test.")).to_be_visible()
    expect(page.get_by_test_id("invoice-reminder")).to_have_count(1)
    assert_accessible(page, "invoice page with a reminder sent")
    assert InvoiceReminder.objects.filter(invoice=invoice).count() == 1
    assert console_errors == []
