"""Issue 11: invoicing in a number of statements that does not grow with what is invoiced.
Creating and issuing one invoice takes at most 12 queries however many items it carries,
and Invoice all uninvoiced writes a batch of clients with the same statements as one
client. The counts leave out transaction control (BEGIN, COMMIT and the test's savepoints),
as `make bench` does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import ClientAccount, Invoice, LedgerEntry
from billing.services import (
    LineInput,
    credit_invoice_create,
    invoice_all_uninvoiced,
    invoice_create,
    ledger_verify,
)
from billing.services import bulk as bulk_services
from billing.services.invoices import InvoiceBatch
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


def clients_with_items(tenant, n: int) -> list:
    practice = tenant.practice
    clients = [ClientFactory(practice=practice) for _ in range(n)]
    for client in clients:
        make_items(practice, client, "150.00", "150.00", "150.00", days_ago=1)
    return clients


def invoice_all(tenant) -> list[Invoice]:
    today = tenant.practice.local_today()
    return invoice_all_uninvoiced(
        practice=tenant.practice, actor=tenant.biller, date_from=today - timedelta(days=10), date_to=today
    )


def queries_to_invoice_all(tenant, n_clients: int) -> int:
    clients = clients_with_items(tenant, n_clients)
    with CaptureQueriesContext(connection) as captured:
        created = invoice_all(tenant)
    assert [i.client_id for i in created] == [c.pk for c in clients]
    return statements(captured)


def test_invoice_all_takes_the_same_queries_for_12_clients_as_for_3(tenant):
    # Both runs fit in one batch, whose statements do not depend on how many clients it holds
    assert bulk_services.BATCH_SIZE >= 12
    at_3 = queries_to_invoice_all(tenant, 3)
    at_12 = queries_to_invoice_all(tenant, 12)
    assert at_12 == at_3
    assert at_12 <= 15


def test_invoice_all_numbers_clients_in_order_across_batches(tenant, monkeypatch):
    # Given 7 clients with items, invoiced in batches of 3
    monkeypatch.setattr(bulk_services, "BATCH_SIZE", 3)
    clients = clients_with_items(tenant, 7)
    # When Invoice all runs
    created = invoice_all(tenant)
    # Then each client has one invoice of 450.00, numbered in client order without a gap
    assert [(i.client_id, i.number, i.total) for i in created] == [
        (c.pk, f"INV-{n:06d}", D("450.000")) for n, c in enumerate(clients, start=1)
    ]
    assert [ClientAccount.objects.get(client=c).balance for c in clients] == [D("450.00")] * 7
    assert ledger_verify(tenant.practice) == []


def test_a_client_whose_items_were_taken_in_a_batch_is_skipped_and_the_others_invoiced(tenant, monkeypatch):
    # Given Ana, Ben and Cleo with uninvoiced items, in one batch
    practice = tenant.practice
    ana, ben, cleo = clients_with_items(tenant, 3)
    ben_ids = list(ben.billing_items.values_list("pk", flat=True))
    by_hand: list[Invoice] = []
    write = InvoiceBatch.write

    def another_biller_invoices_bens_items_first(batch: InvoiceBatch) -> Any:
        # Invoice all has read the items; right now another biller invoices Ben's
        if not by_hand:
            by_hand.append(
                invoice_create(practice=practice, client=ben, actor=tenant.owner, item_ids=ben_ids, issue=True)
            )
        return write(batch)

    monkeypatch.setattr(InvoiceBatch, "write", another_biller_invoices_bens_items_first)
    # When Invoice all runs
    created = invoice_all(tenant)
    # Then Ana and Cleo are invoiced, numbered after Ben's invoice by hand, and Ben is skipped
    assert by_hand[0].number == "INV-000001"
    assert [(i.client_id, i.number) for i in created] == [(ana.pk, "INV-000002"), (cleo.pk, "INV-000003")]
    assert list(Invoice.objects.filter(client=ben).values_list("pk", flat=True)) == [by_hand[0].pk]
    assert LedgerEntry.objects.filter(client=ben).count() == 1
    assert ledger_verify(practice) == []


def test_invoice_all_applies_each_clients_own_credit_in_one_batch(tenant):
    # Given Ana with 100.00 credit, Ben with 500.00 and Cleo with none, each with 450.00 uninvoiced
    practice = tenant.practice
    ana, ben, cleo = clients_with_items(tenant, 3)
    for client, credit in ((ana, "100.00"), (ben, "500.00")):
        credit_invoice_create(
            practice=practice,
            client=client,
            actor=tenant.biller,
            reason="Goodwill",
            lines=[LineInput(description="Goodwill", unit_price=D(credit))],
        )
    # When Invoice all runs
    created = invoice_all(tenant)
    # Then each invoice took what credit its client had, and Ben's is paid by it
    assert [(i.client_id, i.credit_applied, i.balance, i.status) for i in created] == [
        (ana.pk, D("100.000"), D("350.000"), "open"),
        (ben.pk, D("450.000"), D("0.000"), "paid"),
        (cleo.pk, D("0"), D("450.000"), "open"),
    ]
    accounts = {a.client_id: (a.balance, a.credit_balance) for a in ClientAccount.objects.all()}
    assert accounts[ana.pk] == (D("350.00"), D("0"))
    assert accounts[ben.pk] == (D("0"), D("50.00"))
    assert accounts[cleo.pk] == (D("450.00"), D("0"))
    assert ledger_verify(practice) == []
