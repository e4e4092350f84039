"""Nightly AutoPay, and the evening before it (both run by practice.jobs' scheduler in each
practice's own time zone).

**The night.** From 12 AM to 6 AM local time the practice's run for the night (the local
date, as ``clients.autopay`` counts nights; a JobRun per practice and night) goes through
the enrolments that are on and, for each client whose night may charge something
(billing's ``autopay_amount_due``: the cap, an approval, Skip tonight, the balance left
out at enrolment, a pause), commits an ``AutoPayCharge`` row (pending), unique per client
and night. It then queues one ``payments.tasks.autopay_charge`` task per unfinished row
on the ``autopay`` queue, so AutoPay workers can be scaled on their own.

**One client's charge** (``autopay_charge_process``), each step committed on its own:

1. Under the client's lock, the amount is worked out again (the client may have paid,
   skipped or turned AutoPay off since), and the card charge attempt (card_charges, the
   same machinery as Pay now: the night's invoices oldest first) is created in the same
   transaction as the row's move to charging. Nothing to charge any more: not charged,
   with the reason. No default card: a failed night.
2. Stripe is called for the attempt (``card_charge_run``), paced by ``autopay_rate``.
   Its id keys the PaymentIntent, so a resend (a rerun after a crash, a second worker, a
   timeout) reaches the same PaymentIntent: never a second charge.
3. The attempt is settled from Stripe's answer, and the AutoPay row with it in the same
   transaction (``autopay_results``: receipt, decline email, pause after three failed
   nights, the link to finish paying when the bank asks the client to authenticate).

Safe to kill anywhere (the named ``checkpoint``s are where the kill tests stop it) and
to run twice, at once too: the rows are unique, a second worker finds the row and its
attempt and only finishes what is unfinished, and the sweeper (``autopay_charges_unfinished``,
from beat) queues again rows a lost task left pending or charging.

**The evening** (6 PM local): each client to be charged that night is emailed the
amount, the card and how to skip; a client above their maximum is asked to approve; the
practice's owners and billers get one summary of who will be charged what.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing import locks
from billing.money import ZERO
from billing.selectors import AutoPayDue, autopay_amount_due
from clients.autopay import WINDOW_END, WINDOW_START, autopay_enrolments
from clients.models import AutoPayEnrolment, Client, PortalAccess
from practice.faults import checkpoint
from practice.mail import email_queue
from practice.models import Membership, Practice, Role
from practice.money import practice_money

from .autopay_rate import autopay_rate_wait
from .autopay_results import AUTOPAY_JOB, AUTOPAY_NO_CARD, autopay_attempt_settled, autopay_charge_settle
from .card_charges import RESEND_WITHIN, CardChargeRefused, card_charge_create, card_charge_run
from .cards import default_card
from .models import AutoPayCharge, CardChargeAttempt, SavedCard

logger = logging.getLogger(__name__)

NIGHT_JOB = "autopay_night"
EVENING_JOB = "autopay_evening"
EVENING_AT = time(18, 0)

# Why a night charged nothing after all (staff read them on the client's Billing tab).
NOT_CHARGED_OFF = "AutoPay was turned off before the charge."
NOT_CHARGED_PAUSED = "AutoPay was paused before the charge."
NOT_CHARGED_SKIPPED = "The client skipped this night."
NOT_CHARGED_WAITS = "Above the client's maximum per night, and not approved."
NOT_CHARGED_NOTHING = "Nothing was owed any more."


# --- the night -----------------------------------------------------------------------------


def _uses_autopay(practice: Practice) -> bool:
    return AutoPayEnrolment.objects.filter(practice=practice, ended_at__isnull=True).exists()


def autopay_window_night(local_now: datetime) -> date | None:
    """The night whose 12 AM to 6 AM window ``local_now`` (a practice's local time) is in."""
    return local_now.date() if WINDOW_START <= local_now.time() < WINDOW_END else None


def autopay_night_due(practice: Practice, local_now: datetime) -> date | None:
    """The scheduler's question: the night to charge, while its window is open in the
    practice's time zone and a client's AutoPay is on; else None (a practice without
    AutoPay has no nightly run to record)."""
    night = autopay_window_night(local_now)
    return night if night is not None and _uses_autopay(practice) else None


def autopay_night_next_run(practice: Practice, local_now: datetime) -> datetime | None:
    """When the next night's window opens (the coming local midnight), for Settings >
    Automations; None while no client has AutoPay on."""
    if not _uses_autopay(practice):
        return None
    return datetime.combine(local_now.date() + timedelta(days=1), WINDOW_START, tzinfo=local_now.tzinfo)


def autopay_night_job(practice: Practice, local_date: date) -> dict[str, int]:
    return autopay_night_run(practice=practice, night=local_date)


def autopay_night_run(*, practice: Practice, night: date) -> dict[str, int]:
    """Commit the night's AutoPay rows and queue a charge task for each unfinished one.
    ``{"enrolled", "paused", "nothing_due", "to_charge", "queued"}``: the enrolments on,
    those paused, those with nothing to charge, the rows of the night, and the tasks
    queued (rows not finished yet). Safe to run again: it queues only what is unfinished."""
    from .tasks import autopay_charge_task

    enrolments = list(autopay_enrolments(practice).select_related("practice").order_by("client_id", "pk"))
    rows = {c.client_id: c for c in AutoPayCharge.objects.filter(practice=practice, night=night)}
    counts = {"enrolled": len(enrolments), "paused": 0, "nothing_due": 0, "to_charge": 0, "queued": 0}
    unfinished: list[int] = []
    for enrolment in enrolments:
        charge = rows.get(enrolment.client_id)
        if charge is None:
            if enrolment.paused_at is not None:
                counts["paused"] += 1
                continue
            charge = autopay_charge_prepare(enrolment=enrolment, night=night)
            if charge is None:
                counts["nothing_due"] += 1
                continue
            checkpoint("autopay.row_prepared")
        counts["to_charge"] += 1
        if not charge.is_finished:
            unfinished.append(charge.pk)
    checkpoint("autopay.after_prepare")
    for charge_id in unfinished:
        autopay_charge_task.delay(charge_id)
    counts["queued"] = len(unfinished)
    return counts


def autopay_charge_prepare(*, enrolment: AutoPayEnrolment, night: date) -> AutoPayCharge | None:
    """The client's row for ``night`` (pending, with the amount the night may charge now),
    or None when the night has nothing to charge. Made once: a second call, or a second
    worker, finds the first row."""
    due = autopay_amount_due(enrolment, night)
    if due.amount <= 0:
        return None
    charge, _created = AutoPayCharge.objects.get_or_create(
        client_id=enrolment.client_id,
        night=night,
        defaults={
            "practice_id": enrolment.practice_id,
            "enrolment": enrolment,
            "amount": due.amount,
            "currency": enrolment.practice.currency,
        },
    )
    return charge


def _not_charged_reason(due: AutoPayDue) -> str:
    if due.off:
        return NOT_CHARGED_OFF
    if due.paused:
        return NOT_CHARGED_PAUSED
    if due.skipped:
        return NOT_CHARGED_SKIPPED
    if due.waits_for_approval:
        return NOT_CHARGED_WAITS
    return NOT_CHARGED_NOTHING


def _attempt_start(charge_id: int) -> int | None:
    """Step 1: the attempt for the row, created with the row's move to charging in one
    transaction under the client's lock (practice -> client -> invoices, billing.locks'
    order); its id, or None when the row was settled without one."""
    with transaction.atomic():
        client = Client.objects.get(pk=AutoPayCharge.objects.values("client_id").get(pk=charge_id)["client_id"])
        locks.lock_client(client)
        charge = (
            AutoPayCharge.objects.select_for_update(of=("self",))
            .select_related("practice", "client__payer", "enrolment")
            .get(pk=charge_id)
        )
        if charge.is_finished or charge.attempt_id is not None:
            return charge.attempt_id if not charge.is_finished else None
        enrolment = AutoPayEnrolment.objects.select_related("practice").get(pk=charge.enrolment_id)
        due = autopay_amount_due(enrolment, charge.night)
        if due.amount <= 0:
            autopay_charge_settle(charge, AutoPayCharge.Status.NOT_CHARGED, reason=_not_charged_reason(due))
            return None
        card = default_card(charge.practice, client)
        if card is None:
            autopay_charge_settle(charge, AutoPayCharge.Status.FAILED, reason=AUTOPAY_NO_CARD)
            return None
        try:
            attempt = card_charge_create(
                invoices=list(due.invoices), card=card, actor=None, expected_balance=due.amount, job=AUTOPAY_JOB
            )
        except CardChargeRefused as refusal:
            # A charge of these invoices in flight (Pay now, the portal), or the practice
            # cannot take charges now: nothing charged tonight, the reason kept.
            autopay_charge_settle(charge, AutoPayCharge.Status.NOT_CHARGED, reason=str(refusal))
            return None
        charge.attempt = attempt
        charge.amount = attempt.amount
        charge.status = AutoPayCharge.Status.CHARGING
        charge.save(update_fields=["attempt", "amount", "status", "updated_at"])
        return attempt.pk


def autopay_charge_process(*, charge_id: int) -> AutoPayCharge:
    """Charge one client's night, or finish what an earlier try left (the attempt row is
    there: its PaymentIntent is asked for again with the same key). Safe to call any
    number of times, at once too."""
    charge = AutoPayCharge.objects.get(pk=charge_id)
    if charge.is_finished:
        return charge
    attempt_id = charge.attempt_id
    if attempt_id is None:
        attempt_id = _attempt_start(charge_id)
        if attempt_id is None:
            return AutoPayCharge.objects.get(pk=charge_id)
        checkpoint("autopay.after_attempt")
    autopay_rate_wait()
    attempt = card_charge_run(attempt_id=attempt_id)
    checkpoint("autopay.after_charge")
    charge = AutoPayCharge.objects.get(pk=charge_id)
    if not charge.is_finished and not attempt.in_flight:
        # Settled before the row followed it (cannot happen from card_charges, which
        # settles both in one transaction; kept so a row never stays charging for it).
        with transaction.atomic():
            autopay_attempt_settled(CardChargeAttempt.objects.select_for_update().get(pk=attempt_id))
        charge.refresh_from_db()
    return charge


def sweep_after() -> timedelta:
    """How long a row may stay pending or charging before it counts as dropped by its
    worker and the sweeper queues it again (settings.AUTOPAY_SWEEP_AFTER_SECONDS, 15
    minutes). A second task for a row still being worked on finds it done or joins it."""
    return timedelta(seconds=settings.AUTOPAY_SWEEP_AFTER_SECONDS)


def autopay_charges_unfinished(now: datetime | None = None) -> list[int]:
    """Rows a worker left pending or charging (the sweeper queues them again): untouched
    for ``sweep_after()``, and young enough for Stripe to still know their key."""
    now = now or timezone.now()
    return list(
        AutoPayCharge.objects.filter(
            status__in=AutoPayCharge.UNFINISHED,
            updated_at__lt=now - sweep_after(),
            created_at__gte=now - RESEND_WITHIN,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- the evening ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EveningLine:
    client: Client
    due: AutoPayDue
    card: SavedCard | None


def autopay_evening_due(practice: Practice, local_now: datetime) -> date | None:
    """From 6 PM local time, the evening's date, when a client's AutoPay is on."""
    if local_now.time() < EVENING_AT:
        return None
    return local_now.date() if _uses_autopay(practice) else None


def autopay_evening_next_run(practice: Practice, local_now: datetime) -> datetime | None:
    """The next 6 PM, local time (today's until it has passed); None while no client has
    AutoPay on."""
    if not _uses_autopay(practice):
        return None
    today = datetime.combine(local_now.date(), EVENING_AT, tzinfo=local_now.tzinfo)
    return today if local_now < today else today + timedelta(days=1)


def autopay_evening_job(practice: Practice, local_date: date) -> dict[str, int]:
    return autopay_evening_run(practice=practice, night=local_date + timedelta(days=1))


def autopay_tonight(practice: Practice, night: date) -> tuple[list[EveningLine], list[EveningLine], list[EveningLine]]:
    """(to be charged, waiting for approval, skipped) on ``night``, by client name."""
    charged: list[EveningLine] = []
    waiting: list[EveningLine] = []
    skipped: list[EveningLine] = []
    enrolments = autopay_enrolments(practice).select_related("practice", "client__payer")
    for enrolment in sorted(enrolments, key=lambda e: (e.client.last_name, e.client.first_name, e.client_id)):
        due = autopay_amount_due(enrolment, night)
        if due.owed <= 0 or due.off or due.paused:
            continue
        line = EveningLine(enrolment.client, due, default_card(practice, enrolment.client))
        if due.skipped:
            skipped.append(line)
        elif due.waits_for_approval:
            waiting.append(line)
        else:
            charged.append(line)
    return charged, waiting, skipped


def autopay_evening_run(*, practice: Practice, night: date) -> dict[str, int]:
    """The evening before ``night``: each client to be charged gets the evening notice,
    each above their maximum a request to approve, and the owners and billers one summary.
    Each email once (its key names the client or the member, and the night)."""
    charged, waiting, skipped = autopay_tonight(practice, night)
    for line in charged:
        _email_notice(practice, night, line)
    for line in waiting:
        _email_approval(practice, night, line)
    if charged or waiting:
        _email_summary(practice, night, charged, waiting, skipped)
    return {"to_charge": len(charged), "waiting_for_approval": len(waiting), "skipped": len(skipped)}


def _portal_autopay_url(client: Client) -> str:
    if not PortalAccess.objects.filter(client=client, revoked_at__isnull=True).exists():
        return ""
    return settings.SITE_URL.rstrip("/") + reverse("portal:autopay")


def _email_notice(practice: Practice, night: date, line: EveningLine) -> None:
    if not (to := line.client.billing_email):
        return
    email_queue(
        key=f"autopay-notice:{line.client.pk}:{night.isoformat()}",
        to=to,
        subject=f"Tonight's AutoPay with {practice.name}: {practice_money(practice, line.due.amount)}",
        template="autopay_evening_notice",
        context={
            "practice": practice,
            "amount": practice_money(practice, line.due.amount),
            "card": line.card.label if line.card else "your default card",
            "night": night,
            "invoices": [str(i.number) for i in line.due.invoices],
            "link": _portal_autopay_url(line.client),
        },
        practice=practice,
        about=line.client,
    )


def _email_approval(practice: Practice, night: date, line: EveningLine) -> None:
    if not (to := line.client.billing_email):
        return
    enrolment_cap = line.client.autopay_enrolments.filter(ended_at__isnull=True).values_list("max_per_night", flat=True)
    cap = next(iter(enrolment_cap), None)
    email_queue(
        key=f"autopay-approval:{line.client.pk}:{night.isoformat()}",
        to=to,
        subject=f"Approve tonight's AutoPay with {practice.name}?",
        template="autopay_approval",
        context={
            "practice": practice,
            "amount": practice_money(practice, line.due.owed),
            "cap": practice_money(practice, cap) if cap is not None else "",
            "night": night,
            "link": _portal_autopay_url(line.client),
        },
        practice=practice,
        about=line.client,
    )


def _email_summary(
    practice: Practice, night: date, charged: list[EveningLine], waiting: list[EveningLine], skipped: list[EveningLine]
) -> None:
    total = sum((line.due.amount for line in charged), ZERO)
    context = {
        "practice": practice,
        "night": night,
        "charged": [
            (line.client.display_name, practice_money(practice, line.due.amount), line.card.label if line.card else "")
            for line in charged
        ],
        "waiting": [(line.client.display_name, practice_money(practice, line.due.owed)) for line in waiting],
        "skipped": [line.client.display_name for line in skipped],
        "total": practice_money(practice, total),
    }
    count = len(charged)
    members = Membership.objects.filter(
        practice=practice, role__in=[Role.OWNER, Role.BILLER], is_active=True, user__is_active=True
    )
    for membership in members.select_related("user").order_by("pk"):
        if not membership.user.email:
            continue
        email_queue(
            key=f"autopay-summary:{practice.pk}:{night.isoformat()}:{membership.user_id}",
            to=membership.user.email,
            subject=(
                f"AutoPay tonight: {count} client{'' if count == 1 else 's'}, "
                f"{practice_money(practice, total)} ({practice.name})"
            ),
            template="autopay_evening_summary",
            context=context,
            practice=practice,
        )
