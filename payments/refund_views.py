"""Refund through Stripe, on the payment page of an online payment.

The panel (billing.hooks' payment panel) offers the form; its first POST previews in words
what the refund will do to the books, the confirm POST (with the form's one-time key) makes
the refund at Stripe and records it. Owners, admins and billers, as billing's Record refund;
another practice's payment is the same 404 as a missing one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from billing import selectors
from billing.forms import plain, read_decimal
from billing.hooks import Panel
from billing.inputs import AMOUNT_POSITIVE, REASON_REQUIRED, money_problem
from billing.models import Payment
from billing.services import REFUND_PLAN_CHANGED
from billing.submission import (
    ALREADY_RECORDED,
    PAGE_OUT_OF_DATE,
    AlreadySubmitted,
    replay,
    stored_messages,
    submission_key_of,
)
from practice.access import BILLING_ROLES, require_role
from practice.forms import apply_service_errors
from practice.money import practice_money
from practice.numbers import DEFAULT_LOCALE
from practice.types import PracticeRequest

from . import refunds
from .models import RefundAttempt

REFUND_DONE = "Refund of {amount} made through Stripe and recorded."
REFUND_PENDING = "Stripe is processing the refund of {amount}. It is recorded when Stripe confirms it."
REFUND_NO_ANSWER = (
    "Stripe did not answer, so it is not known yet whether {amount} was refunded. Nothing is refunded twice: "
    "use Check with Stripe on this page."
)
REFUND_FAILED = "Nothing was refunded. {problem}"
REFUND_NOT_RECORDED = "The refund of {amount} was made at Stripe but is not in the books yet. {problem}"
NOTHING_TO_CHECK = "No refund through Stripe is waiting for an answer."


class StripeRefundForm(forms.Form):
    """Refund through Stripe: an amount (all that is left by default) and why.
    ``expected`` carries the preview's plan to the confirm step."""

    amount = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    reason = forms.CharField(
        max_length=255,
        error_messages={"required": REASON_REQUIRED},
        help_text="For the practice's records; it is not sent to Stripe.",
    )
    expected = forms.CharField(required=False, widget=forms.HiddenInput())

    def __init__(self, *args: Any, currency: str, locale: str | None = DEFAULT_LOCALE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.locale = locale

    def clean_amount(self) -> Decimal:
        amount = read_decimal(self.cleaned_data["amount"], "amount", self.locale)
        if amount <= 0:
            raise ValidationError(AMOUNT_POSITIVE)
        if problem := money_problem(amount, self.currency):
            raise ValidationError(problem)
        return amount

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise ValidationError(REASON_REQUIRED)
        return reason


def _payment_url(payment: Payment) -> str:
    return reverse("billing:payment", kwargs={"practice_slug": payment.practice.slug, "payment_id": payment.pk})


def _form(payment: Payment, data: Any = None, auto_id: str = "id_%s") -> StripeRefundForm:
    practice = payment.practice
    left = payment.amount - payment.refunded
    return StripeRefundForm(
        data,
        initial={"amount": plain(left, practice.locale)},
        currency=payment.currency,
        locale=practice.locale,
        auto_id=auto_id,
    )


def refund_panel(request: object, payment: Payment) -> Panel | None:
    """billing.hooks' payment panel: Refund through Stripe on an online payment's page, with
    the refunds through Stripe still waiting for Stripe's answer or refused by it."""
    if not refunds.is_online(payment):
        return None
    membership = cast(PracticeRequest, request).membership
    can_refund = membership.role in BILLING_ROLES
    attempts = list(
        RefundAttempt.objects.filter(practice_id=payment.practice_id, payment_id=payment.pk)
        .exclude(status=RefundAttempt.Status.SUCCEEDED)
        .select_related("created_by")
        .order_by("-pk")[:5]
    )
    refusal = refunds.stripe_refund_refusal(payment)
    context: dict[str, object] = {
        "payment": payment,
        "can_refund": can_refund,
        "undecided": [a for a in attempts if a.status in (RefundAttempt.Status.CREATED, RefundAttempt.Status.PENDING)],
        "failed": [a for a in attempts if a.status == RefundAttempt.Status.FAILED],
        "refusal": refusal,
        # Its own ids: the payment page may hold other forms with a reason.
        "form": _form(payment, auto_id="stripe_refund_%s") if can_refund and refusal is None else None,
        "left": payment.amount - payment.refunded,
    }
    return Panel("payments/_payment_refund_panel.html", context)


def _payment(request: PracticeRequest, payment_id: int) -> Payment:
    return selectors.payment_get_for_practice(request.practice, request.membership, payment_id)


def _say(request: PracticeRequest, attempt: RefundAttempt) -> None:
    """The outcome of a refund through Stripe in the person's words."""
    amount = practice_money(request.practice, attempt.amount, currency=attempt.currency)
    if attempt.status == RefundAttempt.Status.SUCCEEDED:
        messages.success(request, REFUND_DONE.format(amount=amount))
    elif attempt.status == RefundAttempt.Status.PENDING:
        messages.success(request, REFUND_PENDING.format(amount=amount))
    elif attempt.status == RefundAttempt.Status.FAILED:
        messages.error(request, REFUND_FAILED.format(problem=attempt.problem))
    elif attempt.stripe_refund_id:
        messages.error(request, REFUND_NOT_RECORDED.format(amount=amount, problem=attempt.problem))
    else:
        messages.error(request, REFUND_NO_ANSWER.format(amount=amount))


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
def stripe_refund(request: PracticeRequest, payment_id: int) -> HttpResponse:
    """Refund through Stripe: the first POST previews the plan in words; the confirm POST
    (carrying the plan shown and the one-time key) makes the refund, or shows the new plan
    if the books changed meanwhile."""
    payment = _payment(request, payment_id)
    back = _payment_url(payment)
    if refusal := refunds.stripe_refund_refusal(payment):
        messages.error(request, refusal)
        return redirect(back)
    data = request.POST if request.method == "POST" else None
    form = _form(payment, data)
    plan = None
    if data is not None and form.is_valid():
        amount = form.cleaned_data["amount"]
        expected = form.cleaned_data["expected"] or None
        if data.get("confirm") and expected:
            key = submission_key_of(request)
            if key is None:
                messages.error(request, PAGE_OUT_OF_DATE)
                return redirect(request.path)
            try:
                attempt = refunds.stripe_refund_start(
                    payment=payment,
                    actor=request.user,
                    amount=amount,
                    reason=form.cleaned_data["reason"],
                    expected=expected,
                    submission_key=key,
                    result_url=back,
                )
            except AlreadySubmitted as first:
                messages.info(request, ALREADY_RECORDED)
                replay(request, first.result_message)
                return redirect(first.result_url or back)
            except ValidationError as exc:
                if getattr(exc, "code", None) == "plan_changed":
                    form.add_error(None, REFUND_PLAN_CHANGED)
                else:
                    apply_service_errors(form, exc)
            else:
                attempt = refunds.stripe_refund_send(attempt)
                _say(request, attempt)
                refunds.claim_result_save(payment=payment, key=key, message=stored_messages(request))
                return redirect(back)
        try:
            plan = refunds.stripe_refund_preview(payment=payment, amount=amount)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            plan = None
        else:
            # The confirm step posts the plan shown, so a changed one is not refunded silently.
            shown = request.POST.copy()
            shown["expected"] = plan.token()
            form.data = shown

    def money(amount: Decimal) -> str:
        return practice_money(request.practice, amount, currency=payment.currency)

    context = {
        "payment": payment,
        "form": form,
        "plan": plan,
        "plan_words": plan.sentences(money) if plan else [],
        "left": payment.amount - payment.refunded,
    }
    return render(request, "payments/stripe_refund.html", context, status=400 if form.errors else 200)


@require_POST
@require_role(*BILLING_ROLES)
def stripe_refund_check(request: PracticeRequest, payment_id: int) -> HttpResponse:
    """Check with Stripe: the payment's refund still waiting for an answer is sent again
    under its own key (Stripe answers with the refund it made, or makes it now, once)."""
    payment = _payment(request, payment_id)
    attempt = refunds.undecided_attempt(payment)
    if attempt is None:
        messages.info(request, NOTHING_TO_CHECK)
    else:
        _say(request, refunds.stripe_refund_check(attempt))
    return redirect(_payment_url(payment))
