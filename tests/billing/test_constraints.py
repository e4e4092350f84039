"""The database, not Python, refuses a bad billing row.

Each test goes around the services and the ORM's save() with ``.update()`` or raw SQL
(hordak's habit) and expects PostgreSQL to refuse, naming the constraint. A positive
control next to some of them shows the refusal is about the rule, not the statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F

from billing import services
from billing.models import (
    BillingItem,
    ClientAccount,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Payment,
    PaymentAllocation,
)
from tests.factories import ClientFactory, draft_invoice, give_credit, issued_invoice, make_item, pay

D = Decimal

pytestmark = pytest.mark.django_db


@contextmanager
def database_refuses(constraint: str, error: type[Exception] = IntegrityError) -> Iterator[None]:
    """The statements inside fail in the database with ``error`` naming ``constraint``."""
    with pytest.raises(error) as info, transaction.atomic():
        yield
    assert constraint in str(info.value)


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@pytest.fixture
def books(tenant, practice):
    """Ana with an open invoice of 100 (30 paid), a draft, a credit invoice, and a payment."""
    ana = ClientFactory(practice=practice, first_name="Ana")
    open_invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    second = issued_invoice(practice, ana, tenant.biller, "40.00")
    draft = draft_invoice(practice, ana, tenant.biller, "20.00")
    credit = give_credit(practice, ana, tenant.biller, "15.00")
    payment = pay(practice, ana, tenant.biller, "30.00", allocations={open_invoice.pk: D("30.00")}).payment
    return {
        "ana": ana,
        "open": Invoice.objects.get(pk=open_invoice.pk),
        "second": Invoice.objects.get(pk=second.pk),
        "draft": Invoice.objects.get(pk=draft.pk),
        "credit": Invoice.objects.get(pk=credit.pk),
        "payment": payment,
    }


def test_the_fixture_books_are_consistent(books):
    assert services.ledger_verify(books["open"].practice) == []


# --- invoice numbers ------------------------------------------------------------------------------


def test_a_duplicate_number_in_a_practice_is_refused(books):
    with database_refuses("invoice_unique_number"):
        Invoice.objects.filter(pk=books["second"].pk).update(number=books["open"].number)


def test_a_duplicate_sequence_in_a_practice_is_refused_by_raw_sql(books):
    with database_refuses("invoice_unique_sequence"):
        sql("UPDATE billing_invoice SET sequence = %s WHERE id = %s", [books["open"].sequence, books["second"].pk])


def test_the_same_number_in_another_practice_is_fine(tenant, other_tenant, books):
    twin = ClientFactory(practice=other_tenant.practice)
    theirs = issued_invoice(other_tenant.practice, twin, other_tenant.biller)
    assert theirs.number == books["open"].number == "INV-000001"


def test_a_draft_with_a_number_is_refused(books):
    with database_refuses("invoice_number_iff_issued"):
        Invoice.objects.filter(pk=books["draft"].pk).update(number="INV-999999")


def test_an_open_invoice_without_a_number_is_refused(books):
    with database_refuses("invoice_number_iff_issued"):
        sql("UPDATE billing_invoice SET number = NULL WHERE id = %s", [books["second"].pk])


def test_a_draft_cannot_become_open_without_a_number(books):
    with database_refuses("invoice_number_iff_issued"):
        Invoice.objects.filter(pk=books["draft"].pk).update(status=Invoice.Status.OPEN)


# --- invoice amounts --------------------------------------------------------------------------------


def test_a_total_that_is_not_subtotal_plus_tax_is_refused(books):
    with database_refuses("invoice_total_sum"):
        # The balance moves with it, so only the sum is wrong
        Invoice.objects.filter(pk=books["draft"].pk).update(total=F("total") + 1, balance=F("balance") + 1)


def test_a_total_that_is_not_subtotal_plus_tax_is_refused_by_raw_sql(books):
    with database_refuses("invoice_total_sum"):
        sql("UPDATE billing_invoice SET tax = tax + 0.01 WHERE id = %s", [books["open"].pk])


def test_a_negative_balance_on_an_invoice_is_refused(books):
    # Paid 10 more than the total: the balance sum still holds, but it would be -10
    invoice = books["open"]
    with database_refuses("invoice_amounts_consistent"):
        Invoice.objects.filter(pk=invoice.pk).update(amount_paid=invoice.total + 10, balance=-10)


def test_a_balance_that_is_not_total_less_credit_and_payments_is_refused(books):
    with database_refuses("invoice_amounts_consistent"):
        Invoice.objects.filter(pk=books["open"].pk).update(balance=F("balance") + 1)


def test_negative_credit_applied_is_refused(books):
    invoice = books["second"]
    with database_refuses("invoice_amounts_consistent"):
        Invoice.objects.filter(pk=invoice.pk).update(credit_applied=-5, balance=invoice.total + 5)


def test_a_paid_invoice_with_a_balance_is_refused(books):
    with database_refuses("invoice_paid_means_zero_balance"):
        Invoice.objects.filter(pk=books["second"].pk).update(status=Invoice.Status.PAID)


def test_a_credit_invoice_with_a_positive_total_is_refused(books):
    with database_refuses("credit_invoice_amounts"):
        Invoice.objects.filter(pk=books["credit"].pk).update(subtotal=D("15.00"), total=D("15.00"))


def test_a_credit_invoice_taking_a_payment_is_refused(books):
    credit = books["credit"]
    with database_refuses("credit_invoice_amounts"):
        Invoice.objects.filter(pk=credit.pk).update(amount_paid=D("5"), balance=D("-5"))


# --- lines and items ---------------------------------------------------------------------------------


def line_values(invoice: Invoice, item: BillingItem | None, *, active: bool = True) -> dict:
    return {
        "invoice": invoice,
        "billing_item": item,
        "active": active,
        "description": "Copy",
        "units": D("1"),
        "unit_price": D("100"),
        "net": D("100"),
        "tax": D("0"),
        "amount": D("100"),
    }


def test_a_billing_item_on_two_live_invoices_is_refused(books):
    item = books["open"].lines.get().billing_item
    with database_refuses("line_item_on_one_live_invoice"):
        InvoiceLine.objects.create(**line_values(books["draft"], item))


def test_reactivating_a_voided_line_whose_item_was_invoiced_again_is_refused(tenant, books):
    # Given the second invoice voided and its item invoiced again
    second = books["second"]
    item = second.lines.get().billing_item
    services.invoice_void(invoice=second, actor=tenant.biller, reason="Redo")
    services.invoice_create(practice=second.practice, client=books["ana"], actor=tenant.biller, item_ids=[item.pk])
    # When the voided line is switched back on by raw SQL
    with database_refuses("line_item_on_one_live_invoice"):
        sql("UPDATE billing_invoiceline SET active = true WHERE invoice_id = %s", [second.pk])


def test_an_inactive_line_may_hold_an_item_that_is_on_a_live_invoice(books):
    item = books["open"].lines.get().billing_item
    InvoiceLine.objects.create(**line_values(books["draft"], item, active=False))
    assert InvoiceLine.objects.filter(billing_item=item).count() == 2


def test_a_line_whose_amount_is_not_net_plus_tax_is_refused(books):
    with database_refuses("line_amount_is_net_plus_tax"):
        InvoiceLine.objects.filter(invoice=books["open"]).update(amount=F("amount") + 1)


def test_a_line_with_no_units_is_refused(books):
    with database_refuses("line_units_positive"):
        InvoiceLine.objects.filter(invoice=books["open"]).update(units=0)


def test_a_negative_uninvoiced_item_is_refused(practice, books):
    item = make_item(practice, books["ana"], "10.00")
    with database_refuses("item_amounts_not_negative"):
        BillingItem.objects.filter(pk=item.pk).update(net=D("-10"), amount=D("-10"))


# --- accounts ----------------------------------------------------------------------------------------


def test_a_negative_credit_balance_is_refused(books):
    with database_refuses("account_credit_not_negative"):
        ClientAccount.objects.filter(client=books["ana"]).update(credit_balance=D("-0.01"))


def test_a_negative_account_balance_is_refused_by_raw_sql(books):
    with database_refuses("account_balance_not_negative"):
        sql("UPDATE billing_clientaccount SET balance = -1 WHERE client_id = %s", [books["ana"].pk])


# --- payments ------------------------------------------------------------------------------------------


def test_a_payment_whose_amount_is_not_allocated_plus_credited_is_refused(books):
    with database_refuses("payment_amount_is_allocated_plus_credited"):
        Payment.objects.filter(pk=books["payment"].pk).update(amount=F("amount") + 1)


def test_a_payment_with_negative_credited_is_refused(books):
    with database_refuses("payment_amount_is_allocated_plus_credited"):
        Payment.objects.filter(pk=books["payment"].pk).update(allocated=F("amount") + 5, credited=-5)


def test_a_zero_payment_is_refused(books):
    with database_refuses("payment_amount_positive"):
        Payment.objects.filter(pk=books["payment"].pk).update(amount=0, allocated=0, credited=0)


def test_a_zero_allocation_is_refused(books):
    with database_refuses("allocation_amount_positive"):
        PaymentAllocation.objects.filter(payment=books["payment"]).update(amount=0)


def test_a_negative_allocation_is_refused_by_raw_sql(books):
    with database_refuses("allocation_amount_positive"):
        sql(
            "INSERT INTO billing_paymentallocation (payment_id, invoice_id, amount) VALUES (%s, %s, -10)",
            [books["payment"].pk, books["second"].pk],
        )


# --- the ledger is append-only ---------------------------------------------------------------------------


def test_a_ledger_entry_cannot_be_updated_by_raw_sql(books):
    with database_refuses("append-only", DatabaseError):
        sql("UPDATE billing_ledgerentry SET balance_delta = 0 WHERE client_id = %s", [books["ana"].pk])


def test_a_ledger_entry_cannot_be_deleted_by_raw_sql(books):
    with database_refuses("append-only", DatabaseError):
        sql("DELETE FROM billing_ledgerentry WHERE client_id = %s", [books["ana"].pk])


def test_a_ledger_entry_cannot_be_updated_through_a_queryset(books):
    with database_refuses("append-only", DatabaseError):
        LedgerEntry.objects.filter(client=books["ana"]).update(memo="tidied")


def test_a_ledger_entry_cannot_be_deleted_through_a_queryset_or_the_instance(books):
    with database_refuses("append-only", DatabaseError):
        LedgerEntry.objects.filter(client=books["ana"]).delete()
    entry = LedgerEntry.objects.filter(client=books["ana"]).first()
    with database_refuses("append-only", DatabaseError):
        entry.delete()
    entry.memo = "edited"
    with database_refuses("append-only", DatabaseError):
        entry.save()


def test_the_ledger_still_takes_new_rows(books):
    before = LedgerEntry.objects.filter(client=books["ana"]).count()
    account = ClientAccount.objects.get(client=books["ana"])
    LedgerEntry.objects.create(
        practice_id=account.practice_id,
        client_id=account.client_id,
        kind=LedgerEntry.Kind.WRITE_OFF,
        currency="USD",
        actor_label="test",
    )
    assert LedgerEntry.objects.filter(client=books["ana"]).count() == before + 1
