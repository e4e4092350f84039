"""The receipt email: once a payment is recorded for an invoice (an online payment settled
by Stripe), the payer is told what was paid and what is still owed, with the invoice's
PDF attached. The PDF is made by the worker when the email goes out (the
``billing.invoice_pdf`` renderer), so a paid invoice arrives as its receipt
(billing.documents: a paid invoice reads as a receipt) and a part-paid one as the invoice
with the payment and its balance.

The email's key is the payment's and the invoice's ids: a second call for the same payment
(the webhook after the return page) queues nothing more.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from practice.actor import Actor
from practice.audit import audit_write
from practice.dates import day_label
from practice.mail import RenderedAttachment, email_queue
from practice.models import OutgoingEmail
from practice.money import practice_money

from ..models import Invoice, Payment
from ..money import ZERO
from .sending import INVOICE_PDF_RENDERER, invoice_recipients

RECEIPT_SYSTEM = "receipts"


def _filename(invoice: Invoice, paid: bool) -> str:
    label = "receipt" if paid else "invoice"
    return f"{label}-{invoice.number}.pdf".replace("/", "-").replace(" ", "-")


def payment_receipt_queue(*, payment: Payment, invoice: Invoice) -> OutgoingEmail | None:
    """Queue the receipt of ``payment`` towards ``invoice`` to the invoice's payer (or the
    client), once. None when nobody on the invoice has an email address."""
    key = f"receipt:{payment.pk}:{invoice.pk}"
    with transaction.atomic():
        if (sent := OutgoingEmail.objects.filter(key=key).first()) is not None:
            return sent
        invoice = Invoice.objects.select_related("practice", "client", "client__payer").get(pk=invoice.pk)
        recipients = invoice_recipients(invoice)
        if not recipients:
            return None
        to = recipients[0]
        practice = invoice.practice
        paid = invoice.status == Invoice.Status.PAID

        def money(amount: Decimal) -> str:
            return practice_money(practice, amount, currency=payment.currency)

        allocated = sum((a.amount - a.refunded for a in payment.allocations.filter(invoice=invoice)), start=ZERO)
        context = {
            "practice_name": practice.name,
            "name": to.name.split(" ")[0],
            "number": invoice.number or "",
            "amount": money(payment.amount),
            "to_invoice": money(allocated),
            "credit": money(payment.amount - allocated) if payment.amount > allocated else "",
            "paid_on": day_label(payment.received_on),
            "method": payment.get_method_display(),
            "balance": money(invoice.balance),
            "paid_in_full": paid,
        }
        email = email_queue(
            key=key,
            to=to.email,
            subject=f"Receipt for your payment to {practice.name}",
            template="payment_receipt",
            context=context,
            practice=practice,
            about=invoice,
            attachments=[
                RenderedAttachment(
                    filename=_filename(invoice, paid), renderer=INVOICE_PDF_RENDERER, object_id=invoice.pk
                )
            ],
        )
        audit_write(
            practice=practice,
            action="payment.receipt_sent",
            actor=Actor.system(RECEIPT_SYSTEM),
            obj=payment,
            changes={"to": to.email, "email": email.pk, "invoice": invoice.pk},
        )
    return email
