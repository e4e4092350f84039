"""A biller refunds part of an online payment through Stripe from the payment page, on a
laptop and on a phone: the form says what the refund will do, the refund is made once at
the fake Stripe, and the invoice it paid is open again for that amount."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from billing.models import Refund
from tests.payments.conftest import _fake_stripe_server, app_on_fake, fake_stripe, webhook_receiver  # noqa: F401
from tests.payments.online import paid_online

from .helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 375])
def test_a_biller_refunds_part_of_an_online_payment(
    page: Page,
    app_on_fake,  # noqa: F811
    tenant,
    live_server,
    settings,
    console_errors,
    width,
):
    settings.SITE_URL = live_server.url
    # Given an invoice of 230.00 paid online with a card
    paid = paid_online(app_on_fake, tenant, "150.00", "80.00")
    number = paid.invoice.number
    page.set_viewport_size({"width": width, "height": 900})

    # When the biller opens the payment and asks to refund 80.00 of it through Stripe
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{tenant.practice.slug}/billing/payments/{paid.payment.pk}/")
    panel = page.get_by_test_id("stripe-refund-panel")
    expect(panel.get_by_role("heading", name="Refund through Stripe")).to_be_visible()
    expect(panel.get_by_test_id("stripe-refund-left")).to_have_text("$230.00")
    expect(panel.get_by_label("Amount")).to_have_value("230")
    assert_accessible(page, f"online payment with Refund through Stripe at {width}px")
    panel.get_by_label("Amount").fill("80.00")
    panel.get_by_label("Reason").fill("Session cancelled")
    panel.get_by_role("button", name="Preview refund").click()

    # Then the form says in words what will happen before anything is refunded
    expect(page.get_by_test_id("stripe-refund-plan")).to_contain_text(f"{number} will owe $80.00 again")
    assert_accessible(page, f"refund through Stripe, preview at {width}px")
    assert not Refund.objects.exists()

    # When the biller confirms
    page.get_by_role("button", name="Refund through Stripe").click()

    # Then the refund is made and recorded, and the payment shows it
    expect(page.get_by_text("Refund of $80.00 made through Stripe and recorded.")).to_be_visible()
    expect(page.get_by_test_id("payment-status")).to_have_text("Partially refunded")
    expect(page.get_by_test_id("payment-refunded")).to_have_text("$80.00")
    expect(page.get_by_test_id("stripe-refund-left")).to_have_text("$150.00")
    assert_accessible(page, f"online payment after a refund at {width}px")
    made = app_on_fake.client().v1.refunds.list({"payment_intent": paid.payment.external_id}, paid.options).data
    assert [r.amount for r in made] == [8000]

    # And the invoice it paid is open again for 80.00
    page.get_by_test_id("payment-refund").get_by_role("link", name=number).click()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Partially paid")
    expect(page.get_by_test_id("invoice-balance")).to_have_text("$80.00")
    assert console_errors == []
