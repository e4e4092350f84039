"""AutoPay on the client's Settings tab: staff turn it on for the client, with the
client's agreement given by phone or in person (recorded as their consent), or turn it
off. Billing roles only; the rules are payments/autopay.py's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from billing import submission
from billing.hooks import Panel
from billing.inputs import parse_amount
from clients import selectors as client_selectors
from clients.autopay import autopay_enrolment_on
from clients.hooks import RecordPanel
from clients.models import AutoPayEnrolment, Client
from practice.access import BILLING_ROLES, require_role
from practice.actor import Actor
from practice.audit import client_ip
from practice.models import Practice
from practice.types import PracticeRequest

if TYPE_CHECKING:
    from .client_tab import Shown

from . import autopay, autopay_results, cards
from .autopay import AutoPayRefused
from .models import AutoPayCharge, CheckoutAttempt, StripeAccount
from .take_payment_views import held_billing_notice

STAFF_ON = "AutoPay is on for {client}, with their consent recorded."
STAFF_OFF = "AutoPay is off for {client}."
STAFF_RESUMED = "AutoPay is on again for {client}: the next night charges {card}."
AUTOPAY_AGREEMENT_NEEDED = "Tick that the client agreed to these terms: AutoPay is turned on only with their consent."


def _actor(request: PracticeRequest) -> Actor:
    return Actor.of_user(request.user, address=client_ip(request))


def autopay_settings_panel(request: object, client: Client) -> RecordPanel | None:
    """clients.hooks' Settings tab provider: AutoPay's state, its consent, and the forms."""
    req = cast(PracticeRequest, request)
    if req.membership.role not in BILLING_ROLES:
        return None
    page = autopay.autopay_page(client)
    if page.enrolment is None and not StripeAccount.objects.filter(practice_id=client.practice_id).exists():
        return None
    return RecordPanel("payments/_client_autopay.html", {"page": page, "channels": autopay.STAFF_CHANNELS})


def _posted_amount(request: PracticeRequest, name: str) -> Decimal | None:
    try:
        return Decimal(request.POST[name]) if request.POST.get(name) else None
    except InvalidOperation:
        return None


def _back(request: PracticeRequest, client: Client) -> HttpResponse:
    return redirect("clients:settings", practice_slug=request.practice.slug, client_id=client.pk)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("client.autopay_on", back="clients:settings")
def autopay_enrol(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = client_selectors.client_get_for_practice(request.practice, request.membership, client_id)
    try:
        if request.POST.get("agreed") != "on":
            raise AutoPayRefused(AUTOPAY_AGREEMENT_NEEDED)
        raw_cap = request.POST.get("max_per_night", "").strip()
        try:
            cap = parse_amount(raw_cap, "max_per_night", locale=request.practice.locale) if raw_cap else None
        except ValidationError:
            raise AutoPayRefused(autopay.AUTOPAY_CAP_INVALID) from None
        autopay.autopay_turn_on(
            client=client,
            actor=_actor(request),
            include_balance=request.POST.get("include_balance") == "on",
            max_per_night=cap,
            expected_balance=_posted_amount(request, "balance"),
            channel=request.POST.get("channel", ""),
        )
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, STAFF_ON.format(client=client.display_name))
    return _back(request, client)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("client.autopay_off", back="clients:settings")
def autopay_end(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = client_selectors.client_get_for_practice(request.practice, request.membership, client_id)
    try:
        autopay.autopay_turn_off(client=client, actor=_actor(request))
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, STAFF_OFF.format(client=client.display_name))
    return _back(request, client)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("client.autopay_resume", back="clients:settings")
def autopay_resume(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = client_selectors.client_get_for_practice(request.practice, request.membership, client_id)
    try:
        autopay.autopay_resume(client=client, actor=_actor(request))
    except AutoPayRefused as refusal:
        messages.error(request, str(refusal))
    else:
        card = cards.default_card(request.practice, client)
        messages.success(
            request, STAFF_RESUMED.format(client=client.display_name, card=card.label if card else "the default card")
        )
    return _back(request, client)


# --- what staff see of the nights' results (billing.hooks) ------------------------------------

NOTICE_SHOWN = 20


# Whether a card payment is held for review (review.held_attempts), and whether AutoPay
# needs staff (autopay_results.autopay_attention_rows: paused while on, or a charge of the
# night that failed or waits for the client). Fixed text: built through the ORM, the same
# two EXISTS cost ten times what PostgreSQL takes to answer them, on every Billing tab.
_NOTICES_SQL = """
SELECT
    EXISTS (SELECT 1 FROM {checkout} c WHERE c.practice_id = %(p)s AND c.status = %(held)s),
    EXISTS (SELECT 1 FROM {enrolment} e
            WHERE e.practice_id = %(p)s
              AND ((e.ended_at IS NULL AND e.paused_at IS NOT NULL)
                   OR EXISTS (SELECT 1 FROM {charge} ch
                              WHERE ch.enrolment_id = e.id AND ch.night = %(night)s
                                AND ch.status = ANY(%(problems)s))))
"""


def _notices_shown(practice: Practice, night: date) -> tuple[bool, bool]:
    sql = _NOTICES_SQL.format(
        checkout=CheckoutAttempt._meta.db_table,
        enrolment=AutoPayEnrolment._meta.db_table,
        charge=AutoPayCharge._meta.db_table,
    )
    params: dict[str, Any] = {
        "p": practice.pk,
        "held": CheckoutAttempt.Status.HELD.value,
        "night": night,
        "problems": [status.value for status in AutoPayCharge.PROBLEMS],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        held, autopay = cursor.fetchone()
    return held, autopay


def billing_notices(request: object) -> Panel | None:
    """billing.hooks' Billing page notices of payments: card payments held for review, and
    last night's AutoPay charges that failed or wait for the client with the clients whose
    AutoPay is paused. One query says whether either has anything (the Billing tabs count
    their queries); each notice reads its rows only when it has some."""
    req = cast(PracticeRequest, request)
    membership = getattr(req, "membership", None)
    if membership is None or membership.role not in BILLING_ROLES:
        return None
    practice = req.practice
    night = practice.local_today()
    held, autopay = _notices_shown(practice, night)
    panels = []
    if held and (held_notice := held_billing_notice(request)) is not None:
        panels.append(held_notice)
    if autopay and (found := autopay_results.autopay_attention(practice, night, limit=NOTICE_SHOWN)):
        problems = [row for row in found if row.status]
        paused = [row for row in found if row.paused]
        panels.append(
            Panel("payments/_autopay_billing_notice.html", {"night": night, "problems": problems, "paused": paused})
        )
    if not panels:
        return None
    return Panel("payments/_billing_notices.html", {"panels": panels})


def client_autopay_panel(client: Client, shown: Shown) -> Panel | None:
    """The client's Billing tab: AutoPay's latest nights, and a pause with its reason.
    Shown when AutoPay is on or has charged the client (``shown`` says which)."""
    if not shown.has_charges and not shown.enrolled:
        return None
    charges = autopay_results.autopay_client_charges(client) if shown.has_charges else []
    enrolment = autopay_enrolment_on(client) if shown.enrolled else None
    if not charges and enrolment is None:
        return None
    return Panel("payments/_client_autopay_charges.html", {"charges": charges, "enrolment": enrolment})
