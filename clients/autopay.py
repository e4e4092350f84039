"""AutoPay's words and nights: the terms a client agrees to, and which night a charge,
a skip or an approval belongs to.

A *night* is the practice's local date whose 12 AM to 6 AM window the nightly charge runs
in (DESIGN.md, Background work). "Tonight", said in the evening of the 4th, is the night
of the 5th; said at 2 AM on the 5th, before the window closes, it is still the 5th.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from practice.actor import Actor
from practice.audit import audit_write
from practice.models import Practice, User
from practice.money import practice_money

from .models import AutoPayEnrolment, Client

# Bump when the wording below changes: each consent keeps the version and the words it saw.
TERMS_VERSION = "autopay-terms-2025-1"
WINDOW_START = time(0, 0)
WINDOW_END = time(6, 0)
# Failed nights in a row after which AutoPay pauses itself (issue 16).
AUTOPAY_PAUSE_AFTER = 3

TERMS = (
    "Every night between 12 AM and 6 AM ({zone} time), the full outstanding balance on your account with "
    "{practice} is charged to your default card, {card}."
)
TERMS_BALANCE_INCLUDED = "Your current balance of {balance} is included."
TERMS_BALANCE_LEFT_OUT = (
    "Your current balance of {balance} is not included: only invoices issued from now on are charged by AutoPay."
)
TERMS_NO_BALANCE = "Only invoices issued from now on are charged."
TERMS_CAP = "If a night's charge would be more than {cap}, it waits for your approval."
TERMS_NO_CAP = "There is no maximum per night."
TERMS_NOTICE = (
    "The evening before a charge, the portal shows the amount, and you can pay another way or skip that night. "
    "You can turn AutoPay off at any time."
)


def autopay_terms(
    *,
    practice: Practice,
    card: str,
    balance: Decimal,
    include_balance: bool,
    max_per_night: Decimal | None,
) -> str:
    """The terms in plain words, with the client's choices, exactly as shown and as kept
    with their consent."""
    parts = [TERMS.format(zone=practice.timezone.replace("_", " "), practice=practice.name, card=card)]
    if balance > 0:
        money = practice_money(practice, balance)
        parts.append(
            TERMS_BALANCE_INCLUDED.format(balance=money)
            if include_balance
            else TERMS_BALANCE_LEFT_OUT.format(balance=money)
        )
    else:
        parts.append(TERMS_NO_BALANCE)
    parts.append(TERMS_CAP.format(cap=practice_money(practice, max_per_night)) if max_per_night else TERMS_NO_CAP)
    parts.append(TERMS_NOTICE)
    return " ".join(parts)


def autopay_night_next(practice: Practice, now: datetime | None = None) -> date:
    """The next night AutoPay charges in (``now`` defaults to the present): today's date
    before 6 AM local time, else tomorrow's."""
    local = timezone.localtime(now or timezone.now(), practice.tzinfo)
    return local.date() if local.time() < WINDOW_END else local.date() + timedelta(days=1)


def autopay_night_start(practice: Practice, night: date) -> datetime:
    """When ``night``'s charging window opens (12 AM local time), as an aware datetime."""
    return datetime.combine(night, WINDOW_START, tzinfo=practice.tzinfo)


def autopay_enrolment_on(client: Client) -> AutoPayEnrolment | None:
    """The client's AutoPay while it is on, else None."""
    return (
        AutoPayEnrolment.objects.select_related("practice", "client", "consent")
        .filter(practice_id=client.practice_id, client=client, ended_at__isnull=True)
        .first()
    )


def autopay_enrolments(practice: Practice) -> QuerySet[AutoPayEnrolment]:
    """The practice's enrolments that are on (the nightly job's list)."""
    return AutoPayEnrolment.objects.filter(practice=practice, ended_at__isnull=True).select_related("client")


def autopay_pause(*, enrolment: AutoPayEnrolment, reason: str, actor: Actor) -> bool:
    """Pause ``enrolment`` with ``reason`` (the caller holds its row, in its transaction):
    it stays on with its consent but charges nothing until resumed. False if it was
    already paused or is off."""
    if enrolment.ended_at is not None or enrolment.paused_at is not None:
        return False
    enrolment.paused_at = timezone.now()
    enrolment.paused_reason = reason[:500]
    enrolment.save(update_fields=["paused_at", "paused_reason"])
    audit_write(
        practice=enrolment.practice,
        actor=actor,
        action="client.autopay_paused",
        obj=enrolment.client,
        changes={"enrolment": enrolment.pk, "reason": enrolment.paused_reason},
    )
    return True


def autopay_unpause(*, enrolment: AutoPayEnrolment, actor: Actor | User, why: str) -> bool:
    """Resume a paused ``enrolment`` (the caller holds its row): nights from the next one
    are charged again, and its count of failed nights starts again. False if it was not
    paused."""
    if enrolment.ended_at is not None or enrolment.paused_at is None:
        return False
    reason = enrolment.paused_reason
    enrolment.paused_at = None
    enrolment.paused_reason = ""
    enrolment.failures_in_a_row = 0
    enrolment.save(update_fields=["paused_at", "paused_reason", "failures_in_a_row"])
    audit_write(
        practice=enrolment.practice,
        actor=actor,
        action="client.autopay_resumed",
        obj=enrolment.client,
        changes={"enrolment": enrolment.pk, "paused_for": reason, "why": why},
    )
    return True
