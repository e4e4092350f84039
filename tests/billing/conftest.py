"""Fixtures the billing tests share: the biller's browser, and the books the admin tests open."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import Package
from billing.services import LineInput, invoice_create, package_sell, payment_record_manual
from tests.factories import ClientFactory, ServiceFactory, make_item
from tests.helpers import signed_in


@pytest.fixture
def biller(tenant):
    """Bella, the practice's biller, signed in."""
    return signed_in(tenant.biller)


@pytest.fixture
def books(tenant):
    """For the admin tests: an issued invoice with a line, a part payment, a package sale and an uninvoiced item."""
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
