"""Times on staff pages read in the practice's timezone, the same day its local_today() calls today."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from billing.services import invoice_void, invoice_write_off
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

# 01:30 on 2 December in UTC is still the evening of 1 December in New York.
LATE_EVENING_IN_NEW_YORK = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)


def test_a_write_off_and_a_void_show_the_practice_local_day(tenant):
    # Given a New York practice whose biller writes off one invoice and voids another late on 1 December
    assert tenant.practice.timezone == "America/New_York"
    client = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    with time_machine.travel(LATE_EVENING_IN_NEW_YORK, tick=False):
        written_off = issued_invoice(tenant.practice, client, tenant.biller, "80.00")
        voided = issued_invoice(tenant.practice, client, tenant.biller, "60.00")
        invoice_write_off(invoice=written_off, actor=tenant.biller, reason="Small balance")
        invoice_void(invoice=voided, actor=tenant.biller, reason="Entered twice")
        assert tenant.practice.local_today().day == 1

    # When the biller opens both invoices
    biller = signed_in(tenant.biller)
    written_off_page = biller.get(written_off.get_absolute_url()).content.decode()
    voided_page = biller.get(voided.get_absolute_url()).content.decode()

    # Then both say 1 Dec, the practice's day, not the server's 2 Dec
    assert "1 Dec 2026: Small balance" in written_off_page
    assert "1 Dec 2026: Entered twice" in voided_page
    assert "2 Dec 2026" not in written_off_page + voided_page


def test_the_timezone_does_not_outlive_the_request(tenant):
    # A worker thread serves the next request too: after a practice page, times are UTC again.
    signed_in(tenant.biller).get(f"/p/{tenant.practice.slug}/billing/")
    assert timezone.get_current_timezone_name() == "UTC"
