"""Issue 10, part 4: the seam the payments app uses. A card payment settled at the
processor (payment_record_settled), a refund made there (payment_refund_record), and the
reads the portal and payment links show (invoice_payable, client_balance), in a biller's
figures, with ledger_verify proving the books still agree after each."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from billing import services
from billing.models import LedgerEntry, Payment, Refund
from billing.selectors import client_balance, invoice_payable
from billing.services import (
    EXTERNAL_ID_REQUIRED,
    EXTERNAL_ID_REUSED,
    REFUND_CARD,
    REFUND_NOT_CARD,
    REFUND_TOO_MUCH,
    SETTLED_METHOD,
    WRONG_CURRENCY,
    payment_record_settled,
    payment_refund_record,
    refund_record,
)
from practice.models import AuditLog
from tests.billing.helpers import books, ledger_kinds, reload, status_and_balance
from tests.factories import ClientFactory, give_credit, issued_invoice, pay

D = Decimal
K = LedgerEntry.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(practice):
    return ClientFactory(practice=practice, first_name="Ana", last_name="Aho")


def settle(practice, client, amount: str, external_id: str = "pi_1", **kwargs) -> services.PaymentResult:
    kwargs.setdefault("currency", practice.currency)
    kwargs.setdefault("method", Payment.Method.CARD_ONLINE)
    kwargs.setdefault("actor", None)
    return payment_record_settled(practice=practice, client=client, amount=D(amount), external_id=external_id, **kwargs)


# --- a settled payment ----------------------------------------------------------------------


def test_a_settled_payment_pays_the_oldest_invoice_first(practice, tenant, ana):
    older = issued_invoice(practice, ana, tenant.biller, "100.00")
    newer = issued_invoice(practice, ana, tenant.biller, "50.00")

    result = settle(practice, ana, "120.00", "pi_oldest")

    assert result.created
    payment = reload(result.payment)
    assert (payment.amount, payment.allocated, payment.credited) == (D("120.000"), D("120.000"), D("0.000"))
    assert (payment.method, payment.external_id, payment.received_on) == (
        "card_online",
        "pi_oldest",
        practice.local_today(),
    )
    assert status_and_balance(older) == ("Paid", D("100.000"), D("0.000"))
    assert status_and_balance(newer) == ("Partially paid", D("20.000"), D("30.000"))
    assert books(ana) == (D("30.000"), D("0.000"))
    assert ledger_kinds(ana)[-1] == (K.PAYMENT, D("-120.000"), D("0.000"))
    assert services.ledger_verify(practice) == []


def test_a_settled_payment_follows_the_allocations_it_is_given(practice, tenant, ana):
    older = issued_invoice(practice, ana, tenant.biller, "100.00")
    newer = issued_invoice(practice, ana, tenant.biller, "50.00")

    settle(practice, ana, "50.00", "pi_link", method=Payment.Method.CARD_ON_FILE, allocations={newer.pk: D("50.00")})

    assert status_and_balance(newer) == ("Paid", D("50.000"), D("0.000"))
    assert status_and_balance(older) == ("Open", D("0.000"), D("100.000"))
    assert books(ana) == (D("100.000"), D("0.000"))
    assert services.ledger_verify(practice) == []


def test_an_overpaid_settled_payment_becomes_credit_without_asking(practice, tenant, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")

    payment = settle(practice, ana, "130.00").payment

    assert (payment.allocated, payment.credited) == (D("100.000"), D("30.000"))
    assert status_and_balance(invoice) == ("Paid", D("100.000"), D("0.000"))
    assert books(ana) == (D("0.000"), D("30.000"))
    assert ledger_kinds(ana)[-1] == (K.PAYMENT, D("-100.000"), D("30.000"))
    assert services.ledger_verify(practice) == []


def test_a_settled_payment_for_an_invoice_paid_meanwhile_becomes_credit(practice, tenant, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    pay(practice, ana, tenant.biller, "60.00")  # by hand, while the client was at checkout

    payment = settle(practice, ana, "100.00", allocations={invoice.pk: D("100.00")}).payment

    assert (payment.allocated, payment.credited) == (D("40.000"), D("60.000"))
    assert status_and_balance(invoice) == ("Paid", D("100.000"), D("0.000"))
    assert books(ana) == (D("0.000"), D("60.000"))
    assert services.ledger_verify(practice) == []


def test_a_settled_payment_with_no_open_invoice_is_all_credit(practice, tenant, ana):
    payment = settle(practice, ana, "25.00").payment

    assert (payment.allocated, payment.credited) == (D("0.000"), D("25.000"))
    assert books(ana) == (D("0.000"), D("25.000"))
    assert ledger_kinds(ana)[-1][0] == K.PAYMENT
    assert services.ledger_verify(practice) == []


def test_a_settled_payment_by_the_webhook_is_recorded_as_the_payments_job(practice, tenant, ana):
    payment = settle(practice, ana, "25.00", actor=None).payment

    row = AuditLog.objects.get(action="payment.recorded", object_id=str(payment.pk))
    assert (row.actor_id, row.actor_label) == (None, "system:payments")
    assert LedgerEntry.objects.get(payment=payment).actor_label == "system:payments"


def test_the_same_external_id_twice_records_one_payment(practice, tenant, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    first = settle(practice, ana, "100.00", "pi_twice")

    second = settle(practice, ana, "100.00", "pi_twice")

    assert (second.payment.pk, second.created) == (first.payment.pk, False)
    assert Payment.objects.filter(practice=practice).count() == 1
    assert [kind for kind, *_ in ledger_kinds(ana)].count(K.PAYMENT) == 1
    assert status_and_balance(invoice) == ("Paid", D("100.000"), D("0.000"))
    assert books(ana) == (D("0.000"), D("0.000"))
    assert services.ledger_verify(practice) == []


def test_the_same_external_id_for_a_different_amount_is_refused(practice, tenant, ana):
    settle(practice, ana, "100.00", "pi_reused")

    with pytest.raises(ValidationError) as exc:
        settle(practice, ana, "90.00", "pi_reused")

    assert exc.value.messages == [EXTERNAL_ID_REUSED]
    assert Payment.objects.filter(practice=practice).count() == 1


def test_the_same_external_id_in_another_practice_is_another_payment(practice, other_practice, tenant, ana):
    bo = ClientFactory(practice=other_practice, first_name="Bo", last_name="Berg")
    settle(practice, ana, "10.00", "pi_shared")

    other = settle(other_practice, bo, "10.00", "pi_shared")

    assert other.created
    assert Payment.objects.filter(external_id="pi_shared").count() == 2


def test_the_database_refuses_a_second_payment_with_one_external_id(practice, tenant, ana):
    first = settle(practice, ana, "10.00", "pi_db").payment
    for _ in range(2):  # blank ids (hand payments) are many
        pay(practice, ana, tenant.biller, "5.00", to_credit=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            practice=practice,
            client=ana,
            amount=D("10.00"),
            credited=D("10.00"),
            currency=practice.currency,
            method="card_online",
            received_on=first.received_on,
            external_id="pi_db",
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"currency": "EUR"}, WRONG_CURRENCY),
        ({"method": Payment.Method.CASH}, SETTLED_METHOD),
        ({"external_id": " "}, EXTERNAL_ID_REQUIRED),
        ({"amount": "0"}, services.AMOUNT_POSITIVE),
    ],
)
def test_a_settled_payment_that_cannot_be_is_refused(practice, tenant, ana, kwargs, message):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    args = {"amount": "100.00", "external_id": "pi_bad", **kwargs}

    with pytest.raises(ValidationError) as exc:
        settle(practice, ana, **args)

    assert exc.value.messages == [message]
    assert Payment.objects.filter(practice=practice).count() == 0
    assert status_and_balance(invoice) == ("Open", D("0.000"), D("100.000"))


def test_a_settled_payment_for_another_practices_client_or_invoice_is_refused(practice, other_practice, tenant, ana):
    bo = ClientFactory(practice=other_practice, first_name="Bo", last_name="Berg")
    cy = ClientFactory(practice=practice, first_name="Cy", last_name="Cole")
    cys_invoice = issued_invoice(practice, cy, tenant.biller, "100.00")

    with pytest.raises(ValidationError):
        settle(practice, bo, "10.00", "pi_foreign")
    with pytest.raises(ValidationError):
        settle(practice, ana, "10.00", "pi_other_client", allocations={cys_invoice.pk: D("10.00")})

    assert Payment.objects.count() == 0
    assert status_and_balance(cys_invoice) == ("Open", D("0.000"), D("100.000"))


@pytest.mark.django_db(transaction=True)
def test_ten_deliveries_of_one_charge_at_once_record_one_payment(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    barrier = threading.Barrier(10)
    payment_ids: list[int] = []
    created: list[bool] = []
    errors: list[Exception] = []

    def worker() -> None:
        try:
            barrier.wait()
            result = settle(practice, ana, "100.00", "pi_storm")
            payment_ids.append(result.payment.pk)
            created.append(result.created)
        except Exception as exc:  # any failure is the test's finding
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(payment_ids)) == 1 and len(payment_ids) == 10
    assert sorted(created) == [False] * 9 + [True]
    assert Payment.objects.filter(practice=practice).count() == 1
    assert status_and_balance(invoice) == ("Paid", D("100.000"), D("0.000"))
    assert books(ana) == (D("0.000"), D("0.000"))
    assert services.ledger_verify(practice) == []


@pytest.mark.django_db(transaction=True)
def test_one_external_id_for_two_clients_at_once_records_only_the_first(tenant, practice, ana):
    # Two clients' locks do not serialize the calls: the unique constraint decides.
    cy = ClientFactory(practice=practice, first_name="Cy", last_name="Cole")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(client) -> None:
        try:
            barrier.wait()
            settle(practice, client, "10.00", "pi_mixed")
            outcomes.append("recorded")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in (ana, cy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted(["recorded", EXTERNAL_ID_REUSED])
    assert Payment.objects.filter(practice=practice, external_id="pi_mixed").count() == 1
    assert services.ledger_verify(practice) == []


def test_a_hand_payment_still_asks_before_keeping_an_overpayment(practice, tenant, ana):
    issued_invoice(practice, ana, tenant.biller, "100.00")

    with pytest.raises(ValidationError) as exc:
        pay(practice, ana, tenant.biller, "130.00")

    assert exc.value.messages == [services.OVERPAYMENT_QUESTION]
    assert Payment.objects.count() == 0


# --- a refund made at the card processor ------------------------------------------------------


def card_refund(payment: Payment, amount: str, external_id: str = "re_1", **kwargs) -> Refund:
    kwargs.setdefault("actor", None)
    kwargs.setdefault("reason", "requested_by_customer")
    return payment_refund_record(payment=reload(payment), amount=D(amount), external_id=external_id, **kwargs)


def test_a_card_refund_reopens_the_invoice_it_paid(practice, tenant, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = settle(practice, ana, "100.00").payment

    refund = card_refund(payment, "40.00", "re_part")

    assert (refund.amount, refund.from_credit, refund.method, refund.external_id) == (
        D("40.00"),
        D("0.000"),
        "card_online",
        "re_part",
    )
    assert refund.refunded_on == practice.local_today()
    assert status_and_balance(invoice) == ("Partially paid", D("60.000"), D("40.000"))
    assert reload(payment).status == Payment.Status.PARTIALLY_REFUNDED
    assert books(ana) == (D("40.000"), D("0.000"))
    assert ledger_kinds(ana)[-1] == (K.REFUND, D("40.000"), D("0.000"))
    assert services.ledger_verify(practice) == []

    card_refund(payment, "60.00", "re_rest")

    assert status_and_balance(invoice) == ("Open", D("0.000"), D("100.000"))
    assert reload(payment).status == Payment.Status.REFUNDED
    assert books(ana) == (D("100.000"), D("0.000"))
    assert services.ledger_verify(practice) == []


def test_a_card_refund_takes_the_unused_credit_first(practice, tenant, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = settle(practice, ana, "130.00").payment

    refund = card_refund(payment, "50.00")

    assert refund.from_credit == D("30.000")
    assert status_and_balance(invoice) == ("Partially paid", D("80.000"), D("20.000"))
    assert books(ana) == (D("20.000"), D("0.000"))
    assert services.ledger_verify(practice) == []


def test_the_same_refund_id_twice_records_one_refund(practice, tenant, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = settle(practice, ana, "100.00").payment
    first = card_refund(payment, "40.00", "re_twice")

    second = card_refund(payment, "40.00", "re_twice")

    assert second.pk == first.pk
    assert Refund.objects.filter(payment=payment).count() == 1
    assert reload(payment).refunded == D("40.000")
    assert status_and_balance(invoice) == ("Partially paid", D("60.000"), D("40.000"))
    assert services.ledger_verify(practice) == []


@pytest.mark.django_db(transaction=True)
def test_ten_deliveries_of_one_refund_at_once_record_one_refund(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = settle(practice, ana, "100.00").payment
    barrier = threading.Barrier(10)
    refund_ids: list[int] = []
    errors: list[Exception] = []

    def worker() -> None:
        try:
            barrier.wait()
            refund_ids.append(card_refund(payment, "40.00", "re_storm").pk)
        except Exception as exc:  # any failure is the test's finding
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(refund_ids) == 10 and len(set(refund_ids)) == 1
    assert reload(payment).refunded == D("40.000")
    assert status_and_balance(invoice) == ("Partially paid", D("60.000"), D("40.000"))
    assert services.ledger_verify(practice) == []


def test_a_card_refund_of_more_than_is_left_is_refused(practice, tenant, ana):
    issued_invoice(practice, ana, tenant.biller, "100.00")
    payment = settle(practice, ana, "100.00").payment
    card_refund(payment, "70.00", "re_a")

    with pytest.raises(ValidationError) as exc:
        card_refund(payment, "40.00", "re_b")

    assert exc.value.message_dict["amount"] == [REFUND_TOO_MUCH.format(left="$30.00")]
    assert reload(payment).refunded == D("70.000")


def test_a_hand_payment_takes_no_card_refund_and_a_card_payment_no_hand_refund(practice, tenant, ana):
    issued_invoice(practice, ana, tenant.biller, "100.00")
    hand = pay(practice, ana, tenant.biller, "50.00").payment
    card = settle(practice, ana, "50.00").payment

    with pytest.raises(ValidationError) as exc:
        card_refund(hand, "10.00")
    assert exc.value.messages == [REFUND_NOT_CARD]
    with pytest.raises(ValidationError) as exc:
        refund_record(
            payment=reload(card),
            actor=tenant.biller,
            amount=D("10.00"),
            refunded_on=practice.local_today(),
            method="cash",
            reason="Wrong",
        )
    assert exc.value.messages == [REFUND_CARD]
    assert Refund.objects.count() == 0


# --- what the portal and payment links read ----------------------------------------------------


def test_invoice_payable_is_only_the_clients_own_open_invoice_with_a_balance(
    practice, other_practice, tenant, other_tenant, ana
):
    cy = ClientFactory(practice=practice, first_name="Cy", last_name="Cole")
    bo = ClientFactory(practice=other_practice, first_name="Bo", last_name="Berg")
    open_invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    paid = issued_invoice(practice, ana, tenant.biller, "20.00")
    settle(practice, ana, "20.00", allocations={paid.pk: D("20.00")})
    draft = services.invoice_create(
        practice=practice, client=ana, actor=tenant.biller, lines=[services.LineInput("Report", D("10.00"))]
    )
    credit = give_credit(practice, ana, tenant.biller)
    cys = issued_invoice(practice, cy, tenant.biller, "100.00")
    bos = issued_invoice(other_practice, bo, other_tenant.biller, "100.00")

    assert invoice_payable(ana, open_invoice.pk) == open_invoice
    assert invoice_payable(ana, open_invoice.pk).balance == D("100.000")
    for not_payable in (paid, draft, credit, cys, bos):
        assert invoice_payable(ana, not_payable.pk) is None
    assert invoice_payable(ana, 10**9) is None
    assert invoice_payable(cy, open_invoice.pk) is None


def test_client_balance_is_zero_before_any_money_and_the_account_after(practice, tenant, ana):
    assert (client_balance(ana).balance, client_balance(ana).credit_balance) == (D("0"), D("0"))

    issued_invoice(practice, ana, tenant.biller, "100.00")
    issued_invoice(practice, ana, tenant.biller, "50.00")
    settle(practice, ana, "120.00", allocations={})  # nothing allocated: all credit
    bo = ClientFactory(practice=practice, first_name="Bo", last_name="Berg")
    settle(practice, bo, "500.00", "pi_bo")

    figures = client_balance(ana)
    assert (figures.balance, figures.credit_balance) == (D("150.000"), D("120.000"))
