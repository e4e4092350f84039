"""Issue 11: invoicing in a number of statements that does not grow with what is invoiced.
Creating and issuing one invoice takes at most 12 queries however many items it carries.
The counts leave out transaction control (BEGIN, COMMIT and the test's savepoints),
as `make bench` does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice
from billing.services import LineInput, invoice_create
from practice.models import AuditLog
from tests.factories import ClientFactory, make_item, make_items

pytestmark = pytest.mark.django_db
D = Decimal
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def statements(captured: CaptureQueriesContext) -> int:
    return sum(1 for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL))


def queries_to_issue_an_invoice_of(tenant, n_items: int) -> int:
    practice = tenant.practice
    client = ClientFactory(practice=practice)
    ids = [make_item(practice, client, "150.00", days_ago=1).pk for _ in range(n_items)]
    with CaptureQueriesContext(connection) as captured:
        invoice = invoice_create(practice=practice, client=client, actor=tenant.biller, item_ids=ids, issue=True)
    assert invoice.total == D("150.00") * n_items and invoice.status == Invoice.Status.OPEN
    return statements(captured)


def test_creating_and_issuing_an_invoice_takes_at_most_12_queries_at_5_items_and_at_50(tenant):
    # Given an invoice already issued (the counter row exists, as on every day but the first)
    queries_to_issue_an_invoice_of(tenant, 1)
    # When an invoice of 5 items, then one of 50, is created and issued
    at_5 = queries_to_issue_an_invoice_of(tenant, 5)
    at_50 = queries_to_issue_an_invoice_of(tenant, 50)
    # Then both take the same few queries
    assert at_5 == at_50
    assert at_50 <= 12


def test_creating_and_issuing_at_once_writes_the_audit_rows_of_the_two_steps(tenant):
    practice = tenant.practice
    ana = ClientFactory(practice=practice)
    ids = [i.pk for i in make_items(practice, ana, "100.00", "50.00")]

    invoice = invoice_create(
        practice=practice,
        client=ana,
        actor=tenant.biller,
        item_ids=ids,
        lines=[LineInput(description="Report", unit_price=D("20.00"))],
        issue=True,
    )

    rows = AuditLog.objects.filter(object_id=str(invoice.pk)).order_by("id")
    assert [(r.action, r.object_repr, r.changes) for r in rows] == [
        ("invoice.created", f"Draft {invoice.pk}", {"items": 2, "lines": 1}),
        ("invoice.issued", invoice.number, {"number": invoice.number, "total": "170.000"}),
    ]
