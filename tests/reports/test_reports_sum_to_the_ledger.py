"""Every report sums to the ledger, whatever happened: random histories of invoices (of
sessions by two clinicians and typed lines, issued up to four months ago), credit
invoices, hand and online payments, refunds of both, write-offs, credit applied, voids and
deleted payments, each through billing's services, then every report read back.

1. Aging: the buckets add up to each client's account balance, and the practice's total
   to the ledger's receivable.
2. Balances: each client's owed and credit are their account's balance and credit.
3. Revenue, over the whole history: invoiced, credits, write-offs, collected and refunds
   each equal their ledger movements, so net billed less net collected is what the ledger
   says is owed less the credit held; the months, the services and the clinicians each add
   up to the total.
4. Payments: received and refunded are revenue's collected and refunds (the ledger's
   payments and refunds), the methods and the days add up to them, the fees to Stripe's.
5. A clinician's aging is their lines' share of each open invoice, worked out here from the
   rows; their revenue and payments are their row of the practice's breakdown.

Each example runs in a savepoint that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import BillingItem, ClientAccount, Invoice, InvoiceLine, LedgerEntry, Payment
from payments.models import StripePayment
from reports.forms import Period
from reports.selectors import (
    Scope,
    aging_all_rows,
    aging_totals,
    balance_all_rows,
    balance_totals,
    payments_report,
    revenue_report,
)
from tests.billing.test_ledger_properties import rolled_back
from tests.factories import ClientFactory, ServiceFactory, completed_session_items

D = Decimal
ZERO = D("0")
# Shares of an invoice are exact fractions PostgreSQL writes to 16 or more digits: their
# sums agree with the whole to far less than a cent.
CLOSE = D("0.000001")

pytestmark = pytest.mark.django_db

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

cents = st.integers(min_value=100, max_value=40_000).map(lambda n: D(n) / 100)
line = st.tuples(st.sampled_from([0, 1, None]), cents)  # a session of clinician 0 or 1, or a typed line
# Invoices and payments come up more often than the rest, so most histories have money to
# refund, write off, credit and void.
OPS = ["invoice"] * 4 + ["pay"] * 2 + ["online", "credit", "refund", "write_off", "apply_credit", "void", "reverse"]
step = st.fixed_dictionaries(
    {
        "op": st.sampled_from(OPS),
        "client": st.integers(0, 2),
        "amount": cents,
        "lines": st.lists(line, min_size=1, max_size=3),
        "days_ago": st.sampled_from([0, 20, 45, 75, 120]),
        "method": st.sampled_from(["cash", "cheque", "bank_transfer"]),
        "fee": st.sampled_from(["0.30", "2.95", None]),
        "part": st.sampled_from([D("0.25"), D("0.5"), D("1")]),
        "target": st.integers(0, 20),
    }
)


def _pick(rows: list, n: int):
    return rows[n % len(rows)] if rows else None


def _run(tenant, clients, services_by_clinician, steps) -> None:
    practice, actor = tenant.practice, tenant.biller
    clinicians = [tenant.clinician, tenant.clinician2]
    invoices = Invoice.objects.filter(practice=practice, kind=Invoice.Kind.INVOICE).order_by("pk")
    for step in steps:
        op, client, amount = step["op"], clients[step["client"]], step["amount"]
        # The invoice or payment a click acts on: one it could act on, where there is one.
        open_invoices = list(invoices.filter(status=Invoice.Status.OPEN, balance__gt=0))
        live_invoices = list(Invoice.objects.filter(practice=practice).exclude(status=Invoice.Status.VOID))
        payments = list(Payment.objects.filter(practice=practice).order_by("pk"))
        live_payments = [p for p in payments if p.status != Payment.Status.REVERSED and p.refunded < p.amount]
        try:
            if op == "invoice":
                typed = []
                for who, price in step["lines"]:
                    if who is None:
                        typed.append(services.LineInput(description="Report", unit_price=price))
                    else:
                        service = services_by_clinician[who]
                        service.price = price
                        service.save(update_fields=["price"])
                        days = step["days_ago"] + 1
                        completed_session_items(practice, tenant.owner, clinicians[who], client, service, days)
                items = BillingItem.objects.filter(practice=practice, client=client, invoice__isnull=True)
                with time_machine.travel(timezone.now() - timedelta(days=step["days_ago"]), tick=False):
                    services.invoice_create(
                        practice=practice,
                        client=client,
                        actor=actor,
                        item_ids=list(items.values_list("pk", flat=True)),
                        lines=typed,
                        issue=True,
                    )
            elif op == "credit":
                services.credit_invoice_create(
                    practice=practice,
                    client=client,
                    actor=actor,
                    reason="Goodwill",
                    lines=[services.LineInput(description="Credit", unit_price=amount)],
                )
            elif op == "pay":
                services.payment_record_manual(
                    practice=practice,
                    client=client,
                    actor=actor,
                    amount=amount,
                    received_on=practice.local_today(),
                    method=step["method"],
                    overpayment_to_credit=True,
                )
            elif op == "online":
                fee = step["fee"]
                payment = services.payment_record_settled(
                    practice=practice,
                    client=client,
                    amount=amount,
                    currency=practice.currency,
                    method=Payment.Method.CARD_ONLINE,
                    external_id=f"pi_{secrets.token_hex(8)}",
                ).payment
                StripePayment.objects.create(
                    practice=practice,
                    stripe_account_id="acct_1Test",
                    payment_intent_id=payment.external_id,
                    status="succeeded",
                    fee=None if fee is None else D(fee),
                    net=None if fee is None else amount - D(fee),
                    currency=practice.currency,
                )
            elif op == "refund" and (payment := _pick(live_payments, step["target"])):
                refund = ((payment.amount - payment.refunded) * step["part"]).quantize(D("0.01"))
                if payment.method == Payment.Method.CARD_ONLINE:
                    services.payment_refund_record(
                        payment=payment, amount=refund, external_id=f"re_{secrets.token_hex(8)}", reason="Asked"
                    )
                else:
                    services.refund_record(
                        payment=payment,
                        actor=actor,
                        amount=refund,
                        refunded_on=practice.local_today(),
                        method=payment.method,
                        reason="Asked",
                    )
            elif op == "write_off" and (invoice := _pick(open_invoices, step["target"])):
                services.invoice_write_off(invoice=invoice, actor=actor, reason="Small balance")
            elif op == "apply_credit" and (invoice := _pick(open_invoices, step["target"])):
                services.credit_apply(invoice=invoice, actor=actor)
            elif op == "void" and (invoice := _pick(live_invoices, step["target"])):
                services.invoice_void(invoice=invoice, actor=actor, reason="Mistake")
            elif op == "reverse" and (payment := _pick(payments, step["target"])):
                services.payment_reverse(payment=payment, actor=actor, reason="Entered twice")
        except ValidationError:
            pass  # a click refused at this point of the story (a paid invoice voided, ...)


def _ledger(practice, kinds, field: str) -> Decimal:
    entries = LedgerEntry.objects.filter(practice=practice, kind__in=kinds)
    return entries.aggregate(s=Sum(field))["s"] or ZERO


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= CLOSE


def _clinician_open_shares(practice, clinician) -> Decimal:
    """The clinician's part of every open balance, from the rows: their sessions' lines over
    the invoice's total, times what it still owes."""
    owed = ZERO
    for invoice in Invoice.objects.filter(practice=practice, kind="invoice", status="open", balance__gt=0):
        theirs = InvoiceLine.objects.filter(invoice=invoice, billing_item__appointment__clinician=clinician).aggregate(
            s=Sum("amount")
        )["s"]
        if theirs:
            owed += invoice.balance * theirs / invoice.total
    return owed


@PROPERTY
@given(steps=st.lists(step, min_size=4, max_size=16))
def test_every_report_sums_to_the_ledger(tenant, steps):
    with rolled_back():
        practice = tenant.practice
        clients = [ClientFactory(practice=practice, first_name=f"C{n}", last_name="Test") for n in range(3)]
        services_by_clinician = [ServiceFactory(practice=practice, name=f"Service {n}") for n in range(2)]
        _run(tenant, clients, services_by_clinician, steps)

        today = practice.local_today()
        everything = Period(today - timedelta(days=200), today)
        owed = _ledger(practice, LedgerEntry.Kind.values, "balance_delta")
        credit = _ledger(practice, LedgerEntry.Kind.values, "credit_delta")
        accounts = {a.client_id: a for a in ClientAccount.objects.filter(practice=practice)}
        scope = Scope(practice)

        # 1. Aging.
        aging = aging_totals(scope, Period(None, None)).row
        assert aging.total == owed == sum((a.balance for a in accounts.values()), ZERO)
        assert sum(aging.buckets(), ZERO) == aging.total
        for row in aging_all_rows(scope, Period(None, None)):
            assert sum(row.buckets(), ZERO) == row.total == accounts[row.client_id].balance

        # 2. Balances.
        balances = balance_totals(scope, Period(None, None)).row
        assert (balances.owed, balances.credit) == (owed, credit)
        listed = {row.client_id: row for row in balance_all_rows(scope, Period(None, None))}
        for client_id, account in accounts.items():
            if account.balance or account.credit_balance:
                assert (listed[client_id].owed, listed[client_id].credit) == (account.balance, account.credit_balance)
            else:
                assert client_id not in listed

        # 3. Revenue.
        revenue = revenue_report(scope, everything)
        total = revenue.total
        K = LedgerEntry.Kind
        assert total.invoiced == _ledger(
            practice, [K.INVOICE_ISSUED, K.INVOICE_ADJUSTED, K.INVOICE_VOIDED], "balance_delta"
        )
        assert total.credits == _ledger(
            practice, [K.CREDIT_ISSUED, K.INVOICE_ADJUSTED, K.INVOICE_VOIDED], "credit_delta"
        )
        assert total.written_off == -_ledger(practice, [K.WRITE_OFF], "balance_delta")
        moved = [K.PAYMENT, K.PAYMENT_REVERSED]
        assert total.collected == _ledger(practice, moved, "credit_delta") - _ledger(practice, moved, "balance_delta")
        assert total.refunds == _ledger(practice, [K.REFUND], "balance_delta") - _ledger(
            practice, [K.REFUND], "credit_delta"
        )
        assert total.net_billed - total.net_collected == owed - credit
        for column in ("invoiced", "credits", "written_off", "collected", "refunds"):
            expected = getattr(total, column)
            assert sum((getattr(r, column) for r in revenue.months), ZERO) == expected
            assert _close(sum((getattr(r, column) for r in revenue.by_service), ZERO), expected), column
            assert _close(sum((getattr(r, column) for r in revenue.by_clinician), ZERO), expected), column

        # 4. Payments.
        paid = payments_report(scope, everything)
        assert (paid.total.received, paid.total.refunded) == (total.collected, total.refunds)
        assert sum((r.received for r in paid.by_method), ZERO) == paid.total.received
        assert sum((r.refunded for r in paid.by_day), ZERO) == paid.total.refunded
        live = Payment.objects.filter(practice=practice).exclude(status=Payment.Status.REVERSED)
        fees = StripePayment.objects.filter(
            practice=practice, payment_intent_id__in=live.values("external_id"), fee__isnull=False
        ).aggregate(s=Sum("fee"))["s"]
        assert paid.total.fees == (fees or ZERO)

        # 5. Each clinician's share.
        by_clinician = {row.key: row for row in revenue.by_clinician if row.key}
        for clinician in (tenant.clinician, tenant.clinician2):
            theirs = Scope(practice, clinician.pk)
            assert _close(
                aging_totals(theirs, Period(None, None)).row.total, _clinician_open_shares(practice, clinician)
            )
            assert _close(
                balance_totals(theirs, Period(None, None)).row.owed, _clinician_open_shares(practice, clinician)
            )
            own = revenue_report(theirs, everything)
            row = by_clinician.get(clinician.pk)
            for column in ("invoiced", "credits", "written_off", "collected", "refunds"):
                assert _close(getattr(own.total, column), getattr(row, column) if row else ZERO), column
            their_payments = payments_report(theirs, everything).total
            assert _close(their_payments.received, own.total.collected)
            assert _close(their_payments.refunded, own.total.refunds)
