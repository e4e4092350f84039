"""The banner that says payments go to the fake Stripe."""

from __future__ import annotations

import pytest
from django.test import Client

from billing.payment_links import payment_link_path
from payments.context_processors import TEST_MODE_BANNER
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url


@pytest.fixture
def invoice(tenant):
    client = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    return issued_invoice(tenant.practice, client, tenant.owner, "120.00")


def _pages(tenant, invoice):
    staff = signed_in(tenant.owner)
    return [
        staff.get(url(tenant, "payments:online_payments")),
        staff.get(url(tenant, "billing:invoice", invoice_id=invoice.pk)),
        Client().get(payment_link_path(invoice)),  # the client's payment link, no sign-in
    ]


def test_pages_that_take_money_say_test_mode_with_the_fake(settings, tenant, other_tenant, invoice):
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    settings.STRIPE_SECRET_KEY = ""
    for page in _pages(tenant, invoice):
        assert page.status_code == 200
        assert TEST_MODE_BANNER in page.content.decode()


@pytest.mark.parametrize(("base", "key"), [("", ""), ("", "sk_live_x"), ("http://stripe.internal", "sk_test_real")])
def test_no_banner_with_real_stripe_or_none(settings, tenant, other_tenant, invoice, base, key):
    settings.STRIPE_API_BASE = base
    settings.STRIPE_SECRET_KEY = key
    for page in _pages(tenant, invoice):
        assert TEST_MODE_BANNER not in page.content.decode()
