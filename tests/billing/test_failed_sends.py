"""The Billing page's "invoice emails failed to send": invoices whose last email failed,
how many and the newest twenty, never another practice's."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from billing.models import Invoice
from billing.selectors.sending import FailedSend, invoice_sends_failed
from practice.models import OutgoingEmail
from tests.factories import ClientFactory, issued_invoice

pytestmark = pytest.mark.django_db

_n = count()


def email(invoice: Invoice, status: str, minutes_ago: int) -> OutgoingEmail:
    n = next(_n)
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return OutgoingEmail.objects.create(
        practice=invoice.practice,
        key=f"test-{n}",
        topic="invoice",
        about_type=ContentType.objects.get_for_model(Invoice),
        about_id=invoice.pk,
        from_email="billing@practice.test",
        to="ana@mail.test",
        subject="Invoice",
        text="",
        html="",
        message_id=f"<{n}@practice.test>",
        status=status,
        created_at=at,
        sent_at=at if status == OutgoingEmail.Status.SENT else None,
    )


def test_an_invoice_counts_while_its_last_email_failed(tenant, other_tenant):
    ana = ClientFactory(practice=tenant.practice)
    failed, resent, sent_before, older = (issued_invoice(tenant.practice, ana, tenant.biller) for _ in range(4))
    email(failed, "failed", 5)
    email(resent, "failed", 10)
    email(resent, "sent", 5)  # sent again since: no longer failed
    email(sent_before, "sent", 10)
    email(sent_before, "failed", 5)  # the failure came last: still failed
    email(older, "failed", 30)
    email(older, "failed", 20)  # two failures of one invoice count it once
    theirs = issued_invoice(other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.biller)
    email(theirs, "failed", 5)

    assert invoice_sends_failed(tenant.practice) == (
        3,
        [FailedSend(i.pk, i.number) for i in sorted((failed, sent_before, older), key=lambda i: -i.pk)],
    )
    assert invoice_sends_failed(tenant.practice, limit=2)[0] == 3
    assert len(invoice_sends_failed(tenant.practice, limit=2)[1]) == 2
    assert invoice_sends_failed(other_tenant.practice)[0] == 1


def test_no_failed_email_is_none(tenant):
    assert invoice_sends_failed(tenant.practice) == (0, [])
