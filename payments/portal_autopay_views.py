"""AutoPay in the client portal: the page (whether it is on, the card, the last result),
Turn on AutoPay with the terms in plain words and the client's consent, the maximum per
night, Turn off AutoPay, and tonight's notice (also on Billing) with Pay another way,
Skip tonight and an approval above the maximum. The rules are payments/autopay.py's;
every form carries a one-time submission key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from billing import submission
from billing.hooks import Panel
from billing.inputs import parse_amount
from billing.models import Invoice
from clients.autopay import autopay_night_next
from clients.portal import PortalRequest, portal_required
from practice.money import practice_money

from . import autopay, cards
from .autopay import AutoPayRefused
from .portal_card_views import portal_actor, portal_once, posted_amount


def portal_autopay_notice_panel(request: object, open_invoices: Sequence[Invoice]) -> Panel | None:
    """Billing's notice of tonight's AutoPay: the amount, Pay another way, Skip tonight
    (the evening before the charge, and until it runs)."""
    req = cast(PortalRequest, request)
    page = autopay.autopay_page(req.client)
    if page.due is None or not page.due.owed:
        return None
    return Panel("payments/portal/_autopay_notice.html", {"page": page, "due": page.due})


@require_GET
@portal_required
def autopay_view(request: PortalRequest) -> HttpResponse:
    page = autopay.autopay_page(request.client)
    return render(request, "payments/portal/autopay.html", {"page": page})


def _cap(request: PortalRequest) -> Decimal | None:
    raw = request.POST.get("max_per_night", "").strip()
    if not raw:
        return None
    try:
        return parse_amount(raw, "max_per_night", locale=request.practice.locale)
    except ValidationError:
        raise AutoPayRefused(autopay.AUTOPAY_CAP_INVALID) from None


@require_POST
@portal_required
@portal_once("portal.autopay_on", back="portal:autopay")
def autopay_on(request: PortalRequest) -> HttpResponse:
    client = request.client
    try:
        autopay.autopay_turn_on(
            client=client,
            actor=portal_actor(request),
            include_balance=request.POST.get("include_balance") == "on",
            max_per_night=_cap(request),
            expected_balance=posted_amount(request, "balance"),
        )
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        card = cards.default_card(request.practice, client)
        messages.success(request, autopay.AUTOPAY_ON.format(card=card.label if card else "Your default card"))
    return redirect("portal:autopay")


@require_POST
@portal_required
@portal_once("portal.autopay_off", back="portal:autopay")
def autopay_off(request: PortalRequest) -> HttpResponse:
    try:
        autopay.autopay_turn_off(client=request.client, actor=portal_actor(request))
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, autopay.AUTOPAY_OFF)
    return redirect("portal:autopay")


def _night(request: PortalRequest) -> date:
    """The night a Skip tonight or an approval is for: the next night, as the page said it
    (a form left open past 6 AM names a night that has passed, refused as out of date)."""
    night = autopay_night_next(request.practice)
    if request.POST.get("night") != night.isoformat():
        raise AutoPayRefused(submission.PAGE_OUT_OF_DATE)
    return night


@require_POST
@portal_required
@portal_once("portal.autopay_skip", back="portal:autopay")
def autopay_skip(request: PortalRequest) -> HttpResponse:
    try:
        night = _night(request)
        autopay.autopay_skip(client=request.client, night=night, actor=portal_actor(request))
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, autopay.AUTOPAY_SKIPPED.format(night=f"{night:%A %-d %B}"))
    return redirect("portal:autopay")


@require_POST
@portal_required
@portal_once("portal.autopay_approve", back="portal:autopay")
def autopay_approve(request: PortalRequest) -> HttpResponse:
    try:
        night = _night(request)
        amount = posted_amount(request, "amount")
        if amount is None:
            raise AutoPayRefused(autopay.AUTOPAY_NOTHING_TO_APPROVE)
        autopay.autopay_approve(client=request.client, night=night, amount=amount, actor=portal_actor(request))
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            autopay.AUTOPAY_APPROVED.format(
                amount=practice_money(request.practice, amount), night=f"{night:%A %-d %B}"
            ),
        )
    return redirect("portal:autopay")


@require_POST
@portal_required
@portal_once("portal.autopay_cap", back="portal:autopay")
def autopay_cap(request: PortalRequest) -> HttpResponse:
    try:
        autopay.autopay_cap_set(client=request.client, max_per_night=_cap(request), actor=portal_actor(request))
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, autopay.AUTOPAY_CAP_SAVED)
    return redirect("portal:autopay")


@require_POST
@portal_required
@portal_once("portal.autopay_resume", back="portal:autopay")
def autopay_resume(request: PortalRequest) -> HttpResponse:
    try:
        autopay.autopay_resume(client=request.client, actor=portal_actor(request))
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        card = cards.default_card(request.practice, request.client)
        messages.success(request, autopay.AUTOPAY_RESUMED.format(card=card.label if card else "Your default card"))
    return redirect("portal:autopay")
