"""The status moves of an invoice and a payment, on the models: each legal move works and
each illegal one is refused with the message the biller reads, leaving the row as it was.

No database: the moves change the instance and the services save it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import models
from billing.models import Invoice, Payment

DRAFT, OPEN, PAID, VOID = Invoice.Status.DRAFT, Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.VOID


def invoice(status: str = OPEN, *, credit: bool = False, **figures: str) -> Invoice:
    """An invoice of 100.00 in ``status``; ``figures`` override its amounts."""
    amounts = {"total": "100.00", "balance": "100.00", "amount_paid": "0", "credit_applied": "0", "written_off": "0"}
    if credit:
        amounts.update(total="-30.00", balance="0")
    amounts.update(figures)
    kind = Invoice.Kind.CREDIT if credit else Invoice.Kind.INVOICE
    return Invoice(kind=kind, status=status, currency="USD", **{k: D(v) for k, v in amounts.items()})


def refused(move, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        move()
    assert exc.value.messages == [message]


# --- issue: draft -> open ---------------------------------------------------------------------


@pytest.mark.parametrize("credit", [False, True], ids=["invoice", "credit"])
def test_a_draft_is_issued_with_its_number_and_dates(credit):
    draft = invoice(DRAFT, credit=credit)
    assert draft.can_issue()
    draft.mark_issued(sequence=7, number="INV-000007", issue_date=date(2025, 3, 3), due_date=None)
    assert (draft.status, draft.number, draft.sequence, draft.issue_date) == (
        OPEN,
        "INV-000007",
        7,
        date(2025, 3, 3),
    )
    assert draft.issued_at is not None


@pytest.mark.parametrize("status", [OPEN, PAID, VOID])
def test_only_a_draft_is_issued(status):
    issued = invoice(status)
    issued.number = "INV-000001"
    assert not issued.can_issue()
    refused(
        lambda: issued.mark_issued(sequence=2, number="INV-000002", issue_date=date(2025, 3, 3), due_date=None),
        models.NOT_DRAFT,
    )
    assert (issued.status, issued.number) == (status, "INV-000001")


@pytest.mark.parametrize(("status", "deletable"), [(DRAFT, True), (OPEN, False), (PAID, False), (VOID, False)])
def test_only_a_draft_is_deleted(status, deletable):
    assert invoice(status).can_delete_draft() is deletable
    assert invoice(status).delete_draft_refusal() == (None if deletable else models.DRAFT_ONLY_DELETE)


# --- settle: open -> paid, and reopen: paid -> open --------------------------------------------


def test_an_open_invoice_that_owes_nothing_becomes_paid():
    settled = invoice(OPEN, balance="0", amount_paid="100.00")
    settled.mark_settled()
    assert settled.status == PAID
    assert settled.paid_at is not None


@pytest.mark.parametrize(
    "case",
    [
        {"status": OPEN, "balance": "40.00"},
        {"status": DRAFT, "balance": "0"},
        {"status": VOID, "balance": "0"},
        {"status": OPEN, "credit": True},
    ],
    ids=["still-owes", "draft", "void", "credit-invoice"],
)
def test_only_an_open_invoice_that_owes_nothing_becomes_paid(case):
    case = dict(case)
    status = case.pop("status")
    other = invoice(status, **case)
    assert not other.can_settle()
    refused(other.mark_settled, models.NOT_SETTLED)
    assert other.status == status


def test_a_paid_invoice_that_owes_again_reopens():
    reopened = invoice(PAID, balance="30.00", amount_paid="70.00")
    reopened.paid_at = timezone.now()
    reopened.mark_reopened()
    assert (reopened.status, reopened.paid_at) == (OPEN, None)


@pytest.mark.parametrize(("status", "balance"), [(PAID, "0"), (OPEN, "30.00"), (VOID, "0")])
def test_only_a_paid_invoice_that_owes_again_reopens(status, balance):
    other = invoice(status, balance=balance)
    assert not other.can_reopen()
    refused(other.mark_reopened, models.NOT_REOPENED)
    assert other.status == status


@pytest.mark.parametrize(
    ("status", "balance", "credit", "after"),
    [
        (OPEN, "0", False, PAID),
        (PAID, "20.00", False, OPEN),
        (OPEN, "20.00", False, OPEN),
        (PAID, "0", False, PAID),
        (DRAFT, "0", False, DRAFT),
        (VOID, "0", False, VOID),
        (OPEN, "0", True, OPEN),
    ],
    ids=["paid-in-full", "owes-again", "still-owes", "still-paid", "draft", "void", "credit-invoice"],
)
def test_settle_takes_the_status_the_balance_calls_for(status, balance, credit, after):
    moved = invoice(status, balance=balance, credit=credit)
    moved.settle()
    assert moved.status == after


# --- write-off: open -> paid ----------------------------------------------------------------


def test_writing_off_closes_what_an_open_invoice_still_owes():
    owing = invoice(OPEN, balance="60.00", amount_paid="40.00")
    assert owing.can_write_off()
    assert owing.mark_written_off("Client moved away") == D("60.00")
    assert (owing.status, owing.balance, owing.written_off, owing.write_off_reason) == (
        PAID,
        D("0"),
        D("60.00"),
        "Client moved away",
    )
    assert owing.written_off_at is not None and owing.paid_at is not None
    assert owing.status_code == "written_off"


@pytest.mark.parametrize(
    "case",
    [
        {"status": DRAFT},
        {"status": PAID, "balance": "0"},
        {"status": VOID, "balance": "0"},
        {"status": OPEN, "balance": "0"},
        {"status": OPEN, "credit": True},
    ],
    ids=["draft", "paid", "void", "owes-nothing", "credit-invoice"],
)
def test_only_an_open_invoice_with_a_balance_is_written_off(case):
    case = dict(case)
    status = case.pop("status")
    other = invoice(status, **case)
    assert not other.can_write_off()
    refused(lambda: other.mark_written_off("Why not"), models.WRITE_OFF_NOT_OPEN)
    assert (other.status, other.written_off) == (status, D("0"))


# --- void: open or paid -> void ---------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        {"status": OPEN},
        {"status": OPEN, "balance": "70.00", "credit_applied": "30.00"},
        {"status": PAID, "balance": "0", "written_off": "100.00"},
        {"status": OPEN, "credit": True},
    ],
    ids=["open", "credit-applied", "written-off", "credit-invoice"],
)
def test_an_open_or_paid_invoice_with_no_payment_is_voided(case):
    case = dict(case)
    voided = invoice(case.pop("status"), **case)
    assert voided.can_void()
    voided.mark_void("  Issued to the wrong client  ")
    assert (voided.status, voided.void_reason) == (VOID, "Issued to the wrong client")
    assert (voided.balance, voided.credit_applied, voided.written_off) == (D("0"), D("0"), D("0"))
    assert voided.voided_at is not None


@pytest.mark.parametrize(
    ("status", "figures", "message"),
    [
        (OPEN, {"balance": "60.00", "amount_paid": "40.00"}, models.VOID_PAID),
        (PAID, {"balance": "0", "amount_paid": "100.00"}, models.VOID_PAID),
        (DRAFT, {}, models.VOID_NOT_OPEN),
        (VOID, {"balance": "0"}, models.VOID_NOT_OPEN),
    ],
    ids=["partly-paid", "paid", "draft", "void"],
)
def test_a_paid_draft_or_void_invoice_is_not_voided(status, figures, message):
    other = invoice(status, **figures)
    assert not other.can_void()
    refused(lambda: other.mark_void("Mistake"), message)
    assert (other.status, other.void_reason) == (status, "")


@pytest.mark.parametrize(
    ("status", "balance", "credit", "takes"),
    [(OPEN, "10.00", False, True), (OPEN, "0", False, False), (DRAFT, "10.00", False, False), (OPEN, "0", True, False)],
    ids=["owes", "owes-nothing", "draft", "credit-invoice"],
)
def test_an_open_invoice_that_owes_takes_payments(status, balance, credit, takes):
    assert invoice(status, balance=balance, credit=credit).can_take_payment() is takes


# --- a payment: succeeded -> reversed, -> partially refunded -> refunded ----------------------


def payment(method: str = Payment.Method.CASH, **fields: object) -> Payment:
    return Payment(amount=D("100.00"), allocated=D("100.00"), currency="USD", method=method, **fields)


def test_a_hand_payment_is_deleted_by_reversing_it():
    deleted = payment()
    assert deleted.can_reverse()
    deleted.mark_reversed("  Entered twice ")
    assert (deleted.status, deleted.reversal_reason) == (Payment.Status.REVERSED, "Entered twice")
    assert deleted.reversed_at is not None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": Payment.Status.REVERSED}, models.PAYMENT_ALREADY_REVERSED),
        ({"status": Payment.Status.PARTIALLY_REFUNDED, "refunded": D("10.00")}, models.PAYMENT_HAS_REFUNDS),
        ({"method": Payment.Method.CARD_ONLINE}, models.CARD_NOT_DELETED),
    ],
    ids=["reversed", "refunded", "card"],
)
def test_a_reversed_refunded_or_card_payment_is_not_deleted(fields, message):
    other = payment(**fields)
    assert not other.can_reverse()
    refused(lambda: other.mark_reversed("Mistake"), message)
    assert other.reversal_reason == ""


def test_refunds_move_a_payment_to_partly_then_fully_refunded():
    refunded = payment()
    refunded.mark_refunded(D("30.00"))
    assert (refunded.status, refunded.refunded) == (Payment.Status.PARTIALLY_REFUNDED, D("30.00"))
    refunded.mark_refunded(D("70.00"))
    assert (refunded.status, refunded.refunded) == (Payment.Status.REFUNDED, D("100.00"))


def test_a_deleted_payment_is_not_refunded():
    deleted = payment(status=Payment.Status.REVERSED)
    refused(lambda: deleted.mark_refunded(D("10.00")), models.REFUND_PAYMENT_DELETED)
    assert deleted.refunded == D("0")
