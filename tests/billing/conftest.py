"""Fixtures the billing admin tests share (test_admin.py and test_admin_registry.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from billing.models import Package
from billing.services import LineInput, invoice_create, package_sell, payment_record_manual
from tests.factories import ClientFactory, ServiceFactory, UserFactory, make_item


@pytest.fixture
def root(db):
    return UserFactory(email="root@platform.test", is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(root) -> HttpClient:
    client = HttpClient()
    client.force_login(root)
    return client


@pytest.fixture
def books(tenant):
    """An issued invoice with a line, a part payment, a package sale and an uninvoiced item."""
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima")
    invoice = invoice_create(
        practice=practice,
        client=ana,
        actor=tenant.biller,
        item_ids=[make_item(practice, ana, "90", days_ago=0, description="Session").pk],
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
    return {
        "ana": ana,
        "invoice": invoice,
        "payment": payment,
        "purchase": purchase,
        "item": make_item(practice, ana, "90", days_ago=0, description="Session"),
    }
