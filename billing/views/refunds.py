"""Record refund (payment page) and Write off (invoice page): money given back, or given
up. Owners, admins and billers only; another practice's ids are the same 404 as missing
ones.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from practice.access import BILLING_ROLES, require_role
from practice.forms import apply_service_errors
from practice.types import PracticeRequest

from .. import forms, selectors, services, submission
from ..models import Payment
from .common import _money
from .invoices import invoice_page

REFUND_RECORDED = "Refund of {amount} recorded."
REFUND_WILL = "Recording this refund: {what}."
WRITTEN_OFF = "Invoice {number} written off: {amount}."


def _payment(request: PracticeRequest, payment_id: int) -> Payment:
    return selectors.payment_get_for_practice(request.practice, request.membership, payment_id)


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
@submission.once("payment.refunded")
def payment_refund(request: PracticeRequest, payment_id: int) -> HttpResponse:
    """Record refund. The first POST shows what the refund will do in words (which invoice
    owes what again, how much credit goes); the confirm POST records that plan, or shows
    the new one if the books changed meanwhile."""
    practice = request.practice
    payment = _payment(request, payment_id)
    if not payment.can_refund():
        messages.error(request, services.REFUND_NOTHING_LEFT if payment.refunded else _refusal(payment))
        return redirect("billing:payment", practice_slug=practice.slug, payment_id=payment.pk)
    left = payment.amount - payment.refunded
    initial: dict[str, Any] = {
        "amount": forms.plain(left),
        "refunded_on": practice.local_today(),
        "method": payment.method if payment.method in services.REFUND_METHODS else Payment.Method.CASH,
    }
    data = request.POST if request.method == "POST" else None
    form = forms.RefundForm(data, initial=initial, currency=practice.currency, locale=practice.locale)
    plan = None
    if data is not None and form.is_valid():
        amount = form.cleaned_data["amount"]
        expected = form.cleaned_data["expected"] or None
        if data.get("confirm") and expected:
            try:
                services.refund_record(
                    payment=payment,
                    actor=request.user,
                    amount=amount,
                    refunded_on=form.cleaned_data["refunded_on"],
                    method=form.cleaned_data["method"],
                    reason=form.cleaned_data["reason"],
                    expected=expected,
                )
            except ValidationError as exc:
                if getattr(exc, "code", None) == "plan_changed":
                    form.add_error(None, services.REFUND_PLAN_CHANGED)
                else:
                    apply_service_errors(form, exc)
            else:
                messages.success(request, REFUND_RECORDED.format(amount=_money(request, amount)))
                return redirect("billing:payment", practice_slug=practice.slug, payment_id=payment.pk)
        try:
            plan = services.refund_preview(payment=payment, amount=amount)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            plan = None
        else:
            # The confirm step posts the plan shown, so a changed one is not recorded silently.
            shown = request.POST.copy()
            shown["expected"] = plan.token()
            form.data = shown
    context = {
        "payment": payment,
        "form": form,
        "plan": plan,
        "plan_words": plan.sentences(lambda a: _money(request, a)) if plan else [],
        "left": left,
    }
    status = 400 if form.errors else 200
    return render(request, "billing/payment_refund.html", context, status=status)


def _refusal(payment: Payment) -> str:
    if payment.status == Payment.Status.REVERSED:
        return services.REFUND_PAYMENT_DELETED
    if payment.method in (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE):
        return services.REFUND_CARD
    return services.REFUND_NOTHING_LEFT


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.written_off", back="billing:invoice")
def invoice_write_off(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.invoice_get_for_practice(request.practice, request.membership, invoice_id)
    form = forms.WriteOffForm(request.POST)
    if form.is_valid():
        try:
            written = services.invoice_write_off(
                invoice=invoice, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            amount = written.written_off
            messages.success(request, WRITTEN_OFF.format(number=written.number, amount=_money(request, amount)))
            return redirect(written.get_absolute_url())
    return invoice_page(request, invoice, status=400, write_off_form=form)
