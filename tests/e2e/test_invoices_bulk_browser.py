"""Browser test: marking three invoices paid at once from the Billing page's Invoices tab,
with a double click on the button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from billing.models import Invoice, Payment
from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bulk_mark_as_paid_with_a_double_click_pays_each_once(page, console_errors, tenant, other_tenant):
    # Given four open invoices, of which the biller will tick three
    client = ClientFactory(practice=tenant.practice, first_name="Lily", last_name="Whitaker")
    invoices = [issued_invoice(tenant.practice, client, tenant.biller, p) for p in ("100.00", "60.00", "40.00", "5.00")]
    chosen = invoices[:3]
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{tenant.practice.slug}/billing/invoices/?status=open")
    for invoice in chosen:
        page.get_by_role("checkbox", name=f"Tick {invoice.number}").check()
    page.get_by_label("Method").select_option(label="Bank transfer")
    assert_accessible(page, "invoices tab with three ticked")

    # When they double-click Mark as paid
    page.get_by_role("button", name="Mark as paid").dblclick()
    page.wait_for_url("**/billing/invoices/?status=open")

    # Then the three are paid once each, the fourth is not, and the page says what was done
    expect(page.get_by_role("status")).to_contain_text("Marked as paid: 3 invoice(s)")
    expect(page.get_by_test_id("invoice-row")).to_have_count(1)
    assert_accessible(page, "invoices tab after the bulk action")
    assert Payment.objects.filter(practice=tenant.practice).count() == 3
    assert [Invoice.objects.get(pk=i.pk).status for i in invoices] == ["paid", "paid", "paid", "open"]
    assert [e for e in console_errors if "favicon.ico" not in e] == []
