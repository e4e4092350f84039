"""A payment allocated oldest first, racing another payment for the same invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import services
from billing.models import Invoice
from billing.services import payments as payment_services
from tests.factories import ClientFactory, issued_invoice


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


@pytest.mark.django_db
def test_oldest_first_skips_an_invoice_paid_between_the_lookup_and_the_lock(tenant, ana, monkeypatch):
    from billing.models import Payment
    from tests.factories import pay

    # Given two open invoices, $100 (older) and $50
    older = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    newer = issued_invoice(tenant.practice, ana, tenant.owner, "50.00")
    # and a biller's payment that looks up the open invoices just before another biller's
    # cash payment for the older one commits
    stale = services.open_invoices_oldest_first(ana)
    pay(tenant.practice, ana, tenant.admin, "100.00", allocations={older.pk: Decimal("100.00")})
    monkeypatch.setattr(payment_services, "open_invoices_oldest_first", lambda client: stale)
    # When the biller records $50, oldest first
    result = pay(tenant.practice, ana, tenant.biller, "50.00")
    # Then it pays the invoice still open, and both are paid once
    assert {a.invoice_id: a.amount for a in result.allocations} == {newer.pk: Decimal("50.00")}
    assert [Invoice.objects.get(pk=i.pk).status for i in (older, newer)] == ["paid", "paid"]
    assert Payment.objects.filter(client=ana).count() == 2
