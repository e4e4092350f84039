"""Pay online from a payment link: start a Checkout Session, come back from it.

These pages need no sign-in, like the payment link itself. The return page never trusts
the redirect: it re-reads the session from Stripe and says Processing until Stripe says paid.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing.hooks import PayOnline
from billing.models import Invoice
from billing.payment_links import LinkExpired, LinkInvalid, payment_link_path, payment_link_read
from billing.selectors.sending import invoice_for_link

from . import gateway, part_payments
from .checkout import (
    ONLINE_UNAVAILABLE,
    UNDER_REVIEW,
    AmountRefused,
    CheckoutRefused,
    attempt_from_token,
    charges_account,
    checkout_refresh,
    checkout_start,
    held_for_review,
    invoice_refusal,
)
from .models import CheckoutAttempt, StripeAccount

STRIPE_UNAVAILABLE = "Online payment is not available right now, and nothing has been charged. Try again in a moment."


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def pay_online_offer(invoice: Invoice, token: str) -> PayOnline | None:
    """billing.hooks' provider: Pay online where the practice has a Stripe account."""
    if invoice_refusal(invoice) is not None:
        return None
    if not StripeAccount.objects.filter(practice_id=invoice.practice_id).exists():
        return None
    if held_for_review(invoice.practice_id, invoice.pk):
        return PayOnline(action_url=None, message=UNDER_REVIEW.format(practice=invoice.practice.name))
    if charges_account(invoice.practice_id) is None:
        return PayOnline(action_url=None, message=ONLINE_UNAVAILABLE.format(practice=invoice.practice.name))
    choice = part_payments.amount_choice(invoice.practice, invoice.balance)
    return PayOnline(
        action_url=reverse("checkout_start", kwargs={"token": token}),
        form_origins=_checkout_origins(),
        choose_amount=choice.choose,
        amount_initial=choice.initial,
        amount_help=choice.help,
    )


def _checkout_origins() -> tuple[str, ...]:
    """Stripe's hosted Checkout (and the fake's, where the app talks to it)."""
    origins = ["https://checkout.stripe.com"]
    if settings.STRIPE_API_BASE:
        parts = urlsplit(settings.STRIPE_API_BASE)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(origins)


def _refused(
    request: HttpRequest, message: str, invoice: Invoice | None, token: str | None, status: int = 409
) -> HttpResponse:
    context = {"message": message, "invoice": invoice, "token": token}
    return _private(render(request, "payments/checkout_refused.html", context, status=status))


# No CSRF check: the payment link's token in the URL is the whole authority (no sign-in, no
# cookie), so a forged POST could do only what the token's holder can do anyway. And the pay
# page's Referrer-Policy: no-referrer makes browsers send "Origin: null", which the check refuses.
@csrf_exempt
@require_POST
def checkout_start_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        target = payment_link_read(token)
    except (LinkExpired, LinkInvalid):
        raise Http404 from None
    invoice = invoice_for_link(target.practice_id, target.invoice_id)
    if invoice is None or invoice.status == Invoice.Status.DRAFT or invoice.is_credit:
        raise Http404
    try:
        expected: Decimal | None = Decimal(request.POST["balance"]) if request.POST.get("balance") else None
    except InvalidOperation:
        expected = None
    amount = None
    if "amount" in request.POST:
        try:
            amount = part_payments.read_amount(request.POST["amount"], invoice.practice)
        except ValueError as problem:
            return _refused(request, str(problem), invoice, token, status=400)
    try:
        url = checkout_start(invoice, expected_balance=expected, amount=amount)
    except AmountRefused as refusal:
        return _refused(request, str(refusal), invoice, token, status=400)
    except CheckoutRefused as refusal:
        return _refused(request, str(refusal), invoice, token)
    except gateway.StripeError:
        # stripe-python already tried again with the same key; the attempt stays, so the
        # next try reuses its key and Stripe answers with the one session.
        return _refused(request, STRIPE_UNAVAILABLE, invoice, token, status=503)
    return _private(HttpResponseRedirect(url, status=303))


def _attempt(token: str) -> CheckoutAttempt:
    attempt = attempt_from_token(token)
    if attempt is None:
        raise Http404
    return attempt


@require_GET
def checkout_return_view(request: HttpRequest, token: str) -> HttpResponse:
    attempt = checkout_refresh(_attempt(token))
    invoice = Invoice.objects.filter(practice_id=attempt.practice_id, pk=attempt.invoice_id).first()
    context = {
        "attempt": attempt,
        "practice": attempt.practice,
        "number": invoice.number if invoice else "",
        "pay_url": payment_link_path(invoice) if invoice else "",
        "paid": attempt.status == CheckoutAttempt.Status.PAID,
        "expired": attempt.status == CheckoutAttempt.Status.EXPIRED,
        # Stripe's figures were not the attempt's: the practice checks it (payments.review).
        "held": attempt.status == CheckoutAttempt.Status.HELD,
    }
    return _private(render(request, "payments/checkout_return.html", context))


@require_GET
def checkout_cancel_view(request: HttpRequest, token: str) -> HttpResponse:
    attempt = _attempt(token)
    invoice = Invoice.objects.filter(practice_id=attempt.practice_id, pk=attempt.invoice_id).first()
    if invoice is None:
        raise Http404
    return _private(redirect(payment_link_path(invoice)))
