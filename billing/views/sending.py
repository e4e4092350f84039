"""Send, Send payment link and Retry on an invoice page, and what the page shows of them
(the send log, the payment link to copy). Owners, admins and billers send; a clinician
reads the log of the invoices they may see."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from practice.access import BILLING_ROLES, require_role
from practice.types import PracticeRequest

from .. import submission
from ..forms.sending import InvoiceSendForm
from ..models import Invoice
from ..payment_links import payment_link_url
from ..selectors.sending import invoice_send_log
from ..services import sending
from .common import _can_bill, _invoice, _messages_of, _practice

INVOICE_SENT = "Invoice {number} is on its way to {to}."
LINK_SENT = "The payment link for invoice {number} is on its way to {to}."
RETRIED = "Sending the email to {to} again."


def invoice_send_context(request: PracticeRequest, invoice: Invoice) -> dict[str, Any]:
    """What the invoice page shows about sending it."""
    can_bill = _can_bill(request)
    linkable = invoice.status in (Invoice.Status.OPEN, Invoice.Status.PAID) and not invoice.is_credit
    return {
        "send_log": invoice_send_log(_practice(request), invoice),
        "send_refusal": sending.invoice_send_refusal(invoice) if can_bill else None,
        "payment_link": payment_link_url(invoice) if can_bill and linkable else "",
    }


def _send(request: PracticeRequest, invoice_id: int, kind: str) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    link_only = kind == sending.SendKind.LINK
    refusal = sending.invoice_send_refusal(invoice)
    if refusal:
        messages.error(request, refusal)
        return redirect(invoice.get_absolute_url())
    recipients = sending.invoice_recipients(invoice)
    form = InvoiceSendForm(
        request.POST or None,
        recipients=recipients,
        link_only=link_only,
        initial=sending.invoice_send_defaults(invoice, kind),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            email = sending.invoice_send(
                invoice=invoice,
                actor=request.user,
                kind=kind,
                recipient=data["recipient"],
                subject=data["subject"],
                message=data["message"],
                include_link=link_only or data.get("include_link", False),
                submission_key=submission.submission_key_of(request) or "",
            )
        except ValidationError as exc:
            for message in _messages_of(exc):
                form.add_error(None, message)
        else:
            invoice.refresh_from_db(fields=["number", "status"])
            done = LINK_SENT if link_only else INVOICE_SENT
            messages.success(request, done.format(number=invoice.number, to=email.to))
            return redirect(invoice.get_absolute_url())
    return render(
        request,
        "billing/invoice_send.html",
        {"invoice": invoice, "form": form, "link_only": link_only, "is_draft": invoice.status == Invoice.Status.DRAFT},
        status=400 if form.errors else 200,
    )


@require_role(*BILLING_ROLES)
@submission.once("invoice.sent", back="billing:invoice")
def invoice_send(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    return _send(request, invoice_id, sending.SendKind.INVOICE)


@require_role(*BILLING_ROLES)
@submission.once("invoice.link_sent", back="billing:invoice")
def invoice_send_link(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    return _send(request, invoice_id, sending.SendKind.LINK)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.send_retried", back="billing:invoice")
def invoice_send_retry(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    raw = request.POST.get("email", "")
    try:
        if not raw.isascii() or not raw.isdigit():
            raise ValidationError(sending.NOT_RETRYABLE)
        email = sending.invoice_send_retry(invoice=invoice, email_id=int(raw), actor=request.user)
    except ValidationError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, RETRIED.format(to=email.to))
    return redirect(invoice.get_absolute_url())
