"""Issue 14, part 7: a card payment's dispute, as the payments app reports it through
billing's seam (payment_dispute_update). Open and won move no money; lost takes the money
back once, as a refund keyed by the dispute, and the invoice it paid reopens."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing import services
from billing.models import DISPUTE_CLOSED, DISPUTE_NOT_CARD, LedgerEntry, Payment, Refund
from billing.services import DISPUTE_LOST_REASON, payment_dispute_update, payment_record_settled
from practice.models import AuditLog
from tests.billing.helpers import books, ledger_kinds, reload, status_and_balance
from tests.factories import ClientFactory, issued_invoice, pay
from tests.helpers import signed_in, url

D = Decimal
K = LedgerEntry.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(practice):
    return ClientFactory(practice=practice, first_name="Ana", last_name="Aho")


@pytest.fixture
def paid(practice, tenant, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = payment_record_settled(
        practice=practice,
        client=ana,
        amount=D("100.00"),
        currency=practice.currency,
        method=Payment.Method.CARD_ONLINE,
        external_id="pi_disputed",
    ).payment
    return invoice, payment


def test_an_open_dispute_marks_the_payment_and_moves_no_money(practice, ana, paid):
    invoice, payment = paid
    before = ledger_kinds(ana)

    payment_dispute_update(payment=payment, status="open", dispute_id="dp_1")

    assert reload(payment).dispute_status == Payment.DisputeStatus.OPEN
    assert reload(payment).is_disputed
    assert ledger_kinds(ana) == before
    assert status_and_balance(invoice) == ("Paid", D("100.000"), D("0.000"))
    audit = AuditLog.objects.filter(action="payment.dispute_open").get()
    assert audit.changes["dispute"] == "dp_1"


def test_a_won_dispute_leaves_the_books_as_they_were(practice, ana, paid):
    invoice, payment = paid
    before = ledger_kinds(ana)
    payment_dispute_update(payment=payment, status="open", dispute_id="dp_1")

    payment_dispute_update(payment=payment, status="won", dispute_id="dp_1")

    payment = reload(payment)
    assert payment.dispute_status == Payment.DisputeStatus.WON and not payment.is_disputed
    assert payment.status == Payment.Status.SUCCEEDED
    assert ledger_kinds(ana) == before
    assert not Refund.objects.exists()
    assert status_and_balance(invoice) == ("Paid", D("100.000"), D("0.000"))


def test_a_lost_dispute_takes_the_money_back_once_and_the_invoice_reopens(practice, ana, paid):
    invoice, payment = paid
    payment_dispute_update(payment=payment, status="open", dispute_id="dp_1")

    for _ in range(2):  # the same loss reported twice
        payment_dispute_update(payment=payment, status="lost", dispute_id="dp_1", amount_lost=D("100.00"))

    refund = Refund.objects.get()
    assert (refund.external_id, refund.reason, refund.amount) == ("dp_1", DISPUTE_LOST_REASON, D("100.000"))
    payment = reload(payment)
    assert (payment.dispute_status, payment.status) == ("lost", Payment.Status.REFUNDED)
    assert status_and_balance(invoice) == ("Open", D("0.000"), D("100.000"))
    assert books(ana) == (D("100.000"), D("0.000"))
    assert ledger_kinds(ana)[-1] == (K.REFUND, D("100.000"), D("0.000"))
    assert services.ledger_verify(practice) == []


def test_a_dispute_reported_already_lost_records_the_loss(practice, ana, paid):
    invoice, payment = paid

    payment_dispute_update(payment=payment, status="lost", dispute_id="dp_2", amount_lost=D("40.00"))

    assert reload(payment).dispute_status == "lost"
    assert status_and_balance(invoice) == ("Partially paid", D("60.000"), D("40.000"))


def test_a_decided_dispute_keeps_its_outcome(practice, ana, paid):
    _, payment = paid
    payment_dispute_update(payment=payment, status="lost", dispute_id="dp_1", amount_lost=D("100.00"))

    with pytest.raises(ValidationError) as refused:
        payment_dispute_update(payment=payment, status="won", dispute_id="dp_1")

    assert refused.value.messages == [DISPUTE_CLOSED.format(outcome="dispute lost")]
    assert reload(payment).dispute_status == "lost"
    assert Refund.objects.count() == 1


def test_a_hand_payment_cannot_be_disputed(practice, tenant, ana):
    issued_invoice(practice, ana, tenant.biller, "100.00")
    cash = pay(practice, ana, tenant.biller, "100.00").payment

    with pytest.raises(ValidationError) as refused:
        payment_dispute_update(payment=cash, status="open", dispute_id="dp_cash")

    assert refused.value.messages == [DISPUTE_NOT_CARD]
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=cash.pk).update(dispute_status="open")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=cash.pk).update(dispute_status="maybe")


def test_the_payment_page_and_the_payment_lists_show_the_dispute(practice, tenant, ana, paid):
    _, payment = paid
    browser = signed_in(tenant.biller)
    pages = (
        (url(tenant, "billing:payment", payment_id=payment.pk), "payment-dispute"),
        (url(tenant, "billing:payments"), "payment-row-dispute"),
        (url(tenant, "clients:billing", client_id=ana.pk), "client-payment-dispute"),
    )
    for address, testid in pages:
        assert f'data-testid="{testid}"' not in browser.get(address).content.decode()

    payment_dispute_update(payment=payment, status="open", dispute_id="dp_1")

    for address, testid in pages:
        page = browser.get(address).content.decode()
        assert f'data-testid="{testid}">Disputed</span>' in page, address

    payment_dispute_update(payment=payment, status="won", dispute_id="dp_1")

    page = browser.get(pages[0][0]).content.decode()
    assert 'data-testid="payment-dispute">Dispute won</span>' in page
    assert ">Disputed<" not in page
