"""``ledger_verify``: proof that the books agree. Stored invoice totals equal their lines,
amounts paid, refunded and written off equal their rows, and client balances equal both
the ledger and their open invoices. ``manage.py ledger_verify`` runs it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import F, Q, Sum

from practice.models import Practice

from .models import (
    ClientAccount,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    Refund,
    RefundAllocation,
)
from .money import ZERO


def ledger_verify(practice: Practice | None = None) -> list[str]:
    """Problems found: stored invoice totals that differ from their lines, and client
    balances that differ from the ledger. An empty list means the books agree."""
    problems = []
    invoices = Invoice.objects.all() if practice is None else Invoice.objects.filter(practice=practice)
    line_sums = {
        row["invoice"]: row
        for row in InvoiceLine.objects.filter(invoice__in=invoices)
        .values("invoice")
        .annotate(net=Sum("net"), tax=Sum("tax"))
    }
    # Tuples, not model instances: a practice's books run to tens of thousands of rows.
    for pk, number, subtotal, tax in invoices.values_list("pk", "number", "subtotal", "tax").iterator(2000):
        lines = line_sums.get(pk, {"net": ZERO, "tax": ZERO})
        if (lines["net"] or ZERO) != subtotal or (lines["tax"] or ZERO) != tax:
            problems.append(
                f"Invoice {_name(pk, number)} totals {subtotal}+{tax} differ from its lines "
                f"{lines['net']}+{lines['tax']}"
            )
    # What an invoice counts as paid: its allocations less what refunds took back of them.
    paid = {
        row["invoice"]: row["paid"]
        for row in PaymentAllocation.objects.filter(invoice__in=invoices)
        .exclude(payment__status=Payment.Status.REVERSED)
        .values("invoice")
        .annotate(paid=Sum(F("amount") - F("refunded")))
    }
    live = invoices.exclude(status=Invoice.Status.VOID).filter(kind=Invoice.Kind.INVOICE)
    for pk, number, amount_paid in live.values_list("pk", "number", "amount_paid").iterator(2000):
        if paid.get(pk, ZERO) != amount_paid:
            problems.append(
                f"Invoice {_name(pk, number)} amount paid {amount_paid} differs from its payments {paid.get(pk, ZERO)}"
            )
    problems += _refunds_and_write_offs_verify(practice, invoices)
    accounts = ClientAccount.objects.all() if practice is None else ClientAccount.objects.filter(practice=practice)
    ledger_sums: dict[int, dict[str, Any]] = {
        row["client"]: row
        for row in LedgerEntry.objects.filter(client__in=accounts.values("client"))
        .values("client")
        .annotate(balance=Sum("balance_delta"), credit=Sum("credit_delta"))
    }
    account_rows = list(accounts.values_list("client_id", "balance", "credit_balance"))
    for client_id, balance, credit_balance in account_rows:
        row = ledger_sums.get(client_id, {"balance": ZERO, "credit": ZERO})
        if (row["balance"] or ZERO) != balance or (row["credit"] or ZERO) != credit_balance:
            problems.append(
                f"Client {client_id} balance {balance}/{credit_balance} differs "
                f"from the ledger {row['balance']}/{row['credit']}"
            )
    open_sums = {
        row["client"]: row["owed"]
        for row in invoices.filter(kind=Invoice.Kind.INVOICE, status__in=[Invoice.Status.OPEN, Invoice.Status.PAID])
        .values("client")
        .annotate(owed=Sum("balance"))
    }
    for client_id, balance, _credit in account_rows:
        if open_sums.get(client_id, ZERO) != balance:
            problems.append(
                f"Client {client_id} balance {balance} differs from open invoices {open_sums.get(client_id, ZERO)}"
            )
    return problems


def _name(pk: int, number: str | None) -> str:
    """An invoice as ``str(invoice)`` names it: its number, or "Draft <pk>"."""
    return number or f"Draft {pk}"


def _refunds_and_write_offs_verify(practice: Practice | None, invoices: Any) -> list[str]:
    """Each payment's ``refunded`` is the sum of its refunds and of the parts they took
    from its allocations and its credit; each allocation's ``refunded`` is what refunds
    took from that invoice; each invoice's ``written_off`` is what its write-off entries
    took off the ledger."""
    problems = []
    payments = Payment.objects.all() if practice is None else Payment.objects.filter(practice=practice)
    refund_sums = {
        row["payment"]: row
        for row in Refund.objects.filter(payment__in=payments)
        .values("payment")
        .annotate(total=Sum("amount"), credit=Sum("from_credit"))
    }
    taken = {
        (row["refund__payment"], row["invoice"]): row["total"]
        for row in RefundAllocation.objects.filter(refund__payment__in=payments)
        .values("refund__payment", "invoice")
        .annotate(total=Sum("amount"))
    }
    allocations = PaymentAllocation.objects.filter(payment__in=payments)
    from_allocations: dict[int, Decimal] = {}
    for allocation in allocations.filter(refunded__gt=0).only("payment_id", "invoice_id", "refunded"):
        from_allocations[allocation.payment_id] = (
            from_allocations.get(allocation.payment_id, ZERO) + allocation.refunded
        )
        if taken.get((allocation.payment_id, allocation.invoice_id), ZERO) != allocation.refunded:
            problems.append(
                f"Payment {allocation.payment_id} refunded {allocation.refunded} of invoice {allocation.invoice_id} "
                f"but its refunds took {taken.get((allocation.payment_id, allocation.invoice_id), ZERO)}"
            )
    for payment in payments.filter(Q(refunded__gt=0) | Q(pk__in=list(refund_sums))).only("pk", "refunded"):
        row = refund_sums.get(payment.pk, {"total": ZERO, "credit": ZERO})
        parts = from_allocations.get(payment.pk, ZERO) + (row["credit"] or ZERO)
        if (row["total"] or ZERO) != payment.refunded or parts != payment.refunded:
            problems.append(
                f"Payment {payment.pk} refunded {payment.refunded} differs from its refunds {row['total']} "
                f"(invoices and credit {parts})"
            )
    write_offs = {
        row["invoice"]: -(row["total"] or ZERO)
        for row in LedgerEntry.objects.filter(invoice__in=invoices, kind=LedgerEntry.Kind.WRITE_OFF)
        .values("invoice")
        .annotate(total=Sum("balance_delta"))
    }
    for invoice in invoices.filter(Q(written_off__gt=0) | Q(pk__in=list(write_offs))).only(
        "pk", "number", "written_off"
    ):
        if write_offs.get(invoice.pk, ZERO) != invoice.written_off:
            problems.append(
                f"Invoice {invoice} written off {invoice.written_off} differs from its write-off entries "
                f"{write_offs.get(invoice.pk, ZERO)}"
            )
    return problems
