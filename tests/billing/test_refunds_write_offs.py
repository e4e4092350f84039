"""Issue 9, parts 13 and 14 through the services: Record refund on a hand payment and Write
off the rest of an invoice, in a biller's figures (invoice status and balance, the client's
balance and credit), with ledger_verify proving the books still agree."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing import services
from billing.models import Invoice, LedgerEntry, Payment, PaymentAllocation, Refund, RefundAllocation
from billing.services import (
    REFUND_CREDIT_USED,
    REFUND_NOTHING_LEFT,
    REFUND_PAYMENT_DELETED,
    REFUND_PLAN_CHANGED,
    REFUND_TOO_MUCH,
    WRITE_OFF_NOT_OPEN,
    invoice_write_off,
    refund_preview,
    refund_record,
)
from practice.models import AuditLog
from tests.billing.helpers import books, reload, status_and_balance
from tests.factories import ClientFactory, issued_invoice, pay

D = Decimal
K = LedgerEntry.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(practice):
    return ClientFactory(practice=practice, first_name="Ana", last_name="Aho")


def refund(payment: Payment, actor, amount: str, **kwargs) -> Refund:
    kwargs.setdefault("refunded_on", payment.practice.local_today())
    kwargs.setdefault("method", "cash")
    kwargs.setdefault("reason", "Session cancelled")
    return refund_record(payment=reload(payment), actor=actor, amount=D(amount), **kwargs)


@pytest.fixture
def two_paid(tenant, practice, ana):
    """INV A (100, issued 2 days ago) and INV B (40, yesterday), both paid by one cash
    payment of 150, the 10 over kept as credit."""
    invoices = []
    for days_ago, price in ((2, "100.00"), (1, "40.00")):
        with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
            invoices.append(issued_invoice(practice, ana, tenant.biller, price))
    payment = pay(practice, ana, tenant.biller, "150.00", to_credit=True).payment
    return invoices[0], invoices[1], payment


# --- part 13: refunds -----------------------------------------------------------------------


def test_a_refund_takes_the_unused_credit_first_then_the_newest_invoice(tenant, practice, ana, two_paid):
    older, newer, payment = two_paid
    assert books(ana) == (D("0"), D("10.00"))
    # The form says before saving what will happen
    plan = refund_preview(payment=reload(payment), amount=D("50.00"))
    assert plan.sentences(lambda a: f"{a:.2f}") == [
        f"{newer.number} will owe 40.00 again",
        "the client's credit goes down by 10.00",
    ]
    # When the biller refunds 50.00 in cash
    refund(payment, tenant.biller, "50.00", expected=plan.token())
    # Then the newer invoice owes its 40.00 again and is Open, the older stays Paid
    assert status_and_balance(newer) == ("Open", D("0.000"), D("40.000"))
    assert status_and_balance(older) == ("Paid", D("100.000"), D("0.000"))
    # and the client owes 40.00 with no credit left
    assert books(ana) == (D("40.000"), D("0.000"))
    payment = reload(payment)
    assert (payment.status, payment.refunded) == (Payment.Status.PARTIALLY_REFUNDED, D("50.000"))
    entry = LedgerEntry.objects.get(client=ana, kind=K.REFUND)
    assert (entry.balance_delta, entry.credit_delta) == (D("40.000"), D("-10.000"))
    assert RefundAllocation.objects.get().invoice_id == newer.pk
    assert AuditLog.objects.filter(action="payment.refunded").count() == 1
    assert services.ledger_verify(practice) == []


def test_refunding_the_whole_payment_reopens_every_invoice_and_marks_it_refunded(tenant, practice, ana, two_paid):
    older, newer, payment = two_paid
    refund(payment, tenant.biller, "100.00")
    refund(payment, tenant.biller, "50.00", method="bank_transfer")
    assert status_and_balance(older) == ("Open", D("0.000"), D("100.000"))
    assert status_and_balance(newer) == ("Open", D("0.000"), D("40.000"))
    assert books(ana) == (D("140.000"), D("0.000"))
    assert reload(payment).status == Payment.Status.REFUNDED
    # Nothing is left to refund
    with pytest.raises(ValidationError) as exc:
        refund(payment, tenant.biller, "0.01")
    assert exc.value.messages == [REFUND_NOTHING_LEFT]
    assert services.ledger_verify(practice) == []


def test_a_refund_cannot_be_more_than_what_is_left_of_the_payment(tenant, practice, ana, two_paid):
    _, _, payment = two_paid
    refund(payment, tenant.biller, "100.00")
    with pytest.raises(ValidationError) as exc:
        refund(payment, tenant.biller, "50.01")
    assert exc.value.message_dict["amount"] == [REFUND_TOO_MUCH.format(left="$50.00")]
    assert Refund.objects.count() == 1
    assert reload(payment).refunded == D("100.000")


def test_credit_already_used_comes_out_of_the_invoices_or_is_refused(tenant, practice, ana):
    # Given a 100 payment with no invoice open: all 100 became credit
    payment = pay(practice, ana, tenant.biller, "100.00", to_credit=True).payment
    # and 70 of that credit paid a new invoice
    used = issued_invoice(practice, ana, tenant.biller, "70.00", apply_credit=True)
    assert books(ana) == (D("0.000"), D("30.000"))
    # When the biller tries to refund 40 of the payment
    with pytest.raises(ValidationError) as exc:
        refund(payment, tenant.biller, "40.00")
    # Then it is refused: only the 30 of unused credit can be handed back
    assert exc.value.message_dict["amount"] == [REFUND_CREDIT_USED.format(left="$30.00")]
    # and 30 can
    refund(payment, tenant.biller, "30.00")
    assert books(ana) == (D("0.000"), D("0.000"))
    assert status_and_balance(used)[0] == "Paid"
    assert services.ledger_verify(practice) == []


def test_a_preview_that_changed_before_the_save_is_refused(tenant, practice, ana, two_paid):
    _, _, payment = two_paid
    plan = refund_preview(payment=reload(payment), amount=D("20.00"))
    # Meanwhile the client's 10 of credit is used on a new invoice
    issued_invoice(practice, ana, tenant.biller, "10.00", apply_credit=True)
    with pytest.raises(ValidationError) as exc:
        refund(payment, tenant.biller, "20.00", expected=plan.token())
    assert exc.value.messages == [REFUND_PLAN_CHANGED]
    assert Refund.objects.count() == 0


def test_a_deleted_or_card_payment_cannot_be_refunded_by_hand(tenant, practice, ana, two_paid):
    _, _, payment = two_paid
    services.payment_reverse(payment=reload(payment), actor=tenant.owner, reason="Bounced")
    with pytest.raises(ValidationError) as exc:
        refund(payment, tenant.biller, "10.00")
    assert exc.value.messages == [REFUND_PAYMENT_DELETED]


def test_a_payment_with_a_refund_can_no_longer_be_deleted(tenant, practice, ana, two_paid):
    _, _, payment = two_paid
    refund(payment, tenant.biller, "10.00")
    with pytest.raises(ValidationError) as exc:
        services.payment_reverse(payment=reload(payment), actor=tenant.owner, reason="Oops")
    assert exc.value.messages == [services.PAYMENT_HAS_REFUNDS]
    assert reload(payment).status == Payment.Status.PARTIALLY_REFUNDED
    assert services.ledger_verify(practice) == []


def test_a_refund_needs_a_reason_a_method_and_a_date_not_before_the_payment(tenant, practice, ana, two_paid):
    _, _, payment = two_paid
    with pytest.raises(ValidationError) as exc:
        refund(
            payment,
            tenant.biller,
            "10.00",
            reason=" ",
            method="card_online",
            refunded_on=payment.received_on - timedelta(days=1),
        )
    assert set(exc.value.message_dict) == {"reason", "method", "refunded_on"}
    assert Refund.objects.count() == 0


def test_the_void_refusal_names_record_refund_and_a_fully_refunded_invoice_can_be_voided(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "80.00")
    payment = services.invoice_mark_paid(invoice=invoice, actor=tenant.biller).payment
    with pytest.raises(ValidationError) as exc:
        services.invoice_void(invoice=reload(invoice), actor=tenant.biller, reason="Wrong client")
    assert "Record refund" in exc.value.messages[0]
    refund(payment, tenant.biller, "80.00")
    services.invoice_void(invoice=reload(invoice), actor=tenant.biller, reason="Wrong client")
    assert reload(invoice).status == Invoice.Status.VOID
    assert books(ana) == (D("0.000"), D("0.000"))
    assert services.ledger_verify(practice) == []


# --- part 13: the database's own guard -----------------------------------------------------


def test_postgres_refuses_a_payment_refunded_beyond_its_amount(tenant, practice, ana, two_paid):
    _, _, payment = two_paid
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refunded=D("150.01"))


def test_postgres_refuses_an_allocation_refunded_beyond_its_amount(tenant, practice, ana, two_paid):
    _, _, payment = two_paid
    allocation = PaymentAllocation.objects.filter(payment=payment).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentAllocation.objects.filter(pk=allocation.pk).update(refunded=allocation.amount + 1)


def test_postgres_refuses_a_refund_of_zero_and_a_credit_part_over_the_refund(tenant, practice, ana, two_paid):
    _, _, payment = two_paid
    made = refund(payment, tenant.biller, "10.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(pk=made.pk).update(amount=D("0"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(pk=made.pk).update(from_credit=D("10.01"))


def test_ledger_verify_finds_a_refund_that_did_not_reach_the_invoice(tenant, practice, ana, two_paid):
    _, newer, payment = two_paid
    refund(payment, tenant.biller, "30.00")
    # An invoice whose amount paid ignores the refund (as if its figures had been edited by hand)
    Invoice.objects.filter(pk=newer.pk).update(amount_paid=D("40.00"), balance=D("0"), status="paid")
    problems = services.ledger_verify(practice)
    assert any(f"Invoice {newer.number} amount paid 40.000 differs" in p for p in problems)


# --- part 14: write-offs --------------------------------------------------------------------


def test_writing_off_the_rest_closes_the_invoice_and_the_ledger_counts_it(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "120.00")
    pay(practice, ana, tenant.biller, "20.00", allocations={invoice.pk: D("20.00")})
    assert books(ana) == (D("100.000"), D("0"))
    # When the biller writes off the rest with a reason
    invoice_write_off(invoice=reload(invoice), actor=tenant.biller, reason="Client moved abroad")
    # Then the invoice reads Written off for 100.00, balance 0, and the client owes nothing
    invoice = Invoice.objects.select_related("practice").get(pk=invoice.pk)
    assert (invoice.display_status, invoice.written_off, invoice.balance) == ("Written off", D("100.000"), D("0"))
    assert books(ana) == (D("0.000"), D("0"))
    entry = LedgerEntry.objects.get(client=ana, kind=K.WRITE_OFF)
    assert (entry.balance_delta, entry.invoice_id, entry.memo) == (D("-100.000"), invoice.pk, "Client moved abroad")
    assert AuditLog.objects.filter(action="invoice.written_off").count() == 1
    # It takes no payments and cannot be edited
    assert not invoice.can_edit()
    with pytest.raises(ValidationError):
        services.invoice_mark_paid(invoice=invoice, actor=tenant.biller)
    with pytest.raises(ValidationError):
        pay(practice, ana, tenant.biller, "5.00", allocations={invoice.pk: D("5.00")})
    assert services.ledger_verify(practice) == []


def test_a_write_off_needs_a_reason_and_an_open_balance(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "50.00")
    with pytest.raises(ValidationError) as exc:
        invoice_write_off(invoice=invoice, actor=tenant.biller, reason="  ")
    assert exc.value.message_dict == {"reason": [services.REASON_REQUIRED]}
    services.invoice_mark_paid(invoice=reload(invoice), actor=tenant.biller)
    with pytest.raises(ValidationError) as exc:
        invoice_write_off(invoice=reload(invoice), actor=tenant.biller, reason="Bad debt")
    assert exc.value.messages == [WRITE_OFF_NOT_OPEN]
    assert not LedgerEntry.objects.filter(kind=K.WRITE_OFF).exists()


def test_voiding_a_written_off_invoice_reverses_the_write_off(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "60.00")
    invoice_write_off(invoice=invoice, actor=tenant.biller, reason="Bad debt")
    services.invoice_void(invoice=reload(invoice), actor=tenant.biller, reason="Billed by mistake")
    invoice = reload(invoice)
    assert (invoice.status, invoice.written_off, invoice.balance) == ("void", D("0"), D("0"))
    assert books(ana) == (D("0.000"), D("0"))
    kinds = list(LedgerEntry.objects.filter(client=ana).order_by("pk").values_list("kind", "balance_delta"))
    assert kinds[-2:] == [(K.WRITE_OFF, D("60.000")), (K.INVOICE_VOIDED, D("-60.000"))]
    assert services.ledger_verify(practice) == []


def test_a_refund_of_a_payment_on_a_written_off_invoice_reopens_it_for_that_amount(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = pay(practice, ana, tenant.biller, "30.00", allocations={invoice.pk: D("30.00")}).payment
    invoice_write_off(invoice=reload(invoice), actor=tenant.biller, reason="Bad debt")
    refund(payment, tenant.biller, "30.00")
    assert status_and_balance(invoice) == ("Open", D("0.000"), D("30.000"))
    assert reload(invoice).written_off == D("70.000")
    assert books(ana) == (D("30.000"), D("0"))
    assert services.ledger_verify(practice) == []


def test_postgres_refuses_a_written_off_amount_that_breaks_the_invoice_sum(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "50.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(written_off=D("10.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(written_off=D("-10.00"), balance=D("60.00"))


def test_ledger_verify_finds_a_written_off_amount_without_its_entry(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "50.00")
    Invoice.objects.filter(pk=invoice.pk).update(written_off=D("50.00"), balance=D("0"), status="paid")
    assert any("written off 50.000 differs" in p for p in services.ledger_verify(practice))


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_give_back_more_than_the_payment(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = services.invoice_mark_paid(invoice=invoice, actor=tenant.biller).payment
    barrier = threading.Barrier(5)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            barrier.wait()
            refund(payment, tenant.biller, "30.00")
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "ok", "ok", "refused", "refused"]
    assert reload(payment).refunded == D("90.000")
    assert status_and_balance(invoice) == ("Partially paid", D("10.000"), D("90.000"))
    assert services.ledger_verify(practice) == []


# --- the demo data --------------------------------------------------------------------------


def test_the_demo_books_verify_after_a_refund_and_a_write_off():
    from django.core.management import call_command

    from practice.demo import HARBOUR, load_demo_data
    from practice.models import Practice

    load_demo_data()
    harbour = Practice.objects.get(slug=HARBOUR["slug"])
    biller = harbour.memberships.filter(role__in=["owner", "biller"]).first().user
    payment = Payment.objects.filter(practice=harbour, status=Payment.Status.SUCCEEDED, allocated__gt=0).exclude(
        method__in=["card_online", "card_on_file"]
    )[0]
    refund(payment, biller, str(min(payment.amount, D("10.00"))))
    open_invoice = Invoice.objects.filter(practice=harbour, kind="invoice", status="open", balance__gt=0)[0]
    invoice_write_off(invoice=open_invoice, actor=biller, reason="Demo write-off")
    assert services.ledger_verify(harbour) == []
    call_command("ledger_verify", "--practice", harbour.slug)
