"""Take payment on the staff invoice page: a Checkout Session for the balance (or part of it,
where the practice allows part-payments) on Stripe's hosted card page, for a client on the
phone or in the room; the page Stripe sends the browser back to; and a card payment held
for review (its notices on the invoice and the Billing page, and Record what Stripe took).

Owners, admins and billers only (the roles that bill); the invoice is read through
billing's selector, so another practice's invoice is a 404. The return page never trusts
the redirect: it re-reads the session from Stripe and says Processing until Stripe says paid.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing import selectors as billing_selectors
from billing import submission
from billing.hooks import Panel
from billing.models import Invoice, SubmissionKey
from practice.access import BILLING_ROLES, OWNER_OR_ADMIN, require_role
from practice.money import practice_money
from practice.types import PracticeRequest

from . import gateway, part_payments, review
from .checkout import AmountRefused, CheckoutRefused, checkout_refresh, checkout_start
from .checkout_views import _checkout_origins
from .invoice_page import invoice_page_shown
from .models import CheckoutAttempt, StripeAccount

NOT_SET_UP = (
    "Card payments through Stripe are not set up for this practice, so Take payment is off. "
    "An owner or admin can connect Stripe in Settings > Online payments."
)
DISCONNECTED = (
    "Stripe is disconnected, so Take payment is off. An owner or admin can connect it again "
    "in Settings > Online payments."
)
CANNOT_CHARGE = (
    "Stripe cannot take card payments for this practice yet ({status}), so Take payment is off. "
    "It starts once Stripe has what it needs: see Settings > Online payments."
)
STRIPE_UNREACHABLE = "Stripe could not be reached, so nothing was charged. Try again in a moment."
STRIPE_UNREACHABLE_RECORD = "Stripe could not be reached, so nothing was recorded. Try again in a moment."
PAYMENT_RECEIVED = "Card payment of {amount} received for invoice {number}."
PAYMENT_HELD = (
    "Stripe's amount for this card payment is not what was asked, so it is held for review and "
    "nothing was recorded. See the notice on the invoice."
)
HELD_FIRST = (
    "A card payment for this invoice is held for review (see the notice above): record it or refund "
    "it before taking another."
)
PAYMENT_NOT_COMPLETED = "The card payment was not completed: nothing was charged."


def _can_bill(request: PracticeRequest) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.role in BILLING_ROLES


def _invoice(request: PracticeRequest, invoice_id: int) -> Invoice:
    return billing_selectors.invoice_get_for_practice(request.practice, request.membership, invoice_id)


def take_payment_unavailable(request: PracticeRequest) -> str | None:
    """Why Take payment cannot be used in this practice now (None when it can)."""
    return take_payment_refusal(StripeAccount.objects.filter(practice=request.practice).first())


def take_payment_refusal(account: StripeAccount | None) -> str | None:
    """Why Take payment cannot be used with the practice's ``account`` (None when it can)."""
    if account is None:
        return NOT_SET_UP
    if account.status == StripeAccount.Status.DISCONNECTED:
        return DISCONNECTED
    if not account.charges_enabled:
        return CANNOT_CHARGE.format(status=account.status.label)
    return None


# --- what payments adds to billing's pages ----------------------------------------------------


def take_payment_panel(request: object, invoice: Invoice) -> Panel | None:
    """billing.hooks' invoice panel: Take payment, or why it is off."""
    req: PracticeRequest = request  # type: ignore[assignment]
    if not _can_bill(req) or not invoice.can_take_payment():
        return None
    practice = req.practice
    shown = invoice_page_shown(invoice)
    if shown.held:
        return Panel("payments/_take_payment_panel.html", {"unavailable": HELD_FIRST, "settings_url": ""})
    if (why := take_payment_refusal(shown.account)) is not None:
        settings_url = (
            reverse("payments:online_payments", kwargs={"practice_slug": practice.slug})
            if req.membership.role in OWNER_OR_ADMIN
            else ""
        )
        return Panel("payments/_take_payment_panel.html", {"unavailable": why, "settings_url": settings_url})
    choice = part_payments.amount_choice(practice, invoice.balance)
    context: dict[str, object] = {
        "action_url": reverse(
            "payments:take_payment", kwargs={"practice_slug": practice.slug, "invoice_id": invoice.pk}
        ),
        "balance": invoice.balance,
        "balance_label": practice_money(practice, invoice.balance),
        "choice": choice,
    }
    return Panel("payments/_take_payment_panel.html", context, form_origins=_checkout_origins())


def held_invoice_notice(request: object, invoice: Invoice) -> Panel | None:
    """billing.hooks' invoice notice: card payments of this invoice held for review."""
    req: PracticeRequest = request  # type: ignore[assignment]
    if not _can_bill(req) or not invoice_page_shown(invoice).held:
        return None
    held = review.held_for_invoice(req.practice, invoice.pk)
    if not held:
        return None
    practice = req.practice
    rows = [
        {
            "attempt": attempt,
            "taken": practice_money(practice, attempt.stripe_amount, currency=attempt.stripe_currency),
            "expected": practice_money(practice, attempt.amount, currency=attempt.currency),
            "refusal": review.held_refusal(attempt),
        }
        for attempt in held
    ]
    action_url = reverse("payments:held_record", kwargs={"practice_slug": practice.slug, "invoice_id": invoice.pk})
    return Panel("payments/_held_invoice_notice.html", {"rows": rows, "action_url": action_url})


def held_billing_notice(request: object) -> Panel | None:
    """billing.hooks' Billing page notice: the practice's card payments held for review."""
    req: PracticeRequest = request  # type: ignore[assignment]
    if not _can_bill(req):
        return None
    shown = 20
    held = list(review.held_attempts(req.practice)[:shown])
    if not held:
        return None
    count = len(held) if len(held) < shown else review.held_attempts(req.practice).count()
    numbers = dict(
        Invoice.objects.filter(practice=req.practice, pk__in={a.invoice_id for a in held}).values_list("pk", "number")
    )
    invoices = [(invoice_id, numbers.get(invoice_id) or "") for invoice_id in dict.fromkeys(a.invoice_id for a in held)]
    return Panel("payments/_held_billing_notice.html", {"count": count, "invoices": invoices})


# --- Take payment ------------------------------------------------------------------------------


def _back(invoice: Invoice) -> HttpResponse:
    return redirect(invoice.get_absolute_url())


def _posted_decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw) if raw else None
    except InvalidOperation:
        return None


@require_role(*BILLING_ROLES)
@require_POST
def take_payment(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    key = submission.submission_key_of(request)
    if key is None:
        messages.error(request, submission.PAGE_OUT_OF_DATE)
        return _back(invoice)
    claim: SubmissionKey | None = None
    try:
        with transaction.atomic():
            claim = submission.submission_claim(
                practice=request.practice, key=key, action="take payment", actor=request.user
            )
    except submission.AlreadySubmitted as first:
        if first.result_url:
            return redirect(first.result_url)
        # The first click is still waiting for Stripe: asking again names the same attempt,
        # and so the same idempotency key, and Stripe answers with the same session.
    if (why := take_payment_unavailable(request)) is not None:
        return _refused(request, invoice, claim, why)
    amount = None
    if "amount" in request.POST:
        try:
            amount = part_payments.read_amount(request.POST["amount"], request.practice)
        except ValueError as problem:
            return _refused(request, invoice, claim, str(problem))
    try:
        url = checkout_start(
            invoice,
            expected_balance=_posted_decimal(request.POST.get("balance", "")),
            amount=amount,
            source=CheckoutAttempt.Source.STAFF,
            created_by=request.user,
        )
    except (AmountRefused, CheckoutRefused) as refusal:
        return _refused(request, invoice, claim, str(refusal))
    except gateway.StripeError:
        # The attempt stays: the next click reuses it and its key, so at most one session.
        return _refused(request, invoice, claim, STRIPE_UNREACHABLE)
    if claim is not None:
        claim.result_url = url[:500]
        claim.save(update_fields=["result_url"])
    return redirect(url)


def _refused(request: PracticeRequest, invoice: Invoice, claim: SubmissionKey | None, message: str) -> HttpResponse:
    if claim is not None:
        claim.delete()  # the same form may try again once the problem is fixed
    messages.error(request, message)
    return _back(invoice)


@require_role(*BILLING_ROLES)
@require_GET
def take_payment_return(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    """Back from Stripe's page (paid or cancelled): settle from Stripe's own state."""
    invoice = _invoice(request, invoice_id)
    raw = request.GET.get("attempt", "")
    attempt = (
        CheckoutAttempt.objects.filter(
            practice=request.practice, invoice_id=invoice.pk, pk=raw, source=CheckoutAttempt.Source.STAFF
        ).first()
        if raw.isdecimal()
        else None
    )
    if attempt is None:
        raise Http404("No such card payment.")
    # Stripe unreachable for now: Processing, and the page tries again.
    with contextlib.suppress(gateway.StripeError):
        attempt = checkout_refresh(attempt)
    money = practice_money(request.practice, attempt.amount, currency=attempt.currency)
    if attempt.status == CheckoutAttempt.Status.PAID:
        messages.success(request, PAYMENT_RECEIVED.format(amount=money, number=invoice.number))
        return _back(invoice)
    if attempt.status == CheckoutAttempt.Status.HELD:
        messages.error(request, PAYMENT_HELD)
        return _back(invoice)
    if attempt.status == CheckoutAttempt.Status.EXPIRED or request.GET.get("cancelled"):
        messages.info(request, PAYMENT_NOT_COMPLETED)
        return _back(invoice)
    context = {"invoice": invoice, "attempt": attempt, "amount": money}
    response = render(request, "payments/take_payment_return.html", context)
    response["Cache-Control"] = "no-store"
    return response


# --- a payment held for review --------------------------------------------------------------


@require_role(*BILLING_ROLES)
@require_POST
@submission.once("checkout.held_recorded", back="billing:invoice")
def held_record(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    """Record what Stripe took for a held card payment (once)."""
    invoice = _invoice(request, invoice_id)
    raw = request.POST.get("attempt", "")
    if not raw.isdecimal():
        raise Http404("No such card payment.")
    try:
        payment = review.checkout_held_resolve(
            practice=request.practice, invoice_id=invoice.pk, attempt_id=int(raw), actor=request.user
        )
    except CheckoutAttempt.DoesNotExist:
        raise Http404("No such card payment.") from None
    except review.HeldAlreadyRecorded:
        messages.info(request, review.HELD_ALREADY)
        return _back(invoice)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(invoice)
    except gateway.StripeError:
        messages.error(request, STRIPE_UNREACHABLE_RECORD)
        return _back(invoice)
    amount = practice_money(request.practice, payment.amount)
    messages.success(request, review.HELD_RECORDED.format(amount=amount, number=invoice.number))
    return _back(invoice)
