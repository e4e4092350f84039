"""Turning AutoPay on and off, skipping a night, approving a night above the maximum, and
what the AutoPay pages show (the client's in the portal, the staff's on the client's
Settings tab).

The enrolment is clients' row (clients.models.AutoPayEnrolment) and the amount a night
may charge is billing's (``autopay_amount_due``); these services live in payments because
AutoPay needs a saved default card on the practice's connected account, and the nightly
charge (a later job) is a card charge made here.

Turning AutoPay on records the consent in the same transaction: who gave it (the client
in the portal, or a staff member for the client, by phone or in person), when, the words
agreed to with their version, and the request's address. Enrolling never back-charges
the balance already open unless the client chose to include it: invoices issued up to
the moment of enrolment are left out of every night's amount otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import locks
from billing.inputs import money_problem
from billing.money import ZERO
from billing.selectors import AutoPayDue, autopay_amount_due, client_open_invoices
from billing.submission import submission_claim
from clients.autopay import (
    TERMS,
    TERMS_NOTICE,
    TERMS_VERSION,
    autopay_enrolment_on,
    autopay_night_next,
    autopay_terms,
    autopay_unpause,
)
from clients.models import AutoPayApproval, AutoPayConsent, AutoPayEnrolment, AutoPaySkip, Client
from practice.actor import Actor
from practice.audit import audit_write

from .autopay_results import autopay_last_charge, autopay_result_text
from .cards import default_card
from .checkout import charges_account
from .models import AutoPayCharge, SavedCard

AUTOPAY_NEEDS_CARD = "AutoPay needs a saved default card. Add a card first, then turn AutoPay on."
AUTOPAY_UNAVAILABLE = "AutoPay is not available: the practice does not take card payments online at the moment."
AUTOPAY_ALREADY_ON = "AutoPay is already on."
AUTOPAY_NOT_ON = "AutoPay is not on."
AUTOPAY_BALANCE_CHANGED = "Your balance has changed since the page was opened. Read the terms again and confirm."
AUTOPAY_CAP_INVALID = "Enter the maximum per night as an amount above zero, or leave it empty for no maximum."
AUTOPAY_CONSENT_CHANNEL = "Choose how the client agreed: by phone or in person."
AUTOPAY_ON = "AutoPay is on. {card} will be charged each night for what is owed."
AUTOPAY_OFF = "AutoPay is off. Nothing more will be charged automatically."
AUTOPAY_SKIPPED = "AutoPay will not charge on the night of {night}."
AUTOPAY_APPROVED = "Approved: up to {amount} may be charged on the night of {night}."
AUTOPAY_CAP_SAVED = "Maximum per night saved."
AUTOPAY_NOTHING_TO_APPROVE = "Nothing waits for your approval on that night."
AUTOPAY_NOT_PAUSED = "AutoPay is not paused."
AUTOPAY_RESUMED = "AutoPay is on again. {card} will be charged from the next night."
AUTOPAY_RESUME_NEEDS_CARD = "Save a card first: AutoPay charges the default card."

# The staff member's choices of how the client agreed (a client's own is the portal).
STAFF_CHANNELS = (AutoPayConsent.Channel.PHONE, AutoPayConsent.Channel.IN_PERSON)


class AutoPayRefused(Exception):
    """Why nothing changed; the message is for the person who asked."""


@dataclass
class AutoPayPage:
    """What an AutoPay page shows: whether it is on, the card it charges, the balance
    already open (the "Include my current balance of $X" figure), the terms as they would
    read now, and the next night's amount."""

    client: Client
    enrolment: AutoPayEnrolment | None
    card: SavedCard | None
    available: bool
    open_balance: Decimal
    next_night: date
    due: AutoPayDue | None

    @property
    def can_turn_on(self) -> bool:
        return self.enrolment is None and self.available and self.card is not None

    @property
    def paused(self) -> bool:
        return self.enrolment is not None and self.enrolment.is_paused

    @cached_property
    def last_charge(self) -> AutoPayCharge | None:
        """The latest night AutoPay tried to charge (the page's Last result; read only
        where it is shown)."""
        return autopay_last_charge(self.client)

    @property
    def last_result(self) -> str:
        return autopay_result_text(self.last_charge) if self.last_charge is not None else ""

    @property
    def terms_intro(self) -> str:
        """The terms' first sentence (what is charged, when, to which card)."""
        practice = self.client.practice
        card = self.card.label if self.card else "your default card"
        return TERMS.format(zone=practice.timezone.replace("_", " "), practice=practice.name, card=card)

    @property
    def terms_notice(self) -> str:
        return TERMS_NOTICE

    def terms(self, *, include_balance: bool = False, max_per_night: Decimal | None = None) -> str:
        return autopay_terms(
            practice=self.client.practice,
            card=self.card.label if self.card else "",
            balance=self.open_balance,
            include_balance=include_balance,
            max_per_night=max_per_night,
        )


def autopay_page(client: Client) -> AutoPayPage:
    practice = client.practice
    enrolment = autopay_enrolment_on(client)
    night = autopay_night_next(practice)
    return AutoPayPage(
        client=client,
        enrolment=enrolment,
        card=default_card(practice, client),
        available=charges_account(practice.pk) is not None,
        open_balance=_open_balance(client),
        next_night=night,
        due=autopay_amount_due(enrolment, night) if enrolment is not None else None,
    )


def _open_balance(client: Client) -> Decimal:
    return sum((i.balance for i in client_open_invoices(client.practice, client)), ZERO)


def _consent_of(actor: Actor, channel: str) -> tuple[str, str]:
    """(given_by, channel) for the consent row: the portal person is the client; a staff
    member records how the client agreed."""
    if actor.portal is not None:
        return AutoPayConsent.GivenBy.CLIENT, AutoPayConsent.Channel.PORTAL
    if actor.user is None:
        raise ValueError("AutoPay is turned on by the client or by a staff member for them.")
    if channel not in STAFF_CHANNELS:
        raise AutoPayRefused(AUTOPAY_CONSENT_CHANNEL)
    return AutoPayConsent.GivenBy.STAFF, channel


def _check_cap(client: Client, max_per_night: Decimal | None) -> None:
    if max_per_night is not None and (
        max_per_night <= 0 or money_problem(max_per_night, client.practice.currency) is not None
    ):
        raise AutoPayRefused(AUTOPAY_CAP_INVALID)


def autopay_turn_on(
    *,
    client: Client,
    actor: Actor,
    include_balance: bool,
    max_per_night: Decimal | None,
    expected_balance: Decimal | None,
    channel: str = "",
    submission_key: str = "",
) -> AutoPayEnrolment:
    """Turn AutoPay on for ``client`` with the consent of ``actor``: the client in the
    portal (``Actor.of_portal``), or a staff member (``Actor.of_user``) recording the
    client's agreement given by ``channel`` (phone or in person). ``expected_balance`` is
    the open balance the terms showed; a different one now refuses, so the client agrees
    to the words that apply. AutoPayRefused, with nothing written, without a default
    card, when the practice takes no charges, or when AutoPay is already on."""
    given_by, how = _consent_of(actor, channel)
    _check_cap(client, max_per_night)
    practice = client.practice
    with transaction.atomic():
        if submission_key:
            submission_claim(practice=practice, key=submission_key, action="client.autopay_on", actor=actor.user)
        # The client's account row, so two enrolments (two tabs, staff and client) queue.
        locks.lock_client(client)
        if autopay_enrolment_on(client) is not None:
            raise AutoPayRefused(AUTOPAY_ALREADY_ON)
        if charges_account(practice.pk) is None:
            raise AutoPayRefused(AUTOPAY_UNAVAILABLE)
        card = default_card(practice, client)
        if card is None:
            raise AutoPayRefused(AUTOPAY_NEEDS_CARD)
        balance = _open_balance(client)
        if expected_balance is not None and expected_balance != balance:
            raise AutoPayRefused(AUTOPAY_BALANCE_CHANGED)
        now = timezone.now()
        terms = autopay_terms(
            practice=practice,
            card=card.label,
            balance=balance,
            include_balance=include_balance,
            max_per_night=max_per_night,
        )
        try:
            with transaction.atomic():
                enrolment = AutoPayEnrolment.objects.create(
                    practice=practice,
                    client=client,
                    started_at=now,
                    balance_cutoff_at=now,
                    include_balance=include_balance,
                    open_balance=balance,
                    max_per_night=max_per_night,
                )
        except IntegrityError:
            raise AutoPayRefused(AUTOPAY_ALREADY_ON) from None
        consent = AutoPayConsent.objects.create(
            enrolment=enrolment,
            practice=practice,
            client=client,
            given_by=given_by,
            channel=how,
            staff=actor.user,
            email=actor.portal or "",
            terms_version=TERMS_VERSION,
            terms_text=terms,
            include_balance=include_balance,
            max_per_night=max_per_night,
            card=card.label,
            ip_address=actor.address,
            given_at=now,
        )
        audit_write(
            practice=practice,
            actor=actor,
            action="client.autopay_on",
            obj=client,
            changes={
                "consent": consent.pk,
                "given_by": given_by,
                "channel": how,
                "terms_version": TERMS_VERSION,
                "card": card.label,
                "include_balance": include_balance,
                "open_balance": str(balance),
                "max_per_night": None if max_per_night is None else str(max_per_night),
            },
        )
    return enrolment


def autopay_turn_off(*, client: Client, actor: Actor) -> AutoPayEnrolment:
    """Turn the client's AutoPay off now (AutoPayRefused when it is not on)."""
    with transaction.atomic():
        locks.lock_client(client)
        enrolment = autopay_enrolment_on(client)
        if enrolment is None:
            raise AutoPayRefused(AUTOPAY_NOT_ON)
        enrolment.ended_at = timezone.now()
        enrolment.ended_by = actor.user
        enrolment.save(update_fields=["ended_at", "ended_by"])
        audit_write(
            practice=client.practice,
            actor=actor,
            action="client.autopay_off",
            obj=client,
            changes={"enrolment": enrolment.pk},
        )
    return enrolment


def _enrolment_locked(client: Client) -> AutoPayEnrolment:
    locks.lock_client(client)
    enrolment = autopay_enrolment_on(client)
    if enrolment is None:
        raise AutoPayRefused(AUTOPAY_NOT_ON)
    return enrolment


def autopay_skip(*, client: Client, night: date, actor: Actor) -> AutoPaySkip:
    """Skip tonight: no AutoPay charge on ``night`` (a repeat changes nothing)."""
    with transaction.atomic():
        enrolment = _enrolment_locked(client)
        skip, created = AutoPaySkip.objects.get_or_create(
            enrolment=enrolment, night=night, defaults={"created_by": actor.user}
        )
        if created:
            audit_write(
                practice=client.practice,
                actor=actor,
                action="client.autopay_skip",
                obj=client,
                changes={"night": night.isoformat()},
            )
    return skip


def autopay_approve(*, client: Client, night: date, amount: Decimal, actor: Actor) -> AutoPayApproval:
    """Approve a night's charge above the maximum per night, up to ``amount`` (what the
    notice showed; a larger amount that night waits again)."""
    with transaction.atomic():
        enrolment = _enrolment_locked(client)
        due = autopay_amount_due(enrolment, night)
        if enrolment.max_per_night is None or due.owed <= enrolment.max_per_night or amount < due.owed:
            raise AutoPayRefused(AUTOPAY_NOTHING_TO_APPROVE)
        approval, _ = AutoPayApproval.objects.update_or_create(
            enrolment=enrolment, night=night, defaults={"amount": amount}
        )
        audit_write(
            practice=client.practice,
            actor=actor,
            action="client.autopay_approve",
            obj=client,
            changes={"night": night.isoformat(), "amount": str(amount)},
        )
    return approval


def autopay_cap_set(*, client: Client, max_per_night: Decimal | None, actor: Actor) -> AutoPayEnrolment:
    """Change the maximum per night (None: no maximum)."""
    _check_cap(client, max_per_night)
    with transaction.atomic():
        enrolment = _enrolment_locked(client)
        before = enrolment.max_per_night
        enrolment.max_per_night = max_per_night
        enrolment.save(update_fields=["max_per_night"])
        audit_write(
            practice=client.practice,
            actor=actor,
            action="client.autopay_cap",
            obj=client,
            changes={
                "max_per_night": [
                    None if before is None else str(before),
                    None if max_per_night is None else str(max_per_night),
                ]
            },
        )
    return enrolment


def autopay_resume(*, client: Client, actor: Actor) -> AutoPayEnrolment:
    """Resume AutoPay paused after failed nights (the client in the portal, or staff for
    them): the consent it was turned on with stands, and the next night charges the
    default card again. AutoPayRefused when it is not paused or no card is saved."""
    with transaction.atomic():
        locks.lock_client(client)
        enrolment = autopay_enrolment_on(client)
        if enrolment is None:
            raise AutoPayRefused(AUTOPAY_NOT_ON)
        enrolment = (
            AutoPayEnrolment.objects.select_for_update().select_related("practice", "client").get(pk=enrolment.pk)
        )
        if not enrolment.is_paused:
            raise AutoPayRefused(AUTOPAY_NOT_PAUSED)
        if default_card(client.practice, client) is None:
            raise AutoPayRefused(AUTOPAY_RESUME_NEEDS_CARD)
        autopay_unpause(enrolment=enrolment, actor=actor, why="resumed")
    return enrolment
