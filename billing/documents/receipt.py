"""A payment's receipt: what a client (or their payer) was given for one payment. The
practice's letterhead, who paid, when, how and how much, the invoices it paid (what each
received from it) and what became credit on account; refunds of it are shown against it,
so the paper never claims more was kept than was.

An invoice's own receipt (a paid invoice as paper, billing.documents.content) answers
"is this invoice settled"; this one answers "what did this payment do", which is what a
client asks for after paying several invoices at once or paying in parts.

Only a payment that took place has a receipt: pending, failed and deleted (reversed)
payments have none (``RECEIPT_STATUSES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from practice.dates import day_label
from practice.models import InvoiceTemplate, Practice
from practice.money import practice_money

from ..models import Payment
from .letterhead import Letterhead, letterhead_of

ZERO = Decimal("0")
RECEIPT_STATUSES = (
    Payment.Status.SUCCEEDED,
    Payment.Status.PARTIALLY_REFUNDED,
    Payment.Status.REFUNDED,
)


@dataclass(frozen=True)
class ReceiptLine:
    invoice_number: str
    invoice_date: str
    amount: str
    refunded: str


@dataclass(frozen=True)
class PaymentReceipt:
    letterhead: Letterhead
    number: str
    stamp: str  # PAID, REFUNDED or ""
    received_from: str
    received_from_address: str
    received_from_email: str
    date: str
    method: str
    reference: str
    amount: str
    lines: list[ReceiptLine]
    credited: str
    refunded: str
    kept: str
    filename: str


def receipt_number(payment: Payment) -> str:
    """The receipt's own reference: the payment's id, which never changes (a payment has no
    invoice-style number and a receipt needs none of its own)."""
    return f"P-{payment.pk:06d}"


def payment_receipt(practice: Practice, payment: Payment, template: InvoiceTemplate) -> PaymentReceipt:
    """The receipt of ``payment`` (with ``client__payer`` selected and ``allocations`` with
    their invoices prefetched, as billing.selectors.portal_payment_get gives it) in
    ``template``'s look."""

    def money(amount: Decimal) -> str:
        return practice_money(practice, amount, currency=payment.currency)

    # Only issued invoices receive payments, so each has its issue date.
    allocations = sorted(payment.allocations.all(), key=lambda a: (a.invoice.issue_date or date.min, a.pk))
    lines = [
        ReceiptLine(
            invoice_number=allocation.invoice.number or "",
            invoice_date=day_label(allocation.invoice.issue_date) if allocation.invoice.issue_date else "",
            amount=money(allocation.amount),
            refunded=money(allocation.refunded) if allocation.refunded else "",
        )
        for allocation in allocations
    ]
    client = payment.client
    payer = client.payer if client.payer_id else None
    if payer is not None:
        received_from = f"{payer.first_name} {payer.last_name} for {client.full_name}"
    else:
        received_from = client.full_name
    number = receipt_number(payment)
    stamp = "REFUNDED" if payment.status == Payment.Status.REFUNDED else "PAID"
    return PaymentReceipt(
        letterhead=letterhead_of(template),
        number=number,
        stamp=stamp,
        received_from=received_from,
        received_from_address=(payer.address if payer is not None and payer.address else client.address),
        received_from_email=client.billing_email,
        date=day_label(payment.received_on),
        method=payment.get_method_display(),
        reference=payment.reference,
        amount=money(payment.amount),
        lines=lines,
        credited=money(payment.credited) if payment.credited else "",
        refunded=money(payment.refunded) if payment.refunded else "",
        kept=money(payment.amount - payment.refunded),
        filename=f"receipt-{payment.received_on.isoformat()}-{number}.pdf",
    )
