"""The client portal's payment pages: Make payment and Pay full balance through Stripe
Checkout, and the way back from it. Payment methods and Pay with a saved card are in
payments/portal_card_views.py, AutoPay in payments/portal_autopay_views.py.

Checkout brings the client back to the portal; the return page never trusts the redirect:
it re-reads the session from Stripe and shows Processing until Stripe says paid, then the
invoice showing Paid. Every invoice, client and attempt is looked up inside the signed-in
person's scope (clients.portal): another client's id is a 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import cast

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing.hooks import Panel
from billing.models import Invoice
from billing.selectors.portal import portal_invoice_get
from clients.portal import PortalRequest, portal_client_ids, portal_required
from practice.money import practice_money

from .checkout import (
    ONLINE_UNAVAILABLE,
    CheckoutRefused,
    attempt_from_token,
    charges_account,
    checkout_refresh,
    checkout_start,
    checkout_start_balance,
    invoice_refusal,
)
from .checkout_views import _checkout_origins
from .models import CheckoutAttempt, StripeAccount

PAID_THANKS = "Thank you: your payment of {amount} was received."
PAYMENT_CANCELLED = "Payment cancelled. Nothing was charged."
PAYMENT_EXPIRED = "This payment was not completed and has expired. Nothing was charged: you can try again."
PAYMENT_HELD = (
    "Stripe took a different amount than expected, so {practice} is checking your payment before it is "
    "applied. Nothing more will be charged; they will be in touch if anything is needed."
)


def _expected(raw: str | None) -> Decimal | None:
    try:
        return Decimal(raw) if raw else None
    except InvalidOperation:
        return None


# --- what the portal's billing pages show (registered in billing.hooks) --------------------


def _online_offer(practice_id: int, practice_name: str) -> str | None:
    """None when card payments can be taken now; else why not (or "" when the practice
    takes no online payments at all, so nothing is shown)."""
    if charges_account(practice_id) is not None:
        return None
    if StripeAccount.objects.filter(practice_id=practice_id).exists():
        return ONLINE_UNAVAILABLE.format(practice=practice_name)
    return ""


def portal_make_payment_panel(request: object, invoice: Invoice) -> Panel | None:
    """Make payment (Stripe Checkout) in an invoice's details, when it owes something."""
    if invoice_refusal(invoice) is not None:
        return None
    unavailable = _online_offer(invoice.practice_id, invoice.practice.name)
    if unavailable == "":
        return None
    return Panel("payments/portal/_make_payment.html", {"invoice": invoice, "unavailable": unavailable})


def portal_pay_balance_panel(request: object, invoices: Sequence[Invoice]) -> Panel | None:
    """Pay full balance on Billing: one Checkout for every open invoice of a client (one
    button per client for a payer: a payment belongs to one client's account)."""
    req = cast(PortalRequest, request)  # billing calls it from a portal page
    if not invoices:
        return None
    unavailable = _online_offer(req.practice.pk, req.practice.name)
    if unavailable == "":
        return None
    balances: list[dict[str, object]] = []
    for client in req.portal_clients:
        own = [invoice for invoice in invoices if invoice.client_id == client.pk]
        if own:
            total = sum((invoice.balance for invoice in own), Decimal("0"))
            balances.append({"client": client, "total": total, "count": len(own)})
    return Panel(
        "payments/portal/_pay_balance.html",
        {"balances": balances, "unavailable": unavailable, "several": len(balances) > 1},
    )


# --- paying ------------------------------------------------------------------------------


@require_POST
@portal_required
def invoice_pay(request: PortalRequest, invoice_id: int) -> HttpResponse:
    """Make payment: a Checkout Session for the invoice's balance (what the page showed)."""
    invoice = portal_invoice_get(request, invoice_id)
    try:
        url = checkout_start(
            invoice, expected_balance=_expected(request.POST.get("balance")), source=CheckoutAttempt.Source.PORTAL
        )
    except CheckoutRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("portal:invoice", invoice_id=invoice.pk)
    return HttpResponseRedirect(url, status=303)


@require_POST
@portal_required
def pay_balance(request: PortalRequest) -> HttpResponse:
    """Pay full balance: one Checkout Session for every open invoice of one client."""
    raw = request.POST.get("client", "")
    client = next((c for c in request.portal_clients if str(c.pk) == raw), None)
    if client is None:
        raise Http404("No such client.")
    try:
        url = checkout_start_balance(client=client, expected_total=_expected(request.POST.get("total")))
    except CheckoutRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("portal:home")
    return HttpResponseRedirect(url, status=303)


def _attempt(request: PortalRequest, token: str) -> CheckoutAttempt:
    attempt = attempt_from_token(token)
    if (
        attempt is None
        or attempt.practice_id != request.practice.pk
        or attempt.client_id not in portal_client_ids(request)
        or attempt.source != CheckoutAttempt.Source.PORTAL
    ):
        raise Http404("No such payment.")
    return attempt


def _back(attempt: CheckoutAttempt) -> str:
    """The page a finished attempt returns to: its invoice, or Billing for several."""
    if attempt.invoices.exists():
        return reverse("portal:home")
    return reverse("portal:invoice", kwargs={"invoice_id": attempt.invoice_id})


@require_GET
@portal_required
def checkout_return(request: PortalRequest, token: str) -> HttpResponse:
    """Back from Checkout: Paid once Stripe says so (the invoice's page), else Processing,
    which asks again every few seconds (htmx) or on Check again."""
    attempt = checkout_refresh(_attempt(request, token))
    if attempt.status == CheckoutAttempt.Status.PAID:
        messages.success(request, PAID_THANKS.format(amount=practice_money(request.practice, attempt.amount)))
        url = _back(attempt)
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    if attempt.status == CheckoutAttempt.Status.EXPIRED:
        messages.error(request, PAYMENT_EXPIRED)
        return redirect(_back(attempt))
    if attempt.status == CheckoutAttempt.Status.HELD:
        messages.info(request, PAYMENT_HELD.format(practice=request.practice.name))
        return redirect(_back(attempt))
    context = {"attempt": attempt, "back": _back(attempt), "poll": request.get_full_path()}
    template = "payments/portal/_processing.html" if request.htmx else "payments/portal/processing.html"
    return render(request, template, context)


@require_GET
@portal_required
def checkout_cancel(request: PortalRequest, token: str) -> HttpResponse:
    attempt = _attempt(request, token)
    messages.info(request, PAYMENT_CANCELLED)
    return redirect(_back(attempt))


def portal_form_origins() -> tuple[str, ...]:
    """Where a portal page's payment forms are redirected: Stripe's hosted Checkout."""
    return _checkout_origins()
