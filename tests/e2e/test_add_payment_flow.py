"""A biller in a real browser: Add payment from the Billing page finds the client as they
type (htmx), and a part payment opened from the newer of two invoices pays that invoice,
not the older one (issue 9, parts 4 and 5), with a clean console under the strict CSP."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from billing.models import Invoice
from billing.services import ledger_verify
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_payment_finds_the_client_and_pays_the_invoice_it_was_opened_from(page: Page, tenant, console_errors):
    # Given Ana with an older invoice of 100.00 and a newer one of 80.00
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")
    ClientFactory(practice=tenant.practice, first_name="Ben", last_name="Jones")
    older = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    newer = issued_invoice(tenant.practice, ana, tenant.owner, "80.00")

    # When the biller presses Add payment on the Billing page and types part of her name
    sign_in(page, tenant.biller.email)
    expect(page.get_by_test_id("practice-name")).to_be_visible()
    page.goto(f"/p/{tenant.practice.slug}/billing/")
    page.get_by_role("link", name="Add payment").click()
    page.get_by_label("Client").press_sequentially("smi", delay=50)

    # Then Ana (only) is offered, and choosing her opens her Add payment form
    expect(page.get_by_test_id("client-result")).to_have_count(1)
    assert_accessible(page, "payment client search with results")
    page.get_by_role("link", name="Ana Smith").click()
    expect(page.get_by_role("heading", name=re.compile("Add payment"))).to_contain_text("Ana Smith")
    assert_accessible(page, "add payment form")

    # When the biller opens Add payment from the newer invoice and types a part payment
    page.goto(f"/p/{tenant.practice.slug}/billing/payments/new/?invoice={newer.pk}")
    page.get_by_label("Amount").fill("")
    page.get_by_label("Amount").press_sequentially("30", delay=50)
    expect(page.get_by_label(f"Allocate to {newer.number}")).to_have_value("30.00")
    expect(page.get_by_label(f"Allocate to {older.number}")).to_have_value("")
    page.get_by_label("Method").select_option(label="Cash")
    page.get_by_role("button", name="Add payment").click()

    # Then the newer invoice is partly paid and the older one untouched
    expect(page.get_by_test_id("invoice-status")).to_have_text("Partially paid")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$50.00")
    assert_accessible(page, "invoice after a part payment")
    assert Invoice.objects.get(pk=older.pk).balance == Decimal("100.00")
    assert ledger_verify(tenant.practice) == []
    assert console_errors == []
