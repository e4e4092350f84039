"""Properties of the money and the ledger, for any lines and any order of clicks.

1. For random lines (units, prices, tax percents, tax-inclusive or not) in USD, JPY (no
   decimals) and KWD (three), an invoice's totals are the sums of its lines rounded one by
   one, each recomputed here with billing.money.line_amounts.
2. For random sequences of issue / pay / credit invoice / apply credit / void / reverse
   payment, a model kept by this test predicts the client's balance and credit balance;
   the ClientAccount, the ledger sums and ledger_verify all agree with it.

Each example runs in a savepoint that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import ClientAccount, Invoice, InvoiceLine, LedgerEntry, Payment
from billing.money import LineAmounts, line_amounts, minor_units, quantize
from practice.models import Practice
from tests.billing.helpers import ledger_sums, sum_lines
from tests.factories import ClientFactory, make_item

D = Decimal
ZERO = D("0")

pytestmark = pytest.mark.django_db

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

currencies = st.sampled_from(["USD", "JPY", "KWD"])
tax_percents = st.one_of(
    st.sampled_from([D("0"), D("5"), D("7.5"), D("8.875"), D("10"), D("15"), D("20"), D("100")]),
    st.decimals(min_value=D("0"), max_value=D("100"), places=4),
)
line = st.fixed_dictionaries(
    {
        "units": st.decimals(min_value=D("0.01"), max_value=D("40"), places=2),
        "price": st.decimals(min_value=D("0"), max_value=D("5000"), places=3),
        "tax": tax_percents,
        "as_item": st.booleans(),
    }
)


class _RollBack(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint for one example, always rolled back."""
    try:
        with transaction.atomic():
            yield
            raise _RollBack
    except _RollBack:
        pass


def set_money(practice: Practice, currency: str, prices_include_tax: bool) -> Practice:
    Practice.objects.filter(pk=practice.pk).update(currency=currency, prices_include_tax=prices_include_tax)
    practice.refresh_from_db()
    return practice


def is_rounded(amount: Decimal, currency: str) -> bool:
    return amount == quantize(amount, currency)


# --- 1. totals are sums of rounded lines --------------------------------------------------------------


@PROPERTY
@given(
    currency=currencies,
    inclusive=st.booleans(),
    lines=st.lists(line, min_size=1, max_size=6),
    credit_lines=st.lists(line, min_size=0, max_size=3),
)
def test_invoice_totals_are_the_sums_of_lines_rounded_one_by_one(tenant, currency, inclusive, lines, credit_lines):
    with rolled_back():
        practice = set_money(tenant.practice, currency, inclusive)
        client = ClientFactory(practice=practice)
        item_ids = [
            make_item(practice, client, spec["price"], units=spec["units"], tax=spec["tax"]).pk
            for spec in lines
            if spec["as_item"]
        ]
        free = [
            services.LineInput(
                description="Line", unit_price=spec["price"], units=spec["units"], tax_percent=spec["tax"]
            )
            for spec in lines
            if not spec["as_item"]
        ]
        expected = [
            line_amounts(
                units=spec["units"],
                unit_price=spec["price"],
                tax_percent=spec["tax"],
                currency=currency,
                prices_include_tax=inclusive,
            )
            for spec in lines
        ]

        total = sum_lines(expected)
        if total.gross == 0 and not item_ids:
            # Free lines alone that make 0.00 record nothing: refused (issue 9, part 7).
            with pytest.raises(ValidationError) as refused:
                services.invoice_create(
                    practice=practice, client=client, actor=tenant.biller, item_ids=item_ids, lines=free, issue=True
                )
            assert refused.value.messages == [services.ZERO_NEEDS_ITEMS]
            return
        invoice = services.invoice_create(
            practice=practice, client=client, actor=tenant.biller, item_ids=item_ids, lines=free, issue=True
        )

        stored = [
            LineAmounts(net=row.net, tax=row.tax, gross=row.amount)
            for row in InvoiceLine.objects.filter(invoice=invoice).order_by("position")
        ]
        assert sorted(stored, key=repr) == sorted(expected, key=repr)
        assert all(is_rounded(x, currency) for row in stored for x in (row.net, row.tax, row.gross))
        invoice = Invoice.objects.get(pk=invoice.pk)
        assert (invoice.subtotal, invoice.tax, invoice.total) == (total.net, total.tax, total.gross)
        assert invoice.balance == total.gross
        assert ledger_sums(client) == (total.gross, ZERO)

        if credit_lines:
            back = sum_lines(
                [
                    line_amounts(
                        units=spec["units"],
                        unit_price=spec["price"],
                        tax_percent=spec["tax"],
                        currency=currency,
                        prices_include_tax=inclusive,
                    )
                    for spec in credit_lines
                ]
            )
            back_lines = [
                services.LineInput(
                    description="Back", unit_price=spec["price"], units=spec["units"], tax_percent=spec["tax"]
                )
                for spec in credit_lines
            ]
            if back.gross == 0:
                # A credit invoice of 0.00 credits nothing: refused (issue 9, part 7).
                with pytest.raises(ValidationError) as refused:
                    services.credit_invoice_create(
                        practice=practice, client=client, actor=tenant.biller, reason="Property", lines=back_lines
                    )
                assert refused.value.messages == [services.CREDIT_ZERO]
                assert services.ledger_verify(practice) == []
                return
            credit = services.credit_invoice_create(
                practice=practice, client=client, actor=tenant.biller, reason="Property", lines=back_lines
            )
            credit = Invoice.objects.get(pk=credit.pk)
            assert (credit.subtotal, credit.tax, credit.total) == (-back.net, -back.tax, -back.gross)
            assert ledger_sums(client) == (total.gross, back.gross)
        assert services.ledger_verify(practice) == []


# --- 2. the ledger balance is invoices minus payments minus credit -------------------------------------


minor_amounts = st.integers(min_value=1, max_value=40000)
index = st.integers(min_value=0, max_value=9)
operation = st.one_of(
    st.tuples(st.just("issue"), minor_amounts, st.booleans()),
    st.tuples(st.just("pay"), minor_amounts),
    st.tuples(st.just("credit"), minor_amounts),
    st.tuples(st.just("apply"), index, st.one_of(st.none(), minor_amounts)),
    st.tuples(st.just("void"), index),
    st.tuples(st.just("reverse"), index),
)


@dataclass
class Model:
    """What the books must say, kept by the test from what each step did."""

    issued: Decimal = ZERO  # totals of invoices issued
    voided: Decimal = ZERO  # totals of invoices voided
    allocated: Decimal = ZERO  # payments allocated to invoices, less reversed ones
    applied: Decimal = ZERO  # credit applied to invoices, less credit returned by a void
    credits: Decimal = ZERO  # credit invoices issued
    credits_voided: Decimal = ZERO
    overpaid: Decimal = ZERO  # payments kept as credit
    overpaid_reversed: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.issued - self.voided - self.allocated - self.applied

    @property
    def credit_balance(self) -> Decimal:
        return self.credits - self.credits_voided + self.overpaid - self.applied - self.overpaid_reversed


def snapshot(client) -> tuple:
    acc = ClientAccount.objects.get(client=client)
    return acc.balance, acc.credit_balance, LedgerEntry.objects.filter(client=client).count()


@PROPERTY
@given(currency=currencies, steps=st.lists(operation, min_size=1, max_size=12))
def test_the_ledger_balance_is_invoices_less_payments_less_credit(tenant, currency, steps):
    with rolled_back():
        practice = set_money(tenant.practice, currency, False)
        client = ClientFactory(practice=practice)
        model = Model()
        invoices: list[Invoice] = []
        payments: list[Payment] = []
        ClientAccount.objects.create(practice=practice, client=client)

        def money(minor: int) -> Decimal:
            return D(minor).scaleb(-minor_units(currency))

        for step in steps:
            kind = step[0]
            before = snapshot(client)
            try:
                if kind == "issue":
                    _, minor, apply_credit = step
                    invoice = services.invoice_create(
                        practice=practice,
                        client=client,
                        actor=tenant.biller,
                        lines=[services.LineInput(description="Session", unit_price=money(minor))],
                        issue=True,
                        apply_credit=apply_credit,
                    )
                    expected_credit = min(model.credit_balance, invoice.total) if apply_credit else ZERO
                    assert invoice.credit_applied == expected_credit
                    model.issued += invoice.total
                    model.applied += invoice.credit_applied
                    invoices.append(invoice)
                elif kind == "pay":
                    amount = money(step[1])
                    owed = model.balance
                    result = services.payment_record_manual(
                        practice=practice,
                        client=client,
                        actor=tenant.biller,
                        amount=amount,
                        received_on=practice.local_today(),
                        method="cash",
                        overpayment_to_credit=True,
                    )
                    assert result.payment.allocated == min(amount, owed)
                    model.allocated += result.payment.allocated
                    model.overpaid += result.payment.credited
                    payments.append(result.payment)
                elif kind == "credit":
                    credit = services.credit_invoice_create(
                        practice=practice,
                        client=client,
                        actor=tenant.biller,
                        reason="Property",
                        lines=[services.LineInput(description="Credit", unit_price=money(step[1]))],
                    )
                    model.credits += -credit.total
                    invoices.append(credit)
                elif kind == "apply":
                    _, i, minor = step
                    if not invoices:
                        continue
                    target = invoices[i % len(invoices)]
                    had = Invoice.objects.get(pk=target.pk).credit_applied
                    after = services.credit_apply(
                        invoice=target, actor=tenant.biller, amount=None if minor is None else money(minor)
                    )
                    model.applied += after.credit_applied - had
                elif kind == "void":
                    if not invoices:
                        continue
                    target = Invoice.objects.get(pk=invoices[step[1] % len(invoices)].pk)
                    services.invoice_void(invoice=target, actor=tenant.biller, reason="Property")
                    if target.is_credit:
                        model.credits_voided += -target.total
                    else:
                        model.voided += target.total
                        model.applied -= target.credit_applied
                elif kind == "reverse":
                    if not payments:
                        continue
                    target = payments[step[1] % len(payments)]
                    services.payment_reverse(payment=target, actor=tenant.owner, reason="Property")
                    model.allocated -= target.allocated
                    model.overpaid_reversed += target.credited
            except ValidationError:
                # A refused step (no credit, already void, paid, credit used...) changes nothing
                assert snapshot(client) == before

            acc = ClientAccount.objects.get(client=client)
            assert ledger_sums(client) == (acc.balance, acc.credit_balance)
            assert (acc.balance, acc.credit_balance) == (model.balance, model.credit_balance), step
            assert acc.balance >= 0 and acc.credit_balance >= 0
            assert is_rounded(acc.balance, currency) and is_rounded(acc.credit_balance, currency)
        assert services.ledger_verify(practice) == []
