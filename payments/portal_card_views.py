"""The client portal's saved cards: Payment methods (add a card through Checkout in setup
mode, remove one, choose the default) and Pay with Visa •••• 4242, confirmed by one click
with the client present, on an invoice (its details on Billing) or for the full balance.

Views parse, scope every id to the signed-in person (clients.portal.portal_scope: another
client's card, invoice or charge is a 404) and call one service; the rules are in
payments/cards.py and payments/card_charges.py. Every form carries a one-time submission
key (billing/submission.py). The panels are billing.hooks' portal providers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing import submission
from billing.hooks import Panel
from billing.models import Invoice
from billing.selectors import portal_unpaid
from billing.selectors.portal import portal_invoice_get
from clients.portal import PortalRequest, portal_required, portal_scope
from practice.actor import Actor
from practice.audit import client_ip
from practice.money import practice_money

from . import autopay, card_charges, cards
from .card_charges import CardChargeRefused
from .cards import CardsRefused
from .checkout import charges_account, invoice_refusal
from .checkout_views import _checkout_origins
from .models import CardChargeAttempt, CardSetup, SavedCard

CARD_SAVED = "{card} is saved. You can pay with it in one click."
CARD_NOT_SAVED = "No card was saved."
CARD_PROCESSING = "Your card is still being confirmed. Reload this page in a moment."
PAID = "Thank you: {amount} paid with {card}."
DECLINED = "{card} was declined: {reason} Nothing was charged, and {what} still open."
NOT_CONFIRMED = "Your bank did not confirm the payment: {reason} Nothing was charged, and {what} still open."
STILL_PROCESSING = "Stripe has not confirmed your payment yet. This page shows Paid once it does."
FINISH_WITH_BANK = "Your bank asks you to confirm this payment. Continue to finish it, or pay another way."
PAY_ANOTHER_WAY = "The card payment was stopped. Nothing was charged: choose another way to pay."
STRIPE_UNREACHABLE = "Stripe could not be reached. Nothing has changed: try again in a moment."

# Stripe's words for a decline are for a cardholder already; these say what to do next.
DECLINE_ADVICE = {
    "insufficient_funds": "There is not enough money on the card.",
    "expired_card": "The card has expired. Add a new card on Payment methods.",
    "incorrect_cvc": "The card's security code was not accepted.",
    "lost_card": "Your bank declined the card. Contact your bank, or use another card.",
    "stolen_card": "Your bank declined the card. Contact your bank, or use another card.",
}


def portal_actor(request: PortalRequest) -> Actor:
    return Actor.of_portal(request.portal.email, address=client_ip(request))


def card_form_origins() -> tuple[str, ...]:
    """Where Pay with a saved card and Add a card redirect: Stripe's Checkout, and the
    page where the bank asks for 3D Secure (Stripe's hooks host; the fake's own origin)."""
    return (*_checkout_origins(), "https://hooks.stripe.com")


def _stripe_forms(response: HttpResponse) -> HttpResponse:
    """A page whose forms are answered with a redirect to Stripe: the CSP's form-action
    must allow it, as browsers check every hop."""
    response._csp_update = {"form-action": list(card_form_origins())}  # type: ignore[attr-defined]
    return response


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _posted_int(request: PortalRequest, name: str) -> int:
    raw = request.POST.get(name, "")
    return int(raw) if raw.isdecimal() else 0


def posted_amount(request: PortalRequest, name: str) -> Decimal | None:
    try:
        return Decimal(request.POST[name]) if request.POST.get(name) else None
    except InvalidOperation:
        return None


def portal_once(action: str, back: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """billing.submission.once for the portal: no staff user, no practice in the URL;
    ``back`` names the portal page a keyless POST goes back to."""
    return submission.once(action, back, portal=True)


# --- Payment methods -------------------------------------------------------------------------


def _my_card(request: PortalRequest, card_id: int) -> SavedCard:
    """One of the signed-in person's saved cards (not removed), or 404."""
    return get_object_or_404(
        portal_scope(request, SavedCard.objects.filter(removed_at__isnull=True)).select_related("client", "customer"),
        pk=card_id,
    )


@require_GET
@portal_required
def payment_methods(request: PortalRequest) -> HttpResponse:
    client = request.client
    context = {
        "cards": cards.client_cards(request.practice, client),
        "can_add": charges_account(request.practice.pk) is not None,
        "autopay_on": autopay.autopay_page(client).enrolment is not None,
    }
    return _stripe_forms(render(request, "payments/portal/payment_methods.html", context))


def _portal_setup_urls(setup: CardSetup) -> tuple[str, str]:
    token = cards.setup_token(setup)
    return (
        _absolute(reverse("portal:card_setup_return", kwargs={"token": token})),
        _absolute(reverse("portal:card_setup_cancel", kwargs={"token": token})),
    )


@require_POST
@portal_required
def card_add(request: PortalRequest) -> HttpResponse:
    """Add a card: Stripe's Checkout in setup mode, coming back to Payment methods.

    The form's key is required but not claimed: a repeat reuses the open setup session
    (payments.cards.REUSE_FOR), and claiming would hold a transaction open around the
    Stripe calls, whose rows must be committed before Stripe is asked."""
    if submission.submission_key_of(request) is None:
        messages.error(request, submission.PAGE_OUT_OF_DATE)
        return redirect("portal:payment_methods")
    try:
        url = cards.card_setup_start(client=request.client, return_urls=_portal_setup_urls)
    except CardsRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("portal:payment_methods")
    return HttpResponseRedirect(url, status=303)


def _my_setup(request: PortalRequest, token: str) -> CardSetup:
    setup = cards.setup_from_token(token)
    if setup is None or setup.practice_id != request.practice.pk or setup.client_id != request.client.pk:
        raise Http404
    return setup


@require_GET
@portal_required
def card_setup_return(request: PortalRequest, token: str) -> HttpResponse:
    """Back from Checkout: the card is saved only when Stripe says so (re-read now)."""
    setup = cards.card_setup_refresh(_my_setup(request, token))
    if setup.status == CardSetup.Status.SAVED and setup.card is not None:
        messages.success(request, CARD_SAVED.format(card=setup.card.label))
    elif setup.status == CardSetup.Status.EXPIRED:
        messages.info(request, CARD_NOT_SAVED)
    else:
        messages.info(request, CARD_PROCESSING)
    return redirect("portal:payment_methods")


@require_GET
@portal_required
def card_setup_cancel(request: PortalRequest, token: str) -> HttpResponse:
    _my_setup(request, token)
    messages.info(request, CARD_NOT_SAVED)
    return redirect("portal:payment_methods")


@require_POST
@portal_required
@portal_once("portal.card_default", back="portal:payment_methods")
def card_default(request: PortalRequest, card_id: int) -> HttpResponse:
    card = _my_card(request, card_id)
    try:
        chosen = cards.card_set_default(
            practice=request.practice, client=card.client, card_id=card.pk, actor=portal_actor(request)
        )
    except CardsRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, cards.CARD_DEFAULT_SET.format(card=chosen.label))
    return redirect("portal:payment_methods")


@require_POST
@portal_required
@portal_once("portal.card_remove", back="portal:payment_methods")
def card_remove(request: PortalRequest, card_id: int) -> HttpResponse:
    card = _my_card(request, card_id)
    try:
        removed = cards.card_remove(
            practice=request.practice, client=card.client, card_id=card.pk, actor=portal_actor(request)
        )
    except CardsRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, cards.CARD_REMOVED.format(card=removed.label))
    return redirect("portal:payment_methods")


# --- Make payment with a saved card ------------------------------------------------------------


def _balance_invoices(request: PortalRequest, client_id: int) -> list[Invoice]:
    """The open invoices Pay full balance with a card pays: one client's, oldest first (a
    card is a client's, so a payer pays each client's balance with that client's card)."""
    return list(portal_unpaid(request).filter(client_id=client_id).select_related("practice", "client"))


def _pay_page_url(attempt: CardChargeAttempt) -> str:
    """Where the client reads how a charge went: the invoice (showing Paid once it is), or
    Billing for a charge of the full balance."""
    if attempt.allocations.count() > 1:
        return reverse("portal:home")
    return reverse("portal:invoice", kwargs={"invoice_id": attempt.invoice_id})


def _return_url(attempt: CardChargeAttempt) -> str:
    return _absolute(reverse("portal:card_charge_return", kwargs={"attempt_id": attempt.pk}))


def _what(attempt: CardChargeAttempt) -> str:
    count = attempt.allocations.count()
    return "your invoices are" if count > 1 else f"invoice {attempt.invoice.number} is"


def _decline_reason(attempt: CardChargeAttempt) -> str:
    return DECLINE_ADVICE.get(attempt.decline_code) or attempt.failure_reason or card_charges.DECLINED_DEFAULT


def _answer(request: PortalRequest, attempt: CardChargeAttempt) -> HttpResponse:
    """Where a charge leaves the client: Stripe's authentication page, or back to the
    payment page with what happened in plain words."""
    Status = CardChargeAttempt.Status
    back = HttpResponseRedirect(_pay_page_url(attempt), status=303)
    if attempt.status == Status.SUCCEEDED:
        messages.success(
            request, PAID.format(amount=practice_money(attempt.practice, attempt.amount), card=attempt.card.label)
        )
    elif attempt.status == Status.REQUIRES_ACTION and attempt.next_action_url:
        return HttpResponseRedirect(attempt.next_action_url, status=303)
    elif attempt.status == Status.FAILED:
        words = NOT_CONFIRMED if "authentication" in attempt.decline_code else DECLINED
        messages.error(
            request, words.format(card=attempt.card.label, reason=_decline_reason(attempt), what=_what(attempt))
        )
    else:
        messages.warning(request, STILL_PROCESSING)
    return back


def _pay_with_card(request: PortalRequest, invoices: list[Invoice], *, single: bool) -> HttpResponse:
    back = reverse("portal:invoice", kwargs={"invoice_id": invoices[0].pk}) if single else reverse("portal:home")
    key = submission.submission_key_of(request)
    if key is None:
        messages.error(request, submission.PAGE_OUT_OF_DATE)
        return redirect(back)
    card = _my_card(request, _posted_int(request, "card"))
    if card.client_id != invoices[0].client_id:
        raise Http404
    try:
        attempt = card_charges.card_charge_create(
            invoice=invoices[0] if single else None,
            invoices=() if single else invoices,
            card=card,
            actor=None,
            submission_key=key,
            expected_balance=posted_amount(request, "amount"),
            on_session=True,
            submission_action="portal.pay_card",
        )
    except submission.AlreadySubmitted:
        found = card_charges.card_charge_for_submission(request.practice, key)
        if found is None:
            messages.info(request, submission.ALREADY_RECORDED)
            return redirect(back)
        attempt = found
    except CardChargeRefused as refusal:
        waiting = card_charges.card_charge_in_flight(invoices)
        if waiting is not None and waiting.on_session and waiting.client_id == card.client_id:
            # The first click's charge: finish it (the bank's page) rather than make another.
            return _answer(request, card_charges.card_charge_run(attempt_id=waiting.pk, return_url=_return_url))
        messages.error(request, str(refusal))
        return redirect(back)
    return _answer(request, card_charges.card_charge_run(attempt_id=attempt.pk, return_url=_return_url))


@require_POST
@portal_required
def pay_invoice_card(request: PortalRequest, invoice_id: int) -> HttpResponse:
    return _pay_with_card(request, [portal_invoice_get(request, invoice_id)], single=True)


@require_POST
@portal_required
def pay_balance_card(request: PortalRequest) -> HttpResponse:
    """Pay full balance with the saved card: every open invoice of one client, oldest first."""
    client_id = _posted_int(request, "client")
    if client_id not in [c.pk for c in request.portal_clients]:
        raise Http404
    invoices = _balance_invoices(request, client_id)
    if not invoices:
        messages.info(request, card_charges.NOTHING_OWED)
        return redirect("portal:home")
    return _pay_with_card(request, invoices, single=len(invoices) == 1)


def _my_charge(request: PortalRequest, attempt_id: int) -> CardChargeAttempt:
    return get_object_or_404(
        portal_scope(request, CardChargeAttempt.objects.filter(on_session=True)).select_related(
            "practice", "card", "invoice"
        ),
        pk=attempt_id,
    )


@require_GET
@portal_required
def card_charge_return(request: PortalRequest, attempt_id: int) -> HttpResponse:
    """Back from the bank's authentication page: what Stripe says now (never the redirect's
    query string)."""
    attempt = _my_charge(request, attempt_id)
    attempt = card_charges.card_charge_run(attempt_id=attempt.pk, return_url=_return_url)
    if attempt.status == CardChargeAttempt.Status.REQUIRES_ACTION:
        messages.warning(request, FINISH_WITH_BANK)
        return redirect(_pay_page_url(attempt))
    return _answer(request, attempt)


@require_POST
@portal_required
def card_charge_check(request: PortalRequest, attempt_id: int) -> HttpResponse:
    """Check again: ask Stripe about the charge (it never charges twice)."""
    attempt = _my_charge(request, attempt_id)
    attempt = card_charges.card_charge_run(attempt_id=attempt.pk, return_url=_return_url)
    if attempt.status == CardChargeAttempt.Status.REQUIRES_ACTION:
        return redirect(_pay_page_url(attempt))
    return _answer(request, attempt)


@require_POST
@portal_required
def card_charge_stop(request: PortalRequest, attempt_id: int) -> HttpResponse:
    """Pay another way: stop a card payment still waiting for the bank (canceled at Stripe,
    so it can never go through), then choose another way on the payment page."""
    attempt = _my_charge(request, attempt_id)
    try:
        attempt = card_charges.card_charge_cancel(attempt_id=attempt.pk)
    except (card_charges.gateway.StripeError, card_charges.gateway.StripeUnanswered):
        messages.error(request, STRIPE_UNREACHABLE)
        return redirect(_pay_page_url(attempt))
    if attempt.status == CardChargeAttempt.Status.SUCCEEDED:
        return _answer(request, attempt)
    messages.info(request, PAY_ANOTHER_WAY)
    return redirect(_pay_page_url(attempt))


# --- what the portal's billing pages show (billing.hooks) ------------------------------------


def _card_panel(request: PortalRequest, invoices: Sequence[Invoice], action: str, **extra: object) -> Panel | None:
    """Pay with the client's default card for ``invoices`` (one client's), or the charge for
    them still waiting for the bank; None without a card or online payments."""
    if not invoices or charges_account(request.practice.pk) is None:
        return None
    waiting = card_charges.card_charge_in_flight(invoices)
    if waiting is not None and waiting.on_session:
        return Panel("payments/portal/_pay_with_card.html", {"waiting": waiting, **extra})
    card = cards.default_card(request.practice, invoices[0].client)
    if card is None:
        return None
    amount = sum((i.balance for i in invoices), Decimal("0"))
    return Panel("payments/portal/_pay_with_card.html", {"card": card, "amount": amount, "action": action, **extra})


def portal_card_pay_panel(request: object, invoice: Invoice) -> Panel | None:
    """Pay with Visa •••• 4242 in an invoice's details, when it owes something."""
    if invoice_refusal(invoice) is not None:
        return None
    action = reverse("portal:pay_invoice_card", kwargs={"invoice_id": invoice.pk})
    return _card_panel(cast(PortalRequest, request), [invoice], action, invoice=invoice)


def portal_card_balance_panel(request: object, open_invoices: Sequence[Invoice]) -> Panel | None:
    """Pay full balance with the card on Billing, for each client with a saved card (one
    for a client; for a payer, each client they pay for has their own card)."""
    req = cast(PortalRequest, request)
    panels = []
    for client in req.portal_clients:
        own = [i for i in open_invoices if i.client_id == client.pk]
        name = client.display_name if len(req.portal_clients) > 1 else ""
        panel = _card_panel(req, own, reverse("portal:pay_balance_card"), client=client, name=name)
        if panel is not None:
            panels.append(panel.context)
    if not panels:
        return None
    return Panel("payments/portal/_pay_balance_with_card.html", {"balances": panels})
