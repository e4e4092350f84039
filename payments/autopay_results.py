"""What became of a night's AutoPay charge, and who is told.

An AutoPayCharge follows its card charge attempt: card_charges settles the attempt from
Stripe's answer, a re-read or a webhook, and calls ``autopay_attempt_settled`` in the same
transaction, so the charge's status, the client's email and a pause are written once
whichever of them arrives first. A success's receipt is card_charges' (as for Pay now).

- Failed (a decline, or no card to charge): the client is emailed a link to save a new
  card, which replaces the default and resumes AutoPay if it was paused. Staff see it on
  the Billing page and the client's Billing tab.
- Failed on AUTOPAY_PAUSE_AFTER nights in a row: the enrolment is paused (on, charging
  nothing) and the client and the practice's owners are emailed instead.
- Needs client action (the bank wants the client to authenticate): the client is emailed
  the payment links of the night's invoices, to finish paying with the card in hand.

Every email's key names the charge, so a repeat settles nothing twice and sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice
from billing.payment_links import payment_link_url
from clients.autopay import AUTOPAY_PAUSE_AFTER, autopay_pause
from clients.models import AutoPayEnrolment, Client, PortalAccess
from practice.actor import Actor
from practice.mail import email_queue
from practice.models import Membership, Practice, Role
from practice.money import practice_money

from .cards import card_link_url
from .models import AutoPayCharge, CardChargeAttempt

AUTOPAY_JOB = "autopay"
AUTOPAY_NO_CARD = "No default card was saved to charge."
AUTOPAY_PAUSED_REASON = "Payment failed on {count} nights in a row."
DECLINED_DEFAULT = "The card was declined."

_STATUS_OF_ATTEMPT = {
    CardChargeAttempt.Status.CREATED: AutoPayCharge.Status.CHARGING,
    CardChargeAttempt.Status.PROCESSING: AutoPayCharge.Status.CHARGING,
    CardChargeAttempt.Status.SUCCEEDED: AutoPayCharge.Status.SUCCEEDED,
    CardChargeAttempt.Status.FAILED: AutoPayCharge.Status.FAILED,
    CardChargeAttempt.Status.REQUIRES_ACTION: AutoPayCharge.Status.NEEDS_ACTION,
}


def autopay_attempt_settled(attempt: CardChargeAttempt) -> bool:
    """card_charges' call, in its transaction, once ``attempt`` is saved with Stripe's state:
    bring the AutoPay charge made with it (if any) to the same state. True when the attempt
    is AutoPay's (its client emails are then AutoPay's, not Pay now's)."""
    charge = (
        AutoPayCharge.objects.select_for_update(of=("self",))
        .select_related("practice", "client__payer", "enrolment")
        .filter(attempt_id=attempt.pk)
        .first()
    )
    if charge is None:
        return False
    status = _STATUS_OF_ATTEMPT[CardChargeAttempt.Status(attempt.status)]
    if charge.status != status:
        reason = attempt.failure_reason or (DECLINED_DEFAULT if status == AutoPayCharge.Status.FAILED else "")
        autopay_charge_settle(charge, status, reason=reason, attempt=attempt)
    return True


def autopay_charge_settle(
    charge: AutoPayCharge, status: str, *, reason: str = "", attempt: CardChargeAttempt | None = None
) -> None:
    """Move ``charge`` (its row held by the caller, in a transaction) to ``status`` and tell
    whom it concerns. The enrolment's count of failed nights follows: one more for a
    failure (pausing it at AUTOPAY_PAUSE_AFTER), back to 0 for a success."""
    charge.status = status
    charge.reason = reason[:500]
    if status not in AutoPayCharge.UNFINISHED:
        charge.settled_at = timezone.now()
    if attempt is not None:
        charge.amount = attempt.amount
    charge.save(update_fields=["status", "reason", "settled_at", "amount", "updated_at"])
    if status == AutoPayCharge.Status.SUCCEEDED:
        AutoPayEnrolment.objects.filter(pk=charge.enrolment_id).exclude(failures_in_a_row=0).update(failures_in_a_row=0)
    elif status == AutoPayCharge.Status.FAILED:
        enrolment = (
            AutoPayEnrolment.objects.select_for_update()
            .select_related("practice", "client")
            .get(pk=charge.enrolment_id)
        )
        enrolment.failures_in_a_row += 1
        enrolment.save(update_fields=["failures_in_a_row"])
        paused = enrolment.failures_in_a_row >= AUTOPAY_PAUSE_AFTER and autopay_pause(
            enrolment=enrolment,
            reason=AUTOPAY_PAUSED_REASON.format(count=enrolment.failures_in_a_row),
            actor=Actor.system(AUTOPAY_JOB),
        )
        if paused:
            _email_paused(charge, enrolment)
        else:
            _email_failed(charge, attempt, nights_left=AUTOPAY_PAUSE_AFTER - enrolment.failures_in_a_row)
    elif status == AutoPayCharge.Status.NEEDS_ACTION and attempt is not None:
        _email_needs_action(charge, attempt)


# --- emails --------------------------------------------------------------------------------


def _portal_url(client: Client, name: str) -> str:
    """The portal page's address when the client can sign in to the portal, else ""."""
    if not PortalAccess.objects.filter(client=client, revoked_at__isnull=True).exists():
        return ""
    return settings.SITE_URL.rstrip("/") + reverse(name)


def _card_label(attempt: CardChargeAttempt | None) -> str:
    return attempt.card.label if attempt is not None else ""


def _context(charge: AutoPayCharge) -> dict[str, object]:
    return {
        "practice": charge.practice,
        "amount": practice_money(charge.practice, charge.amount),
        "night": charge.night,
        "reason": charge.reason,
    }


def _email_failed(charge: AutoPayCharge, attempt: CardChargeAttempt | None, *, nights_left: int) -> None:
    client = charge.client
    if not (to := client.billing_email):
        return
    email_queue(
        key=f"autopay:{charge.pk}:failed",
        to=to,
        subject=f"Your AutoPay payment to {charge.practice.name} did not go through",
        template="autopay_failed",
        context={
            **_context(charge),
            "card": _card_label(attempt),
            "update_link": card_link_url(client, replace_default=True),
            "portal_link": _portal_url(client, "portal:payment_methods"),
            "nights_left": nights_left,
        },
        practice=charge.practice,
        about=client,
    )


def _email_paused(charge: AutoPayCharge, enrolment: AutoPayEnrolment) -> None:
    client = charge.client
    practice = charge.practice
    context = {**_context(charge), "paused_reason": enrolment.paused_reason, "client_name": client.display_name}
    if to := client.billing_email:
        email_queue(
            key=f"autopay:{charge.pk}:paused",
            to=to,
            subject=f"AutoPay with {practice.name} is paused",
            template="autopay_paused",
            context={
                **context,
                "update_link": card_link_url(client, replace_default=True),
                "portal_link": _portal_url(client, "portal:autopay"),
            },
            practice=practice,
            about=client,
        )
    client_url = settings.SITE_URL.rstrip("/") + reverse(
        "clients:billing", kwargs={"practice_slug": practice.slug, "client_id": client.pk}
    )
    owners = Membership.objects.filter(practice=practice, role=Role.OWNER, is_active=True, user__is_active=True)
    for membership in owners.select_related("user").order_by("pk"):
        if membership.user.email:
            email_queue(
                key=f"autopay:{charge.pk}:paused:{membership.user_id}",
                to=membership.user.email,
                subject=f"AutoPay paused for {client.display_name}",
                template="autopay_paused_staff",
                context={**context, "client_url": client_url},
                practice=practice,
                about=client,
            )


def _email_needs_action(charge: AutoPayCharge, attempt: CardChargeAttempt) -> None:
    client = charge.client
    if not (to := client.billing_email):
        return
    invoices = Invoice.objects.filter(
        practice=charge.practice, pk__in=attempt.allocations.values("invoice_id"), balance__gt=0
    ).order_by("issue_date", "sequence", "pk")
    email_queue(
        key=f"autopay:{charge.pk}:action",
        to=to,
        subject=f"Please confirm your AutoPay payment to {charge.practice.name}",
        template="autopay_action",
        context={
            **_context(charge),
            "card": attempt.card.label,
            "invoices": [
                (str(i.number), practice_money(charge.practice, i.balance), payment_link_url(i)) for i in invoices
            ],
            "portal_link": _portal_url(client, "portal:home"),
        },
        practice=charge.practice,
        about=client,
    )


# --- reads: the portal's last result, staff's notices ----------------------------------------


def autopay_last_charge(client: Client) -> AutoPayCharge | None:
    """The client's latest AutoPay charge that tried to take money (not a night it had
    nothing to charge)."""
    return (
        AutoPayCharge.objects.filter(practice_id=client.practice_id, client=client)
        .exclude(status=AutoPayCharge.Status.NOT_CHARGED)
        .select_related("practice", "attempt__card")
        .order_by("-night", "-pk")
        .first()
    )


def autopay_result_text(charge: AutoPayCharge) -> str:
    """The charge's outcome in the client's words (the portal's Last result)."""
    amount = practice_money(charge.practice, charge.amount)
    card = charge.attempt.card.label if charge.attempt is not None else "your card"
    Status = AutoPayCharge.Status
    if charge.status == Status.SUCCEEDED:
        return f"{amount} charged to {card}."
    if charge.status == Status.FAILED:
        return f"{amount} could not be charged: {charge.reason or DECLINED_DEFAULT}"
    if charge.status == Status.NEEDS_ACTION:
        return f"{amount} waits for you to confirm it with your bank (we emailed you a link)."
    return f"{amount} is being charged to {card}."


@dataclass(frozen=True)
class AutoPayAttention:
    """One client whose AutoPay needs staff to know: last night's charge failed or waits
    for the client (``status``, ``amount``, ``reason``), or AutoPay is paused."""

    client: Client
    paused: bool
    status: str | None
    amount: Decimal | None
    reason: str

    @property
    def status_label(self) -> str:
        return AutoPayCharge.Status(self.status).label if self.status else ""


def autopay_attention_rows(practice: Practice, night: date) -> QuerySet[AutoPayEnrolment]:
    """The enrolments whose charge on ``night`` failed or needs the client, or which are
    paused, annotated with that charge's status, amount and reason."""
    problem = AutoPayCharge.objects.filter(enrolment=OuterRef("pk"), night=night, status__in=AutoPayCharge.PROBLEMS)
    return (
        AutoPayEnrolment.objects.filter(practice=practice)
        .annotate(
            problem_status=Subquery(problem.values("status")[:1]),
            problem_amount=Subquery(problem.values("amount")[:1]),
            problem_reason=Subquery(problem.values("reason")[:1]),
        )
        .filter(Q(ended_at__isnull=True, paused_at__isnull=False) | Q(problem_status__isnull=False))
    )


def autopay_attention(practice: Practice, night: date, limit: int = 20) -> list[AutoPayAttention]:
    """The clients whose charge on ``night`` failed or needs them, and those whose AutoPay
    is paused, by name, in one query."""
    rows = (
        autopay_attention_rows(practice, night)
        .select_related("client")
        .order_by("client__last_name", "client__first_name", "pk")[:limit]
    )
    return [
        AutoPayAttention(
            client=row.client,
            paused=row.is_paused,
            status=row.problem_status,  # type: ignore[attr-defined]
            amount=row.problem_amount,  # type: ignore[attr-defined]
            reason=row.problem_reason or "",  # type: ignore[attr-defined]
        )
        for row in rows
    ]


def autopay_client_charges(client: Client, limit: int = 5) -> list[AutoPayCharge]:
    """The client's latest AutoPay charges (their Billing tab)."""
    return list(
        AutoPayCharge.objects.filter(practice_id=client.practice_id, client=client)
        .select_related("attempt__card")
        .order_by("-night", "-pk")[:limit]
    )
