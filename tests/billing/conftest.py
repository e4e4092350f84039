"""Fixtures the billing admin tests share (test_admin.py and test_admin_registry.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from billing.models import BillingItem, Package
from billing.money import line_amounts
from billing.services import LineInput, invoice_create, package_sell, payment_record_manual
from tests.factories import ClientFactory, ServiceFactory, UserFactory


@pytest.fixture
def root(db):
    return UserFactory(email="root@platform.test", is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(root) -> HttpClient:
    client = HttpClient()
    client.force_login(root)
    return client


def _item(practice, client, invoice=None) -> BillingItem:
    figures = line_amounts(units=1, unit_price=Decimal("90"), tax_percent=0, currency=practice.currency)
    return BillingItem.objects.create(
        practice=practice,
        client=client,
        kind=BillingItem.Kind.MANUAL,
        date=practice.local_today(),
        description="Session",
        unit_price=Decimal("90"),
        net=figures.net,
        tax=figures.tax,
        amount=figures.gross,
        currency=practice.currency,
        invoice=invoice,
    )


@pytest.fixture
def books(tenant):
    """An issued invoice with a line, a part payment, a package sale and an uninvoiced item."""
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima")
    invoice = invoice_create(
        practice=practice,
        client=ana,
        actor=tenant.biller,
        item_ids=[_item(practice, ana).pk],
        lines=[LineInput(description="Report writing", unit_price=Decimal("60"))],
        issue=True,
    )
    payment = payment_record_manual(
        practice=practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("50"),
        received_on=practice.local_today(),
        method="cash",
        reference="R-77",
    ).payment
    package = Package.objects.create(
        practice=practice, name="10 sessions", service=ServiceFactory(practice=practice), sessions=10, price=100
    )
    purchase = package_sell(practice=practice, client=ana, package=package, actor=tenant.biller)
    return {"ana": ana, "invoice": invoice, "payment": payment, "purchase": purchase, "item": _item(practice, ana)}
