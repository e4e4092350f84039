"""Saved cards on the staff pages (the client's Billing tab, Pay now on the invoice) and
the client's Save a card pages (opened from an emailed link, no sign-in).

Views parse, check access, call one service, and say what happened; the rules are in
payments/cards.py and payments/card_charges.py.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing import selectors as billing_selectors
from billing import submission
from billing.hooks import Panel
from billing.models import Invoice
from billing.payment_links import LinkExpired, LinkInvalid
from clients import selectors as client_selectors
from clients.models import Client
from practice.access import BILLING_ROLES, require_role
from practice.actor import Actor
from practice.audit import client_ip
from practice.types import PracticeRequest

if TYPE_CHECKING:
    from .client_tab import Shown

from . import card_charges, cards
from .card_charges import CardChargeRefused
from .cards import CardsRefused
from .checkout import charges_account, invoice_refusal
from .checkout_views import _checkout_origins, _private
from .invoice_page import invoice_page_shown
from .models import CardChargeAttempt, CardSetup

LINK_INVALID = "This link does not work. Check that it was copied whole, or ask for a new one."
LINK_EXPIRED = "This link has expired. Ask the practice for a new one."


def _actor(request: PracticeRequest) -> Actor:
    return Actor.of_user(request.user, address=client_ip(request))


def _client(request: PracticeRequest, client_id: int) -> Client:
    return client_selectors.client_get_for_practice(request.practice, request.membership, client_id)


def _posted_int(request: HttpRequest, name: str) -> int | None:
    raw = request.POST.get(name, "")
    return int(raw) if raw.isdecimal() else None


# --- panels on billing's pages (billing.hooks) -------------------------------------------


def client_cards_panel(request: PracticeRequest, client: Client, shown: Shown) -> Panel | None:
    """The client's Billing tab: saved cards, Set as default, Remove, Request card details.
    Shown when the practice takes charges or the client has a card (``shown`` says which)."""
    if not shown.takes_charges and not shown.has_cards:
        return None
    saved = cards.client_cards(request.practice, client) if shown.has_cards else []
    return Panel(
        "payments/_client_cards.html",
        {
            "cards": saved,
            "request_refusal": cards.card_details_request_refusal(client, takes_charges=shown.takes_charges),
            "to": client.billing_email,
        },
    )


def pay_now_panel(request: object, invoice: Invoice) -> Panel | None:
    """The invoice page's Pay now with the client's default card, and the card charges
    made for the invoice (declined, Needs client action, Processing) for staff to see."""
    req = cast(PracticeRequest, request)
    shown = invoice_page_shown(invoice)
    attempts = card_charges.invoice_card_charges(invoice) if shown.has_card_charges else []
    card = None
    if invoice_refusal(invoice) is None and shown.takes_charges:
        card = cards.default_card(req.practice, invoice.client)
    if card is None and not attempts:
        return None
    open_attempt = next((a for a in attempts if a.is_open), None)
    return Panel("payments/_pay_now.html", {"card": card, "attempts": attempts, "open_attempt": open_attempt})


# --- staff actions -------------------------------------------------------------------------


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("client.card_details_request", back="clients:billing")
def card_request(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    try:
        cards.card_details_request(client=client, actor=_actor(request))
    except CardsRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, cards.CARD_REQUEST_SENT.format(to=client.billing_email))
    return redirect("clients:billing", practice_slug=request.practice.slug, client_id=client.pk)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("client.card_default", back="clients:billing")
def card_default(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    try:
        card = cards.card_set_default(
            practice=request.practice, client=client, card_id=_posted_int(request, "card") or 0, actor=_actor(request)
        )
    except CardsRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, cards.CARD_DEFAULT_SET.format(card=card.label))
    return redirect("clients:billing", practice_slug=request.practice.slug, client_id=client.pk)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("client.card_remove", back="clients:billing")
def card_remove(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    try:
        card = cards.card_remove(
            practice=request.practice, client=client, card_id=_posted_int(request, "card") or 0, actor=_actor(request)
        )
    except CardsRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, cards.CARD_REMOVED.format(card=card.label))
    return redirect("clients:billing", practice_slug=request.practice.slug, client_id=client.pk)


def _say(request: PracticeRequest, attempt: CardChargeAttempt) -> None:
    level = {
        CardChargeAttempt.Status.SUCCEEDED: messages.SUCCESS,
        CardChargeAttempt.Status.FAILED: messages.ERROR,
    }.get(CardChargeAttempt.Status(attempt.status), messages.WARNING)
    messages.add_message(request, level, card_charges.charge_message(attempt))


@require_POST
@require_role(*BILLING_ROLES)
def pay_now(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    """Charge the client's saved card the invoice's balance now. A repeat of the form (a
    double click, a second tab's resubmit) joins the first attempt: one charge."""
    invoice = billing_selectors.invoice_get_for_practice(request.practice, request.membership, invoice_id)
    back = HttpResponseRedirect(invoice.get_absolute_url())
    key = submission.submission_key_of(request)
    if key is None:
        messages.error(request, submission.PAGE_OUT_OF_DATE)
        return back
    try:
        expected: Decimal | None = Decimal(request.POST["balance"]) if request.POST.get("balance") else None
    except InvalidOperation:
        expected = None
    card = cards.card_get_for_practice(request.practice, invoice.client, _posted_int(request, "card") or 0)
    try:
        if card is None:
            raise CardChargeRefused(card_charges.CHARGE_CARD_GONE)
        attempt = card_charges.card_charge_create(
            invoice=invoice, card=card, actor=request.user, submission_key=key, expected_balance=expected
        )
    except submission.AlreadySubmitted:
        found = card_charges.card_charge_for_submission(request.practice, key)
        if found is None:
            messages.info(request, submission.ALREADY_RECORDED)
            return back
        attempt = found
    except CardChargeRefused as refusal:
        messages.error(request, str(refusal))
        return back
    _say(request, card_charges.card_charge_run(attempt_id=attempt.pk))
    return back


@require_POST
@require_role(*BILLING_ROLES)
def pay_now_check(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    """Check again: ask Stripe for an attempt's one PaymentIntent (never a second charge)."""
    invoice = billing_selectors.invoice_get_for_practice(request.practice, request.membership, invoice_id)
    attempt = CardChargeAttempt.objects.filter(
        practice=request.practice, invoice=invoice, pk=_posted_int(request, "attempt") or 0
    ).first()
    if attempt is None:
        raise Http404
    _say(request, card_charges.card_charge_run(attempt_id=attempt.pk))
    return HttpResponseRedirect(invoice.get_absolute_url())


# --- the client's Save a card pages (no sign-in) --------------------------------------------


def _link_client(request: HttpRequest, token: str) -> Client | HttpResponse:
    try:
        return cards.card_link_read(token)
    except LinkExpired:
        return _private(
            render(
                request,
                "payments/card_link.html",
                {"refusal": LINK_EXPIRED},
                status=410,
            )
        )
    except LinkInvalid:
        return _private(render(request, "payments/card_link.html", {"refusal": LINK_INVALID}, status=404))


@require_GET
def card_link(request: HttpRequest, token: str) -> HttpResponse:
    """What Request card details links to: what saving a card means, and a button to do it
    (a GET never starts a session: mail scanners open links)."""
    found = _link_client(request, token)
    if isinstance(found, HttpResponse):
        return found
    practice = found.practice
    refusal = None
    if charges_account(practice.pk) is None:
        refusal = cards.CARD_LINK_UNAVAILABLE.format(practice=practice.name)
    context = {
        "practice": practice,
        "token": token,
        "refusal": refusal,
        "cards": cards.client_cards(practice, found),
        "replaces_default": cards.card_link_replaces_default(token),
    }
    response = render(request, "payments/card_link.html", context)
    response._csp_update = {"form-action": list(_checkout_origins())}  # type: ignore[attr-defined]
    return _private(response)


# No CSRF check, as for Pay online: the signed link in the URL is the whole authority (no
# sign-in, no cookie), and the page's Referrer-Policy makes browsers send "Origin: null".
@csrf_exempt
@require_POST
def card_link_start(request: HttpRequest, token: str) -> HttpResponse:
    found = _link_client(request, token)
    if isinstance(found, HttpResponse):
        return found
    try:
        url = cards.card_setup_start(client=found, make_default=cards.card_link_replaces_default(token))
    except CardsRefused as refusal:
        context = {"practice": found.practice, "token": token, "refusal": str(refusal), "cards": []}
        return _private(render(request, "payments/card_link.html", context, status=409))
    return _private(HttpResponseRedirect(url, status=303))


def _setup(token: str) -> CardSetup:
    setup = cards.setup_from_token(token)
    if setup is None:
        raise Http404
    return setup


@require_GET
def card_setup_return(request: HttpRequest, token: str) -> HttpResponse:
    """Back from Checkout: the card is saved only when Stripe says so (re-read now)."""
    setup = cards.card_setup_refresh(_setup(token))
    context = {
        "practice": setup.practice,
        "card": setup.card,
        "saved": setup.status == CardSetup.Status.SAVED,
        "expired": setup.status == CardSetup.Status.EXPIRED,
    }
    return _private(render(request, "payments/card_setup_return.html", context))


@require_GET
def card_setup_cancel(request: HttpRequest, token: str) -> HttpResponse:
    setup = _setup(token)
    context = {"practice": setup.practice, "card": None, "saved": False, "expired": False, "cancelled": True}
    return _private(render(request, "payments/card_setup_return.html", context))
