"""Payment pages: Add payment (for an invoice or a client, with its allocation), the
client picker, a payment's page and deleting a hand payment.

Who may do what: owners, admins and billers record payments; a clinician may read the
payments of their own clients (others are a 404); deleting a payment is for owners and
admins only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clients import selectors as client_selectors
from practice.access import BILLING_ROLES, OWNER_OR_ADMIN, require_role
from practice.forms import apply_service_errors
from practice.numbers import number_signs
from practice.types import PracticeRequest

from .. import forms, hooks, selectors, services, submission
from ..models import Payment
from ..money import minor_units
from .common import _can_bill, _client, _code, _invoice, _membership, _messages_of, _money, _practice

PAYMENT_RECORDED = "Payment of {amount} recorded."
ALLOCATION_CHECK = (
    "{number} owes {owed}: the rest of this payment goes to the other open invoices as shown below. "
    "Check the allocation, then add the payment."
)
PAYMENT_DELETED = "Payment deleted. The invoices it paid owe that amount again."


@require_role(*BILLING_ROLES)
@submission.once("payment.recorded")
def payment_new(request: PracticeRequest) -> HttpResponse:
    """Add payment, for an invoice (?invoice=) or a client (?client=): amount, date, method,
    reference and its allocation to the client's open invoices, oldest first by default.
    More than the invoices owe is a question ("Keep as credit"), not an error."""
    practice = _practice(request)
    invoice = None
    raw_invoice = request.GET.get("invoice", "")
    if raw_invoice:
        if not raw_invoice.isdecimal():
            raise Http404("No such invoice.")
        invoice = _invoice(request, int(raw_invoice))
        client = invoice.client
        # A draft, paid, void or credit invoice takes no payment: say so, record nothing
        # (never quietly book the money on another invoice).
        if refusal := services.payment_refusal(invoice):
            messages.error(request, refusal)
            return redirect(invoice.get_absolute_url())
    elif "client" not in request.GET:
        # From the Billing page: choose the client first.
        return redirect("billing:payment_client_pick", practice_slug=practice.slug)
    else:
        client = _client(request, request.GET.get("client", ""))
    # The invoice the form was opened from comes first; the rest oldest first.
    open_invoices = services.allocation_order(selectors.client_open_invoices(practice, client), invoice)
    today = practice.local_today()
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {"received_on": today}
    if invoice is not None and invoice in open_invoices:
        initial["amount"] = forms.plain(invoice.balance, practice.locale)
        initial[f"alloc_{invoice.pk}"] = forms.plain(invoice.balance, practice.locale)
    form = forms.PaymentForm(
        data,
        initial=initial,
        open_invoices=open_invoices,
        currency=practice.currency,
        locale=practice.locale,
        practice=practice,
    )
    question = None
    notice = None
    if data is not None and form.is_valid() and invoice is not None and form.cleaned_data["allocations"] is None:
        # No allocation typed: if the money would not all go to this invoice, show where it
        # goes (the inputs filled in) before anything is saved.
        plan = services.default_allocation(open_invoices, form.cleaned_data["amount"])
        if set(plan) - {invoice.pk}:
            shown = data.copy()
            for invoice_id, share in plan.items():
                shown[f"alloc_{invoice_id}"] = forms.plain(share)
            form = forms.PaymentForm(shown, open_invoices=open_invoices, currency=practice.currency)
            form.is_valid()
            notice = ALLOCATION_CHECK.format(number=invoice.number, owed=_money(request, invoice.balance))
    if data is not None and notice is None and form.is_valid():
        try:
            result = services.payment_record_manual(
                practice=practice,
                client=client,
                actor=request.user,
                amount=form.cleaned_data["amount"],
                received_on=form.cleaned_data["received_on"],
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
                allocations=form.cleaned_data["allocations"],
                overpayment_to_credit=form.cleaned_data["overpayment_to_credit"],
                for_invoice=invoice,
            )
        except ValidationError as exc:
            if _code(exc) == "overpayment":
                question = services.OVERPAYMENT_QUESTION
            elif _code(exc) == "takes_no_payments" and invoice is not None:
                # Paid or voided in another tab since the form was shown.
                messages.error(request, exc.messages[0])
                return redirect(invoice.get_absolute_url())
            else:
                apply_service_errors(form, exc)
        else:
            messages.success(request, PAYMENT_RECORDED.format(amount=_money(request, result.payment.amount)))
            if invoice is not None:
                return redirect(invoice.get_absolute_url())
            return redirect("clients:billing", practice_slug=practice.slug, client_id=client.pk)
    context = {
        "form": form,
        "client": client,
        "invoice": invoice,
        "open_invoices": open_invoices,
        "question": question,
        "notice": notice,
        "query": request.GET.urlencode(),
        "owed": sum((i.balance for i in open_invoices), Decimal("0")),
        "places": minor_units(practice.currency),
        "number_signs": number_signs(practice.locale),
    }
    status = 200 if data is None or question or notice else 400
    return render(request, "billing/payment_form.html", context, status=status)


@require_GET
@require_role(*BILLING_ROLES)
def payment_client_pick(request: PracticeRequest) -> HttpResponse:
    """Add payment from the Billing page: find the client first (type-ahead with htmx, or
    the plain search form without JavaScript), then their Add payment form."""
    q = request.GET.get("q", "")[:100]
    clients = client_selectors.client_search(_practice(request), _membership(request), q)
    context = {"q": q, "clients": clients, "searched": bool(q.strip()), "can_bill": True}
    return render(request, "billing/payment_client_pick.html", context)


@require_GET
def client_search(request: PracticeRequest) -> HttpResponse:
    """The client picker's results (an htmx partial): clients of this practice the viewer
    may see (a clinician only their own), at most CLIENT_SEARCH_LIMIT of them."""
    q = request.GET.get("q", "")[:100]
    clients = client_selectors.client_search(_practice(request), _membership(request), q)
    context = {"q": q, "clients": clients, "searched": bool(q.strip()), "can_bill": _can_bill(request)}
    return render(request, "billing/_client_search_results.html", context)


def _payment_context(request: PracticeRequest, payment: Payment, **extra: Any) -> dict[str, Any]:
    context = {
        "payment": payment,
        "allocations": list(payment.allocations.all()),
        "can_delete": _membership(request).role in OWNER_OR_ADMIN and payment.can_reverse(),
        "delete_form": forms.ReasonForm(),
        "can_refund": _can_bill(request) and payment.can_refund(),
        "refunds": list(payment.refunds.select_related("created_by").prefetch_related("allocations__invoice")),
        # What apps above billing show here (payments: the processor's ids, fee, refund through Stripe).
        "payment_panels": hooks.payment_panels_for(request, payment),
    }
    context.update(extra)
    return context


def payment_detail(request: PracticeRequest, payment_id: int) -> HttpResponse:
    payment = selectors.payment_get_for_practice(_practice(request), _membership(request), payment_id)
    return render(request, "billing/payment_detail.html", _payment_context(request, payment))


@require_POST
@require_role(*OWNER_OR_ADMIN)
@submission.once("payment.reversed", back="billing:payment")
def payment_delete(request: PracticeRequest, payment_id: int) -> HttpResponse:
    """Delete a hand payment: a reversing ledger entry, with a reason. Owners and admins only."""
    payment = selectors.payment_get_for_practice(_practice(request), _membership(request), payment_id)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.payment_reverse(
                payment=payment,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            if services.PAYMENT_ALREADY_REVERSED in _messages_of(exc):
                # Deleted in another tab: the page as it is now, the message on top.
                messages.warning(request, services.PAYMENT_ALREADY_REVERSED)
                payment.refresh_from_db()
                return render(request, "billing/payment_detail.html", _payment_context(request, payment), status=409)
            apply_service_errors(form, exc)
        else:
            messages.success(request, PAYMENT_DELETED)
            return redirect("billing:payment", practice_slug=_practice(request).slug, payment_id=payment.pk)
    return render(
        request, "billing/payment_detail.html", _payment_context(request, payment, delete_form=form), status=400
    )
