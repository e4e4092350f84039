"""Reads of card charges that the dashboard and the Card charges list share. Each takes the
practice first, so every row read belongs to it.

AutoPay's results come from its own rows (AutoPayCharge, one per client and night): a
night's figures count them by outcome, including a night that failed before any card was
charged (no default card) or charged nothing after all, and the list filtered by that night
shows the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from billing.models import Invoice
from practice.models import Practice

from .models import AutoPayCharge, CardChargeAttempt, CheckoutAttempt

ZERO = Decimal("0")
Status = CardChargeAttempt.Status

# The Card charges list's status filter: Stripe's outcomes, and the two that need staff.
ATTENTION = "attention"
HELD = "held"
NOT_CHARGED = "not_charged"
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "succeeded": (Status.SUCCEEDED,),
    "failed": (Status.FAILED,),
    "requires_action": (Status.REQUIRES_ACTION,),
    "processing": (Status.CREATED, Status.PROCESSING),
}
# The same filter on a night's AutoPay rows.
AutoPayStatus = AutoPayCharge.Status
AUTOPAY_STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "succeeded": (AutoPayStatus.SUCCEEDED,),
    "failed": (AutoPayStatus.FAILED,),
    "requires_action": (AutoPayStatus.NEEDS_ACTION,),
    "processing": (AutoPayStatus.PENDING, AutoPayStatus.CHARGING),
    NOT_CHARGED: (AutoPayStatus.NOT_CHARGED,),
    ATTENTION: tuple(AutoPayCharge.PROBLEMS),
}
STATUS_CHOICES = [
    ("succeeded", "Charged"),
    ("failed", "Declined or failed"),
    ("requires_action", "Needs client action"),
    ("processing", "Still processing"),
    (NOT_CHARGED, "Not charged after all (AutoPay)"),
    (ATTENTION, "Needing attention (invoice still unpaid)"),
    (HELD, "Card payments held for review"),
]


def autopay_night_charges(practice: Practice, night: date) -> QuerySet[AutoPayCharge]:
    """AutoPay's rows of the night of ``night`` (the local date whose 12 AM to 6 AM it
    charged in), one per client it meant to charge."""
    return AutoPayCharge.objects.filter(practice=practice, night=night)


def is_autopay(attempt: CardChargeAttempt) -> bool:
    """Whether AutoPay made the attempt (read with ``select_related("autopay_charge")``)."""
    return hasattr(attempt, "autopay_charge")


@dataclass(frozen=True)
class Figure:
    count: int
    total: Decimal


@dataclass(frozen=True)
class AutoPayNight:
    """What AutoPay did on one night: charged, declined or failed, waiting for the client to
    confirm with their bank, still charging, and not charged after all (nothing due any
    more, skipped, or above the client's maximum)."""

    night: date
    charged: Figure
    declined: Figure
    needs_action: Figure
    processing: Figure
    not_charged: Figure

    @property
    def count(self) -> int:
        return sum(f.count for f in (self.charged, self.declined, self.needs_action, self.processing, self.not_charged))


_NIGHT_OUTCOMES = {
    "charged": "succeeded",
    "declined": "failed",
    "needs_action": "requires_action",
    "processing": "processing",
    "not_charged": NOT_CHARGED,
}


def autopay_night_results(practice: Practice, night: date) -> AutoPayNight:
    """One query: the night's AutoPay rows counted and summed by status, then added up by
    outcome (a few rows, one per status the night reached)."""
    by_status = {
        row["status"]: row
        for row in autopay_night_charges(practice, night)
        .order_by()
        .values("status")
        .annotate(count=Count("pk"), total=Sum("amount"))
    }
    figures = {}
    for name, key in _NIGHT_OUTCOMES.items():
        rows = [by_status[status] for status in AUTOPAY_STATUS_FILTERS[key] if status in by_status]
        figures[name] = Figure(sum(row["count"] for row in rows), sum((row["total"] for row in rows), ZERO))
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


def card_charge_list(practice: Practice, *, status: str = "") -> QuerySet[CardChargeAttempt]:
    """The Card charges list, newest first, with what each row shows joined in."""
    if status == ATTENTION:
        rows = card_charges_needing_attention(practice)
    else:
        rows = CardChargeAttempt.objects.filter(practice=practice)
        if status in STATUS_FILTERS:
            rows = rows.filter(status__in=STATUS_FILTERS[status])
    return rows.select_related("client", "invoice", "card", "created_by", "autopay_charge").order_by(
        "-created_at", "-pk"
    )


def autopay_night_list(practice: Practice, night: date, *, status: str = "") -> QuerySet[AutoPayCharge]:
    """The night's AutoPay rows (the list behind the dashboard's AutoPay figures), by
    client name, with the card charge each made."""
    rows = autopay_night_charges(practice, night)
    if status in AUTOPAY_STATUS_FILTERS:
        rows = rows.filter(status__in=AUTOPAY_STATUS_FILTERS[status])
    return rows.select_related("client", "attempt__card", "attempt__invoice").order_by(
        "client__last_name", "client__first_name", "pk"
    )
