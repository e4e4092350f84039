"""An invoice line knows whose session it bills (billing 0020): the database sets it from
the line's item, whatever the code writing the line passes, and keeps it when the session
is corrected. Reports read a clinician's share of an invoice from it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.models import Appointment
from billing import services
from billing.models import BillingItem, InvoiceLine
from tests.factories import ClientFactory, ServiceFactory, completed_session_items

pytestmark = pytest.mark.django_db


def test_a_line_is_its_sessions_clinicians_and_follows_a_correction(tenant):
    practice = tenant.practice
    client = ClientFactory(practice=practice)
    service = ServiceFactory(practice=practice, price=Decimal("90.00"))
    completed_session_items(practice, tenant.owner, tenant.clinician, client, service, 3)
    items = BillingItem.objects.filter(practice=practice, client=client, invoice__isnull=True)
    invoice = services.invoice_create(
        practice=practice,
        client=client,
        actor=tenant.biller,
        item_ids=list(items.values_list("pk", flat=True)),
        lines=[services.LineInput(description="Letter to the GP", unit_price=Decimal("30.00"))],
        issue=True,
    )
    lines = {line.billing_item_id is not None: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    assert lines[True].clinician_id == tenant.clinician.pk
    assert lines[False].clinician_id is None  # typed by hand: no one's session

    # Saved again by code that never read the column: the database still sets it.
    session_line = InvoiceLine.objects.defer("clinician").get(pk=lines[True].pk)
    session_line.clinician_id = None
    session_line.save()
    session_line.refresh_from_db()
    assert session_line.clinician_id == tenant.clinician.pk

    # A correction of the held session made by hand in the database: the line follows.
    Appointment.objects.filter(pk=BillingItem.objects.get(pk=session_line.billing_item_id).appointment_id).update(
        clinician=tenant.clinician2
    )
    session_line.refresh_from_db()
    assert session_line.clinician_id == tenant.clinician2.pk
