"""A biller of a German practice in a real browser: Add payment spreads an amount typed
as "1.000,50" over the open invoices in the same notation, and the server records it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from billing.models import Payment
from practice.models import Practice
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_german_practice_allocates_and_records_an_amount_typed_the_german_way(page: Page, tenant, console_errors):
    Practice.objects.filter(pk=tenant.practice.pk).update(locale="de_DE")
    tenant.practice.refresh_from_db()
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Schmidt")
    older = issued_invoice(tenant.practice, ana, tenant.owner, "800.00")
    newer = issued_invoice(tenant.practice, ana, tenant.owner, "500.00")

    sign_in(page, tenant.biller.email)
    expect(page.get_by_test_id("practice-name")).to_be_visible()
    page.goto(f"/p/{tenant.practice.slug}/billing/payments/new/?client={ana.pk}")
    page.get_by_label("Amount").fill("1.000,50")

    expect(page.locator(f"input[name=alloc_{older.pk}]")).to_have_value("800,00")
    expect(page.locator(f"input[name=alloc_{newer.pk}]")).to_have_value("200,50")
    assert_accessible(page, "add payment form in German")
    page.get_by_label("Method").select_option(label="Cash")
    page.get_by_role("button", name="Add payment").click()

    expect(page).not_to_have_url(re.compile(r"/payments/new/"))
    payment = Payment.objects.get(client=ana)
    assert payment.amount == Decimal("1000.50")
    assert {a.invoice_id: a.amount for a in payment.allocations.all()} == {
        older.pk: Decimal("800.00"),
        newer.pk: Decimal("200.50"),
    }
    assert console_errors == []
