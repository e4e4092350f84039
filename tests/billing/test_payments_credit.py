"""Credit invoices, the credit balance, payments recorded by hand and their reversal, through
the services, asserting what a biller sees on the invoice and in the client header."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import services
from billing.models import Invoice, LedgerEntry, Payment, PaymentAllocation
from practice.models import AuditLog
from tests.billing.helpers import books, figures, ledger_kinds, reload
from tests.factories import ClientFactory, draft_invoice, give_credit, issued_invoice, make_items, pay

D = Decimal
K = LedgerEntry.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(practice):
    return ClientFactory(practice=practice, first_name="Ana", last_name="Aho")


def unchanged(client, before: tuple[Decimal, Decimal], payments: int = 0) -> None:
    assert books(client) == before
    assert Payment.objects.filter(client=client).count() == payments


@pytest.fixture
def three_open(tenant, practice, ana):
    """Open invoices (not yet due) of 100 issued 3 days ago, 50 two days ago and 80 yesterday."""
    invoices = []
    for days_ago, price in ((3, "100.00"), (2, "50.00"), (1, "80.00")):
        with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
            invoices.append(issued_invoice(practice, ana, tenant.biller, price))
    return invoices


# --- credit invoices and the credit balance -------------------------------------------------


def test_a_credit_invoice_has_a_negative_total_and_adds_to_the_credit_balance(tenant, practice, ana):
    # When the biller issues a credit invoice of 2 x 25 with a reason
    credit = services.credit_invoice_create(
        practice=practice,
        client=ana,
        actor=tenant.biller,
        reason="Late start",
        lines=[services.LineInput(description="Session shortened", unit_price=D("25.00"), units=D("2"))],
    )
    # Then it is Issued for -50, numbered like an invoice, and Ana has 50 of credit
    credit = reload(credit)
    assert figures(credit) == ("Issued", D("-50.00"), D("0"), D("0"), D("0"))
    assert credit.kind == Invoice.Kind.CREDIT and credit.number == "INV-000001" and credit.reason == "Late start"
    assert ledger_kinds(ana) == [(K.CREDIT_ISSUED, D("0"), D("50.00"))]
    assert books(ana) == (D("0"), D("50.00"))


def test_a_credit_invoice_needs_a_reason_and_lines(tenant, practice, ana):
    line = services.LineInput(description="x", unit_price=D("10"))
    with pytest.raises(ValidationError) as exc:
        services.credit_invoice_create(practice=practice, client=ana, actor=tenant.biller, reason="", lines=[line])
    assert exc.value.message_dict == {"reason": [services.REASON_REQUIRED]}
    with pytest.raises(ValidationError) as exc:
        services.credit_invoice_create(practice=practice, client=ana, actor=tenant.biller, reason="Why", lines=[])
    assert exc.value.messages == [services.NOTHING_TO_INVOICE]
    assert not Invoice.objects.filter(client=ana).exists()


def test_a_refund_after_payment_is_a_credit_invoice_and_the_paid_invoice_stays_paid(tenant, practice, ana):
    # Given a paid invoice of 100
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    services.invoice_mark_paid(invoice=reload(invoice), actor=tenant.biller)
    # When a 20 discount is given after the fact
    give_credit(practice, ana, tenant.biller, "20.00", reason="Discount after payment")
    # Then the invoice is untouched and Paid, and Ana has 20 of credit
    assert figures(invoice) == ("Paid", D("100.00"), D("0"), D("100.00"), D("0"))
    assert books(ana) == (D("0"), D("20.00"))
    # and the paid invoice cannot be edited to do the same
    line = invoice.lines.get()
    with pytest.raises(ValidationError) as exc:
        services.invoice_update(
            invoice=invoice,
            actor=tenant.biller,
            line_changes={line.pk: services.ItemAdjustment(units=D("1"), unit_price=D("80"), tax_percent=D("0"))},
        )
    assert exc.value.messages == [services.NOT_EDITABLE]


def test_credit_is_applied_when_the_invoice_is_created(tenant, practice, ana):
    # Given 30 of credit
    give_credit(practice, ana, tenant.biller, "30.00")
    # When an invoice of 100 is created and issued with Apply credit balance
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00", apply_credit=True)
    # Then 30 is applied, 70 is owed, and the credit is used up
    assert figures(invoice) == ("Partially paid", D("100.00"), D("30.00"), D("0"), D("70.00"))
    assert ledger_kinds(ana)[-2:] == [
        (K.INVOICE_ISSUED, D("100.00"), D("0")),
        (K.CREDIT_APPLIED, D("-30.00"), D("-30.00")),
    ]
    assert books(ana) == (D("70.00"), D("0"))


def test_more_credit_than_the_invoice_pays_it_and_the_rest_stays(tenant, practice, ana):
    give_credit(practice, ana, tenant.biller, "150.00")

    invoice = issued_invoice(practice, ana, tenant.biller, "100.00", apply_credit=True)

    assert figures(invoice) == ("Paid", D("100.00"), D("100.00"), D("0"), D("0"))
    assert books(ana) == (D("0"), D("50.00"))


def test_apply_credit_on_a_draft_waits_for_the_issue(tenant, practice, ana):
    give_credit(practice, ana, tenant.biller, "30.00")
    items = make_items(practice, ana, "100.00")
    draft = services.invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[i.pk for i in items], apply_credit=True
    )
    assert figures(draft) == ("Draft", D("100.00"), D("0"), D("0"), D("100.00"))
    assert books(ana) == (D("0"), D("30.00"))

    services.invoice_issue(invoice=draft, actor=tenant.biller)

    assert figures(draft) == ("Partially paid", D("100.00"), D("30.00"), D("0"), D("70.00"))
    assert books(ana) == (D("70.00"), D("0"))


def test_credit_is_applied_later_to_an_open_invoice(tenant, practice, ana):
    # Given an open invoice of 100 and, later, 40 of credit
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    give_credit(practice, ana, tenant.biller, "40.00")
    # When the biller applies 15 of it
    services.credit_apply(invoice=invoice, actor=tenant.biller, amount=D("15.00"))
    assert figures(invoice) == ("Partially paid", D("100.00"), D("15.00"), D("0"), D("85.00"))
    assert books(ana) == (D("85.00"), D("25.00"))
    # and then all that is left
    services.credit_apply(invoice=invoice, actor=tenant.biller)
    # Then 40 is applied in all and the credit is used up
    assert figures(invoice) == ("Partially paid", D("100.00"), D("40.00"), D("0"), D("60.00"))
    assert books(ana) == (D("60.00"), D("0"))
    assert AuditLog.objects.filter(action="credit.applied", object_id=str(invoice.pk)).count() == 2
    # and with no credit left, applying is refused
    with pytest.raises(ValidationError) as exc:
        services.credit_apply(invoice=invoice, actor=tenant.biller)
    assert exc.value.messages == [services.NO_CREDIT]


@pytest.mark.parametrize("amount", ["50.01", "0", "-5", "10.005"])
def test_applying_too_much_a_non_positive_or_a_too_fine_credit_is_refused(tenant, practice, ana, amount):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    give_credit(practice, ana, tenant.biller, "50.00")

    with pytest.raises(ValidationError) as exc:
        services.credit_apply(invoice=invoice, actor=tenant.biller, amount=D(amount))

    assert "amount" in exc.value.message_dict
    assert figures(invoice) == ("Open", D("100.00"), D("0"), D("0"), D("100.00"))
    assert books(ana) == (D("100.00"), D("50.00"))


def test_credit_cannot_go_on_a_draft(tenant, practice, ana):
    give_credit(practice, ana, tenant.biller, "50.00")
    draft = draft_invoice(practice, ana, tenant.biller)
    with pytest.raises(ValidationError):
        services.credit_apply(invoice=draft, actor=tenant.biller)
    assert books(ana) == (D("0"), D("50.00"))


def test_a_credit_invoice_whose_credit_was_used_cannot_be_voided(tenant, practice, ana):
    credit = give_credit(practice, ana, tenant.biller, "30.00")
    issued_invoice(practice, ana, tenant.biller, "100.00", apply_credit=True)

    with pytest.raises(ValidationError) as exc:
        services.invoice_void(invoice=credit, actor=tenant.biller, reason="Mistake")

    assert exc.value.messages == [services.VOID_CREDIT_USED]
    assert books(ana) == (D("70.00"), D("0"))


def test_voiding_an_unused_credit_invoice_takes_the_credit_back(tenant, practice, ana):
    credit = give_credit(practice, ana, tenant.biller, "30.00")

    services.invoice_void(invoice=credit, actor=tenant.biller, reason="Mistake")

    assert figures(credit)[0] == "Void"
    assert books(ana) == (D("0"), D("0"))
    assert services.ledger_verify(practice) == []


# --- payments --------------------------------------------------------------------------------


def test_a_payment_is_allocated_oldest_first(tenant, practice, ana, three_open):
    oldest, middle, newest = three_open
    # When Ana pays 120 in cash
    result = pay(practice, ana, tenant.biller, "120.00", reference="Receipt 7")
    # Then the oldest is paid, the next partly paid, the newest untouched
    assert figures(oldest) == ("Paid", D("100.00"), D("0"), D("100.00"), D("0"))
    assert figures(middle)[1:] == (D("50.00"), D("0"), D("20.00"), D("30.00"))
    assert figures(newest)[1:] == (D("80.00"), D("0"), D("0"), D("80.00"))
    assert {(a.invoice_id, a.amount) for a in result.allocations} == {(oldest.pk, D("100.00")), (middle.pk, D("20.00"))}
    payment = reload(result.payment)
    assert (payment.amount, payment.allocated, payment.credited, payment.method) == (
        D("120.00"),
        D("120.00"),
        D("0"),
        "cash",
    )
    assert ledger_kinds(ana)[-1] == (K.PAYMENT, D("-120.00"), D("0"))
    assert books(ana) == (D("110.00"), D("0"))


def test_a_partial_payment_shows_partially_paid(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")

    pay(practice, ana, tenant.biller, "40.00")

    assert figures(invoice) == ("Partially paid", D("100.00"), D("0"), D("40.00"), D("60.00"))
    assert books(ana) == (D("60.00"), D("0"))


def test_allocations_can_be_chosen(tenant, practice, ana, three_open):
    oldest, middle, newest = three_open

    pay(practice, ana, tenant.biller, "120.00", allocations={newest.pk: D("80.00"), oldest.pk: D("40.00")})

    assert figures(newest) == ("Paid", D("80.00"), D("0"), D("80.00"), D("0"))
    assert figures(oldest)[3:] == (D("40.00"), D("60.00"))
    assert figures(middle)[3:] == (D("0"), D("50.00"))
    assert books(ana) == (D("110.00"), D("0"))


def test_an_overpayment_asks_first_and_then_becomes_credit(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    # When Ana pays 130 without the biller choosing to keep the rest as credit
    with pytest.raises(ValidationError) as exc:
        pay(practice, ana, tenant.biller, "130.00")
    # Then they are asked, and nothing is recorded
    assert exc.value.code == "overpayment"
    assert exc.value.messages == [services.OVERPAYMENT_QUESTION]
    unchanged(ana, (D("100.00"), D("0")))
    assert figures(invoice)[0] == "Open"
    # When they answer yes
    result = pay(practice, ana, tenant.biller, "130.00", to_credit=True)
    # Then the invoice is paid and 30 is credit
    assert figures(invoice) == ("Paid", D("100.00"), D("0"), D("100.00"), D("0"))
    assert (result.payment.allocated, result.payment.credited) == (D("100.00"), D("30.00"))
    assert ledger_kinds(ana)[-1] == (K.PAYMENT, D("-100.00"), D("30.00"))
    assert books(ana) == (D("0"), D("30.00"))


def test_a_payment_with_nothing_open_is_all_credit(tenant, practice, ana):
    result = pay(practice, ana, tenant.biller, "75.00", to_credit=True)
    assert (result.payment.allocated, result.payment.credited, result.allocations) == (D("0"), D("75.00"), [])
    assert books(ana) == (D("0"), D("75.00"))


def test_mark_as_paid_records_a_payment_of_the_balance(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    pay(practice, ana, tenant.biller, "30.00")

    result = services.invoice_mark_paid(
        invoice=reload(invoice), actor=tenant.biller, method=Payment.Method.BANK_TRANSFER, reference="TR-1"
    )

    assert figures(invoice) == ("Paid", D("100.00"), D("0"), D("100.00"), D("0"))
    assert (result.payment.amount, result.payment.method, result.payment.reference) == (
        D("70.00"),
        "bank_transfer",
        "TR-1",
    )
    assert reload(invoice).paid_at is not None
    assert books(ana) == (D("0"), D("0"))
    with pytest.raises(ValidationError):
        services.invoice_mark_paid(invoice=reload(invoice), actor=tenant.biller)


@pytest.mark.parametrize(
    ("amount", "field"),
    [("0", "amount"), ("-10.00", "amount"), ("10.001", "amount")],
)
def test_a_non_positive_or_too_precise_amount_is_a_field_error_and_nothing_is_saved(
    tenant, practice, ana, amount, field
):
    issued_invoice(practice, ana, tenant.biller, "100.00")
    with pytest.raises(ValidationError) as exc:
        pay(practice, ana, tenant.biller, amount, to_credit=True)
    assert field in exc.value.message_dict
    unchanged(ana, (D("100.00"), D("0")))


@pytest.mark.parametrize("method", ["", "bitcoin", "card_online"])
def test_a_hand_payment_needs_a_hand_method(tenant, practice, ana, method):
    with pytest.raises(ValidationError) as exc:
        services.payment_record_manual(
            practice=practice,
            client=ana,
            actor=tenant.biller,
            amount=D("10"),
            received_on=practice.local_today(),
            method=method,
            overpayment_to_credit=True,
        )
    assert "method" in exc.value.message_dict
    unchanged(ana, (D("0"), D("0")))


def test_an_allocation_above_the_invoice_balance_is_refused(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    with pytest.raises(ValidationError) as exc:
        pay(practice, ana, tenant.biller, "120.00", allocations={invoice.pk: D("120.00")})
    assert exc.value.message_dict == {"allocations": [services.ALLOCATION_TOO_MUCH]}
    unchanged(ana, (D("100.00"), D("0")))


def test_allocations_above_the_payment_are_refused(tenant, practice, ana, three_open):
    oldest, middle, _ = three_open
    with pytest.raises(ValidationError) as exc:
        pay(practice, ana, tenant.biller, "50.00", allocations={oldest.pk: D("40.00"), middle.pk: D("40.00")})
    assert exc.value.message_dict == {"allocations": [services.ALLOCATIONS_EXCEED]}
    unchanged(ana, (D("230.00"), D("0")))


@pytest.mark.parametrize("share", ["-10.00", "10.005"])
def test_a_negative_or_too_precise_allocation_is_refused(tenant, practice, ana, share):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    with pytest.raises(ValidationError) as exc:
        pay(practice, ana, tenant.biller, "20.00", allocations={invoice.pk: D(share)}, to_credit=True)
    assert "allocations" in exc.value.message_dict
    unchanged(ana, (D("100.00"), D("0")))
    assert figures(invoice) == ("Open", D("100.00"), D("0"), D("0"), D("100.00"))


def test_a_payment_cannot_go_to_another_clients_or_a_draft_or_void_invoice(tenant, practice, ana):
    ben = ClientFactory(practice=practice)
    bens = issued_invoice(practice, ben, tenant.biller, "100.00")
    draft = draft_invoice(practice, ana, tenant.biller)
    void = issued_invoice(practice, ana, tenant.biller, "60.00")
    services.invoice_void(invoice=void, actor=tenant.biller, reason="Duplicate")
    for target in (bens, draft, void):
        with pytest.raises(ValidationError):
            pay(practice, ana, tenant.biller, "10.00", allocations={target.pk: D("10.00")})
    unchanged(ana, (D("0"), D("0")))
    unchanged(ben, (D("100.00"), D("0")))


def test_a_client_of_another_practice_cannot_be_paid_for(tenant, other_tenant, practice):
    twin = ClientFactory(practice=other_tenant.practice)
    with pytest.raises(ValidationError):
        pay(practice, twin, tenant.biller, "10.00", to_credit=True)
    assert not Payment.objects.exists()


# --- reversing a hand payment ---------------------------------------------------------------


def test_a_payment_is_reversed_with_a_reason(tenant, practice, ana, three_open):
    oldest, middle, _ = three_open
    result = pay(practice, ana, tenant.biller, "130.00")
    assert figures(oldest)[0] == "Paid"
    # When the owner deletes it with a reason
    services.payment_reverse(payment=result.payment, actor=tenant.owner, reason="Cheque bounced")
    # Then the payment shows reversed, the invoices owe again, and the ledger says why
    payment = reload(result.payment)
    assert (payment.status, payment.reversal_reason) == (Payment.Status.REVERSED, "Cheque bounced")
    assert payment.reversed_at is not None
    assert figures(oldest) == ("Open", D("100.00"), D("0"), D("0"), D("100.00"))
    assert figures(middle) == ("Open", D("50.00"), D("0"), D("0"), D("50.00"))
    assert reload(oldest).paid_at is None
    assert ledger_kinds(ana)[-1] == (K.PAYMENT_REVERSED, D("130.00"), D("0"))
    assert books(ana) == (D("230.00"), D("0"))
    # and the allocation rows stay, as history
    assert PaymentAllocation.objects.filter(payment=payment).count() == 2
    assert AuditLog.objects.filter(action="payment.reversed", object_id=str(payment.pk)).exists()
    assert services.ledger_verify(practice) == []
    # Reversing it again is refused
    with pytest.raises(ValidationError) as exc:
        services.payment_reverse(payment=payment, actor=tenant.owner, reason="Again")
    assert exc.value.messages == [services.PAYMENT_ALREADY_REVERSED]
    assert books(ana) == (D("230.00"), D("0"))


def test_a_reversal_needs_a_reason(tenant, practice, ana):
    issued_invoice(practice, ana, tenant.biller, "100.00")
    result = pay(practice, ana, tenant.biller, "100.00")
    with pytest.raises(ValidationError) as exc:
        services.payment_reverse(payment=result.payment, actor=tenant.owner, reason=" ")
    assert exc.value.message_dict == {"reason": [services.REASON_REQUIRED]}
    assert reload(result.payment).status == Payment.Status.SUCCEEDED
    assert books(ana) == (D("0"), D("0"))


def test_reversing_an_overpayment_takes_back_its_unused_credit(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    result = pay(practice, ana, tenant.biller, "130.00", to_credit=True)

    services.payment_reverse(payment=result.payment, actor=tenant.owner, reason="Entered twice")

    assert ledger_kinds(ana)[-1] == (K.PAYMENT_REVERSED, D("100.00"), D("-30.00"))
    assert figures(invoice)[0] == "Open"
    assert books(ana) == (D("100.00"), D("0"))


def test_a_payment_whose_credit_was_used_cannot_be_reversed(tenant, practice, ana):
    # Given a 130 payment on a 100 invoice, its 30 credit applied to a new invoice
    issued_invoice(practice, ana, tenant.biller, "100.00")
    result = pay(practice, ana, tenant.biller, "130.00", to_credit=True)
    second = issued_invoice(practice, ana, tenant.biller, "50.00", apply_credit=True)
    assert figures(second) == ("Partially paid", D("50.00"), D("30.00"), D("0"), D("20.00"))
    # When the owner tries to delete the payment
    with pytest.raises(ValidationError) as exc:
        services.payment_reverse(payment=result.payment, actor=tenant.owner, reason="Bounced")
    # Then it is refused and nothing moved
    assert exc.value.messages == [services.PAYMENT_CREDIT_USED]
    assert reload(result.payment).status == Payment.Status.SUCCEEDED
    assert books(ana) == (D("20.00"), D("0"))
