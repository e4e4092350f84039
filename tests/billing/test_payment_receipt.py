"""A payment's receipt, read back from its PDF: who paid, when, how and how much, the
invoices it paid and what each received, what became credit, and refunds set against it.
Payments that did not take place (deleted) have none, and the portal's reads never reach
another client's payment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.http import Http404

from billing import selectors, services
from billing.documents.pdf import page_pdf
from billing.documents.receipt import payment_receipt, receipt_number
from practice.selectors import invoice_template_for
from tests.billing.test_documents_pdf import pdf_text
from tests.factories import ClientFactory, PayerFactory, issued_invoice, pay

D = Decimal

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


def receipt_text(tenant, payment) -> str:
    practice = tenant.practice
    loaded = selectors.portal_receipt_payment(practice, [payment.client_id], payment.pk)
    doc = payment_receipt(practice, loaded, invoice_template_for(practice))
    return pdf_text(page_pdf("billing/documents/payment_receipt.html", {"doc": doc}))


def test_a_receipt_names_the_invoices_the_payment_paid(tenant, ana):
    # Given Ana's invoices of 100 and 80, and a cash payment of 150 (oldest first: 100, then 50)
    practice = tenant.practice
    first = issued_invoice(practice, ana, tenant.biller, "100.00")
    second = issued_invoice(practice, ana, tenant.biller, "80.00")
    payment = pay(practice, ana, tenant.biller, "150.00", reference="Till 4").payment

    # When its receipt is printed
    text = receipt_text(tenant, payment)

    # Then it reads who paid, how, the invoices and what each got, and the total
    assert "Receipt" in text and receipt_number(payment) in text and "PAID" in text
    assert "Harbour Street Therapy" in text
    assert "RECEIVED FROM\nAna Lima\nana@mail.test" in text
    assert "Cash" in text and "Till 4" in text
    rows = text.splitlines()
    assert any(row.startswith(first.number) and row.endswith(" $100.00") for row in rows)
    assert any(row.startswith(second.number) and row.endswith(" $50.00") for row in rows)
    assert "Amount received $150.00" in text
    assert "Amount paid $150.00" in text
    assert "credit on account" not in text and "Refunded $" not in text


def test_an_overpayment_shows_the_credit_it_left(tenant, ana):
    practice = tenant.practice
    issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = pay(practice, ana, tenant.biller, "130.00", to_credit=True).payment

    text = receipt_text(tenant, payment)

    assert "Amount received $130.00" in text
    assert "Of which credit on account $30.00" in text


def test_a_refund_is_set_against_the_payment(tenant, ana):
    # Given a payment of 100 of which 40 was handed back
    practice = tenant.practice
    issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = pay(practice, ana, tenant.biller, "100.00").payment
    services.refund_record(
        payment=payment,
        actor=tenant.biller,
        amount=D("40.00"),
        refunded_on=practice.local_today(),
        method="cash",
        reason="Session cancelled",
    )

    text = receipt_text(tenant, payment)

    # Then the receipt says so, and what was kept
    assert "Amount received $100.00" in text
    assert "Refunded $40.00" in text
    assert "Amount paid $60.00" in text


def test_a_fully_refunded_payment_is_stamped_refunded(tenant, ana):
    practice = tenant.practice
    issued_invoice(practice, ana, tenant.biller, "50.00")
    payment = pay(practice, ana, tenant.biller, "50.00").payment
    services.refund_record(
        payment=payment,
        actor=tenant.biller,
        amount=D("50.00"),
        refunded_on=practice.local_today(),
        method="cash",
        reason="Overcharged",
    )

    text = receipt_text(tenant, payment)

    assert "REFUNDED" in text and "Amount paid $0.00" in text


def test_a_payer_is_named_as_paying_for_the_client(tenant):
    practice = tenant.practice
    paula = PayerFactory(practice=practice, first_name="Paula", last_name="Lima", email="paula@mail.test")
    leo = ClientFactory(practice=practice, first_name="Leo", last_name="Lima", payer=paula)
    issued_invoice(practice, leo, tenant.biller, "90.00")
    payment = pay(practice, leo, tenant.biller, "90.00").payment

    text = receipt_text(tenant, payment)

    assert "Paula Lima for Leo Lima" in text and "paula@mail.test" in text


def test_a_deleted_payment_has_no_receipt(tenant, ana):
    # Given a cash payment recorded by mistake and deleted
    practice = tenant.practice
    issued_invoice(practice, ana, tenant.biller, "100.00")
    kept = pay(practice, ana, tenant.biller, "60.00").payment
    deleted = pay(practice, ana, tenant.biller, "40.00").payment
    services.payment_reverse(payment=deleted, actor=tenant.biller, reason="Entered twice")

    # Then only the payment that stands is listed, and the deleted one is a 404
    assert list(selectors.portal_receipts(practice, [ana.pk])) == [kept]
    with pytest.raises(Http404):
        selectors.portal_receipt_payment(practice, [ana.pk], deleted.pk)


def test_another_clients_payment_is_not_found(tenant, other_tenant, ana):
    # Given Ben at the same practice and Ana's twin at the other, each with a payment
    practice = tenant.practice
    ben = ClientFactory(practice=practice)
    issued_invoice(practice, ben, tenant.biller, "20.00")
    bens = pay(practice, ben, tenant.biller, "20.00").payment
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima")
    issued_invoice(other_tenant.practice, twin, other_tenant.biller, "20.00")
    twins = pay(other_tenant.practice, twin, other_tenant.biller, "20.00").payment

    # Then Ana's reads find neither, whatever ids are asked for
    assert list(selectors.portal_receipts(practice, [ana.pk])) == []
    for payment in (bens, twins):
        with pytest.raises(Http404):
            selectors.portal_receipt_payment(practice, [ana.pk], payment.pk)
    # And the twin's own client id does not reach it through this practice
    with pytest.raises(Http404):
        selectors.portal_receipt_payment(practice, [twin.pk], twins.pk)
