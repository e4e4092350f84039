"""Reads of card charges that the dashboard and the Card charges list share. Each takes the
practice first, so every row read belongs to it.

Which charges AutoPay made is decided in one place, ``autopay_night_attempts``: nothing
marks a CardChargeAttempt as AutoPay's yet (the nightly job that makes them is being built
beside this), so until its own row names the attempt, an AutoPay charge is one that no
person started (no staff user, not the client on-session, no form's one-time key) on that
night's local date. Pay now always has its staff user and form key, the portal's charges
are on-session, so nothing else matches. Repoint that function at the job's rows and the
dashboard panel, the list filter and its labels follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from billing.models import Invoice
from clients.autopay import autopay_night_start
from practice.models import Practice

from .models import CardChargeAttempt, CheckoutAttempt

ZERO = Decimal("0")
Status = CardChargeAttempt.Status

# The Card charges list's status filter: Stripe's outcomes, and the two that need staff.
ATTENTION = "attention"
HELD = "held"
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "succeeded": (Status.SUCCEEDED,),
    "failed": (Status.FAILED,),
    "requires_action": (Status.REQUIRES_ACTION,),
    "processing": (Status.CREATED, Status.PROCESSING),
}
STATUS_CHOICES = [
    ("succeeded", "Charged"),
    ("failed", "Declined or failed"),
    ("requires_action", "Needs client action"),
    ("processing", "Still processing"),
    (ATTENTION, "Needing attention (invoice still unpaid)"),
    (HELD, "Card payments held for review"),
]

# What an AutoPay charge looks like until the job marks its own (see the module's docstring).
AUTOPAY_MARK = {"created_by__isnull": True, "on_session": False, "submission_key": ""}


def autopay_night_attempts(practice: Practice, night: date) -> QuerySet[CardChargeAttempt]:
    """The card charges AutoPay made on the night of ``night`` (its 12 AM to 6 AM, read as
    the whole local date, so a run finished late is still that night's). See the module's
    docstring for how an AutoPay charge is told apart until the nightly job marks its own."""
    return CardChargeAttempt.objects.filter(
        practice=practice,
        created_at__gte=autopay_night_start(practice, night),
        created_at__lt=autopay_night_start(practice, night + timedelta(days=1)),
        **AUTOPAY_MARK,
    )


def is_autopay(attempt: CardChargeAttempt) -> bool:
    return attempt.created_by_id is None and not attempt.on_session and not attempt.submission_key


@dataclass(frozen=True)
class Figure:
    count: int
    total: Decimal


@dataclass(frozen=True)
class AutoPayNight:
    """What AutoPay did on one night: charged, declined, waiting for the client to confirm
    with their bank, and still processing (Stripe has not answered yet)."""

    night: date
    charged: Figure
    declined: Figure
    needs_action: Figure
    processing: Figure

    @property
    def count(self) -> int:
        return self.charged.count + self.declined.count + self.needs_action.count + self.processing.count


_NIGHT_OUTCOMES = {
    "charged": "succeeded",
    "declined": "failed",
    "needs_action": "requires_action",
    "processing": "processing",
}


def autopay_night_results(practice: Practice, night: date) -> AutoPayNight:
    """One query: the night's AutoPay charges counted and summed by outcome."""
    sums: dict[str, object] = {}
    for name, key in _NIGHT_OUTCOMES.items():
        q = Q(status__in=STATUS_FILTERS[key])
        sums[f"{name}_count"] = Count("pk", filter=q)
        sums[f"{name}_total"] = Sum("amount", filter=q)
    row = autopay_night_attempts(practice, night).aggregate(**sums)  # type: ignore[arg-type]
    figures = {name: Figure(row[f"{name}_count"], row[f"{name}_total"] or ZERO) for name in _NIGHT_OUTCOMES}
    return AutoPayNight(night=night, **figures)


def card_charges_needing_attention(practice: Practice) -> QuerySet[CardChargeAttempt]:
    """Card charges made without the client present (Pay now, AutoPay) that were declined
    or wait for the client to confirm with their bank, and that nothing has dealt with yet:
    the invoice still owes, and no later charge of it was made. A charge the client made in
    the portal is not here: they saw the answer and can pay another way there."""
    later = CardChargeAttempt.objects.filter(invoice_id=OuterRef("invoice_id"), pk__gt=OuterRef("pk"))
    return CardChargeAttempt.objects.filter(
        practice=practice,
        on_session=False,
        status__in=[Status.FAILED, Status.REQUIRES_ACTION],
        invoice__status=Invoice.Status.OPEN,
        invoice__balance__gt=0,
    ).exclude(Exists(later))


def held_checkout_payments(practice: Practice) -> QuerySet[CheckoutAttempt]:
    """Card payments held for review (Stripe took an amount the invoice did not ask for),
    newest first; they leave the list once staff record what Stripe took."""
    return CheckoutAttempt.objects.filter(practice=practice, status=CheckoutAttempt.Status.HELD).order_by(
        "-created_at", "-pk"
    )


@dataclass(frozen=True)
class Attention:
    declined: Figure
    held: int


def payments_needing_attention(practice: Practice) -> Attention:
    """Two queries: the charges needing attention (count and amount) and the held payments."""
    declined = card_charges_needing_attention(practice).aggregate(count=Count("pk"), total=Sum("amount"))
    return Attention(
        declined=Figure(declined["count"], declined["total"] or ZERO),
        held=held_checkout_payments(practice).count(),
    )


def card_charge_list(
    practice: Practice, *, status: str = "", autopay_night: date | None = None
) -> QuerySet[CardChargeAttempt]:
    """The Card charges list, newest first, with what each row shows joined in."""
    if status == ATTENTION:
        rows = card_charges_needing_attention(practice)
    else:
        rows = CardChargeAttempt.objects.filter(practice=practice)
        if status in STATUS_FILTERS:
            rows = rows.filter(status__in=STATUS_FILTERS[status])
    if autopay_night is not None:
        rows = rows.filter(pk__in=autopay_night_attempts(practice, autopay_night).values("pk"))
    return rows.select_related("client", "invoice", "card", "created_by").order_by("-created_at", "-pk")
