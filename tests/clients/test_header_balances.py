"""The client header shows Balance and Credit balance, as the ledger has them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.services import LineInput, credit_invoice_create, invoice_create
from tests.factories import ClientFactory
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_every_tab_of_the_client_shows_balance_and_credit(tenant, other_tenant):
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima")
    invoice_create(
        practice=practice,
        client=ana,
        actor=tenant.owner,
        lines=[LineInput(description="Assessment report", unit_price=Decimal("200.00"))],
        issue=True,
    )
    credit_invoice_create(
        practice=practice,
        client=ana,
        actor=tenant.owner,
        reason="Goodwill",
        lines=[LineInput(description="Goodwill", unit_price=Decimal("25.00"))],
    )
    browser = signed_in(tenant.biller)
    for name in ("clients:detail", "clients:appointments", "clients:billing", "clients:settings"):
        page = browser.get(reverse(name, kwargs={"practice_slug": practice.slug, "client_id": ana.pk})).content.decode()
        assert 'data-testid="header-balance">$200.00<' in page, name
        assert 'data-testid="header-credit">$25.00<' in page, name


def test_a_new_client_shows_zero(tenant, other_tenant):
    ana = ClientFactory(practice=tenant.practice)
    url = reverse("clients:detail", kwargs={"practice_slug": tenant.practice.slug, "client_id": ana.pk})
    page = signed_in(tenant.owner).get(url).content.decode()
    assert 'data-testid="header-balance">$0.00<' in page
