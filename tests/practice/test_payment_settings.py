"""Settings > Invoice numbering and terms, "First invoice number": it takes effect until the first
invoice is issued, then it is locked (the counter row numbers every invoice after that)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services as billing
from billing.models import BillingItem
from billing.services import INVOICE_START_LOCKED, invoice_numbering_update
from practice.models import Practice
from tests.factories import ClientFactory
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def issue_one(tenant) -> str:
    practice = Practice.objects.get(pk=tenant.practice.pk)
    client = ClientFactory(practice=practice)
    item = BillingItem.objects.create(
        practice=practice,
        client=client,
        kind=BillingItem.Kind.MANUAL,
        date=practice.local_today() - timedelta(days=1),
        description="Session",
        unit_price=Decimal("100"),
        net=Decimal("100"),
        tax=Decimal("0"),
        amount=Decimal("100"),
        currency=practice.currency,
    )
    invoice = billing.invoice_create(
        practice=practice, client=client, actor=tenant.owner, item_ids=[item.pk], issue=True
    )
    return invoice.number


def post_settings(tenant, start: str):
    return signed_in(tenant.owner).post(
        url(tenant.practice, "billing:invoice_numbering"),
        {"payment_terms_days": "14", "invoice_prefix": "INV-", "invoice_start_number": start},
    )


def test_before_any_invoice_the_first_invoice_number_takes_effect(tenant):
    # Given a practice that has not issued an invoice, the field is editable
    page = signed_in(tenant.owner).get(url(tenant.practice, "billing:invoice_numbering")).content.decode()
    assert INVOICE_START_LOCKED not in page
    # When the owner sets the first invoice number to 500
    response = post_settings(tenant, "500")
    assert response.status_code == 302
    # Then the first invoice issued is number 500
    assert issue_one(tenant) == "INV-000500"


def test_once_an_invoice_is_issued_the_first_invoice_number_is_locked(tenant):
    # Given a practice that has issued invoice 1
    assert issue_one(tenant) == "INV-000001"
    # When the owner opens Invoice numbering and terms, then the field is disabled and says why
    page = signed_in(tenant.owner).get(url(tenant.practice, "billing:invoice_numbering")).content.decode()
    assert INVOICE_START_LOCKED in page
    assert 'name="invoice_start_number"' in page and "disabled" in page
    # When the owner posts a new first number anyway, then it is not stored
    post_settings(tenant, "500")
    tenant.practice.refresh_from_db()
    assert tenant.practice.invoice_start_number == 1
    # and the next invoice continues the sequence
    assert issue_one(tenant) == "INV-000002"


def test_the_service_refuses_a_new_first_number_after_an_invoice(tenant):
    issue_one(tenant)
    data = {"payment_terms_days": 14, "invoice_prefix": "INV-", "invoice_start_number": 500}
    with pytest.raises(ValidationError) as exc:
        invoice_numbering_update(practice=tenant.practice, actor=tenant.owner, data=data)
    assert exc.value.message_dict == {"invoice_start_number": [INVOICE_START_LOCKED]}
    tenant.practice.refresh_from_db()
    assert tenant.practice.invoice_start_number == 1
    # The other settings on the page can still change
    invoice_numbering_update(
        practice=tenant.practice,
        actor=tenant.owner,
        data={**data, "invoice_start_number": 1, "invoice_prefix": "HS-"},
    )
    tenant.practice.refresh_from_db()
    assert tenant.practice.invoice_prefix == "HS-"
