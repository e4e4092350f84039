"""The staff invoice page: what payments shows there (Pay now, Take payment, a payment held
for review) is decided by one read of the practice's account and the invoice's card
payments, whatever the account's state."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from payments.models import StripeAccount
from payments.take_payment_views import CANNOT_CHARGE, NOT_SET_UP
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

from .helpers import connected_account

pytestmark = pytest.mark.django_db

PAYMENTS_TABLES = re.compile(r"\bpayments_[a-z]+\b")


@pytest.fixture
def invoice(tenant):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00")


def test_without_stripe_the_page_reads_payments_once_and_says_take_payment_is_off(tenant, invoice):
    with CaptureQueriesContext(connection) as queries:
        html = signed_in(tenant.biller).get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert escape(NOT_SET_UP) in html
    assert 'data-testid="held-payment"' not in html
    reads = [q["sql"] for q in queries.captured_queries if PAYMENTS_TABLES.search(q["sql"])]
    assert len(reads) == 1, reads


@pytest.mark.parametrize(
    ("requirements", "status"),
    [({"currently_due": []}, "Pending verification"), ({"past_due": ["external_account"]}, "Action required")],
)
def test_an_account_waiting_on_stripe_names_its_status(app_on_fake, tenant, invoice, requirements, status):
    StripeAccount.objects.create(
        practice=tenant.practice,
        stripe_account_id=connected_account(app_on_fake),
        details_submitted=True,
        requirements=requirements,
    )
    html = signed_in(tenant.biller).get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert escape(CANNOT_CHARGE.format(status=status)) in html
