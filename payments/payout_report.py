"""The Payouts reconciliation report: each payout Stripe made in a date range with the
payments, refunds and disputes in it and the fees Stripe kept, matched to the app's own
records, and every difference said in words.

A line of a payout matches when the app has the record it stands for, in the same state
and for the same amount: a payment (billing's Payment whose ``external_id`` is the line's
PaymentIntent), a refund (billing's Refund whose ``external_id`` is Stripe's refund), a
dispute (the payment marked disputed) or its reversal (the dispute marked won). A payout
matches when its lines add up to what reached the bank. The other way round, a card
payment or a Stripe refund the app recorded in the range that is in no payout is listed,
and flagged once Stripe has paid out since without it.

A fixed number of queries whatever the number of payouts or lines: the payouts, their
lines, the payments and refunds they name, the app's records in no payout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Exists, Max, OuterRef, Prefetch
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, Refund
from billing.selectors.home import COLLECTED_STATUSES
from practice.csv_export import csv_money, csv_text
from practice.dates import day_label
from practice.models import Practice
from practice.money import practice_money

from .models import Payout, PayoutLine
from .stripe_payments import ONLINE_METHODS

ZERO = Decimal("0")
# Stripe pays a card payment out a few days after it is taken (two business days in most
# countries, up to seven in some). A payment older than that at the latest payout, and in
# no payout, was left out.
PAYOUT_DELAY_DAYS = 7

NO_PAYMENT = "Stripe took this payment, but Practica has no payment for it."
PAYMENT_NOT_KEPT = "Stripe paid this out, but Practica shows the payment as {status}."
AMOUNT_DIFFERS = "Stripe's amount is {stripe}; Practica recorded {app}."
NO_REFUND = "Stripe refunded this, but Practica has no refund for it."
REFUND_DIFFERS = "Stripe refunded {stripe}; Practica recorded {app}."
DISPUTE_NO_PAYMENT = "Stripe took this back for a dispute of a payment Practica does not have."
DISPUTE_NOT_MARKED = "Stripe took this back for a dispute, but Practica does not show the payment as disputed."
REVERSAL_NOT_WON = "Stripe returned this disputed money, but Practica does not show the dispute as won."
OTHER_NO_RECORD = "Not a payment, refund or dispute ({type}): Practica keeps no record of it. Check it in Stripe."
OTHER_CURRENCY = "Settled in {currency}, not the practice's currency: compare it in Stripe."
LINES_UNREAD = "Its transactions have not been read from Stripe yet: Refresh from Stripe."
SUM_DIFFERS = "Its transactions add up to {lines}, not the {payout} that reached the bank."
PAYOUT_FAILED = "Stripe says this payout {status}{why}: the money did not reach the bank."
NOT_PAID_OUT = "In no payout: Stripe paid out on {payout} without it."
NOT_YET = "Not paid out yet: Stripe pays a card payment out a few days after it is taken."


@dataclass
class Line:
    line: PayoutLine
    record: str = ""
    record_url: str = ""
    problem: str = ""


@dataclass
class PayoutRow:
    payout: Payout
    lines: list[Line] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    gross: Decimal = ZERO
    fees: Decimal = ZERO
    refunds: Decimal = ZERO
    disputes: Decimal = ZERO
    other: Decimal = ZERO
    net: Decimal = ZERO

    @property
    def problem_count(self) -> int:
        return len(self.problems) + sum(1 for line in self.lines if line.problem)


@dataclass
class Unpaid:
    """A card payment or a Stripe refund the app recorded that no payout read holds."""

    kind: str
    day: date
    client: str
    amount: Decimal
    reference: str
    url: str
    problem: str
    flagged: bool


@dataclass
class PayoutReport:
    start: date
    end: date
    payouts: list[PayoutRow]
    unpaid: list[Unpaid]
    last_read: datetime | None
    totals: dict[str, Decimal]

    @property
    def problem_count(self) -> int:
        return sum(p.problem_count for p in self.payouts) + sum(1 for u in self.unpaid if u.flagged)


def _local_bounds(practice: Practice, start: date, end: date) -> tuple[datetime, datetime]:
    tz = practice.tzinfo
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)


def payout_report(practice: Practice, start: date, end: date) -> PayoutReport:
    """The payouts Stripe made from ``start`` to ``end`` (the practice's local dates, both
    included), newest first, checked against the app's records."""
    begin, until = _local_bounds(practice, start, end)
    payouts = list(
        Payout.objects.filter(practice=practice, created__gte=begin, created__lt=until)
        .prefetch_related(Prefetch("lines", queryset=PayoutLine.objects.order_by("created", "pk")))
        .order_by("-created", "-pk")
    )
    lines = [line for payout in payouts for line in payout.lines.all()]
    intents = {line.payment_intent_id for line in lines if line.payment_intent_id}
    sources = {line.source_id for line in lines if line.kind == PayoutLine.Kind.REFUND and line.source_id}
    payments = {
        p.external_id: p
        for p in Payment.objects.filter(practice=practice, external_id__in=intents).select_related("client")
    }
    refunds = {r.external_id: r for r in Refund.objects.filter(practice=practice, external_id__in=sources)}
    rows = [_payout_row(practice, payout, payments, refunds) for payout in payouts]
    latest = Payout.objects.filter(practice=practice).aggregate(latest=Max("created"), read=Max("synced_at"))
    unpaid = _unpaid(practice, start, end, latest["latest"])
    totals = {
        name: sum((getattr(row, name) for row in rows), ZERO)
        for name in ("gross", "fees", "refunds", "disputes", "other", "net")
    }
    totals["amount"] = sum((row.payout.amount for row in rows), ZERO)
    return PayoutReport(start=start, end=end, payouts=rows, unpaid=unpaid, last_read=latest["read"], totals=totals)


def _payment_url(practice: Practice, payment: Payment) -> str:
    return reverse("billing:payment", kwargs={"practice_slug": practice.slug, "payment_id": payment.pk})


def _money(practice: Practice, amount: Decimal, currency: str) -> str:
    return practice_money(practice, amount, currency=currency)


def _payout_row(
    practice: Practice, payout: Payout, payments: dict[str, Payment], refunds: dict[str, Refund]
) -> PayoutRow:
    row = PayoutRow(payout=payout)
    Kind = PayoutLine.Kind
    for line in payout.lines.all():
        checked = _check(practice, line, payments, refunds)
        row.lines.append(checked)
        row.fees += line.fee
        row.net += line.net
        if line.kind == Kind.PAYMENT:
            row.gross += line.amount
        elif line.kind == Kind.REFUND:
            row.refunds += line.amount
        elif line.kind in (Kind.DISPUTE, Kind.DISPUTE_REVERSAL):
            row.disputes += line.amount
        else:
            row.other += line.amount
    if payout.status in (Payout.Status.FAILED, Payout.Status.CANCELED):
        why = f" ({payout.failure_message.rstrip('.')})" if payout.failure_message else ""
        row.problems.append(PAYOUT_FAILED.format(status=payout.status_label.lower(), why=why))
    if payout.lines_synced_at is None:
        row.problems.append(LINES_UNREAD)
    elif row.net != payout.amount:
        lines_sum, paid = _money(practice, row.net, payout.currency), _money(practice, payout.amount, payout.currency)
        row.problems.append(SUM_DIFFERS.format(lines=lines_sum, payout=paid))
    return row


def _check(practice: Practice, line: PayoutLine, payments: dict[str, Payment], refunds: dict[str, Refund]) -> Line:
    """The app's record of one line and, when they differ, how, in words."""
    Kind = PayoutLine.Kind
    checked = Line(line=line)
    payment = payments.get(line.payment_intent_id) if line.payment_intent_id else None
    if payment is not None:
        checked.record = f"Payment of {day_label(payment.received_on)}, {payment.client.display_name}"
        checked.record_url = _payment_url(practice, payment)
    same_currency = line.currency == practice.currency
    if line.kind == Kind.PAYMENT:
        if payment is None:
            checked.problem = NO_PAYMENT
        elif payment.status not in COLLECTED_STATUSES:
            checked.problem = PAYMENT_NOT_KEPT.format(status=payment.get_status_display().lower())
        elif not same_currency:
            checked.problem = OTHER_CURRENCY.format(currency=line.currency)
        elif payment.amount != line.amount:
            checked.problem = AMOUNT_DIFFERS.format(
                stripe=_money(practice, line.amount, line.currency), app=practice_money(practice, payment.amount)
            )
    elif line.kind == Kind.REFUND:
        refund = refunds.get(line.source_id)
        if refund is None:
            checked.problem = NO_REFUND
            return checked
        checked.record = f"Refund of {day_label(refund.refunded_on)}"
        checked.record_url = reverse(
            "billing:payment", kwargs={"practice_slug": practice.slug, "payment_id": refund.payment_id}
        )
        if not same_currency:
            checked.problem = OTHER_CURRENCY.format(currency=line.currency)
        elif refund.amount != -line.amount:
            checked.problem = REFUND_DIFFERS.format(
                stripe=_money(practice, -line.amount, line.currency), app=practice_money(practice, refund.amount)
            )
    elif line.kind == Kind.DISPUTE:
        if payment is None:
            checked.problem = DISPUTE_NO_PAYMENT
        elif payment.dispute_status == Payment.DisputeStatus.NONE:
            checked.problem = DISPUTE_NOT_MARKED
    elif line.kind == Kind.DISPUTE_REVERSAL:
        if payment is None or payment.dispute_status != Payment.DisputeStatus.WON:
            checked.problem = REVERSAL_NOT_WON
    else:
        checked.problem = OTHER_NO_RECORD.format(type=line.stripe_type.replace("_", " "))
    return checked


def _unpaid(practice: Practice, start: date, end: date, latest: datetime | None) -> list[Unpaid]:
    """Card payments and Stripe refunds recorded from ``start`` to ``end`` that are in no
    payout read, oldest first: flagged when Stripe has paid out since without them."""
    cutoff = timezone.localtime(latest, practice.tzinfo).date() - timedelta(days=PAYOUT_DELAY_DAYS) if latest else None
    paid_out_on = day_label(timezone.localtime(latest, practice.tzinfo)) if latest else ""
    in_payout = PayoutLine.objects.filter(
        practice=practice, kind=PayoutLine.Kind.PAYMENT, payment_intent_id=OuterRef("external_id")
    )
    payments = (
        Payment.objects.filter(
            practice=practice,
            method__in=ONLINE_METHODS,
            status__in=COLLECTED_STATUSES,
            received_on__gte=start,
            received_on__lte=end,
        )
        .exclude(external_id="")
        .exclude(Exists(in_payout))
        .select_related("client")
        .order_by("received_on", "pk")
    )
    refunded = PayoutLine.objects.filter(practice=practice, source_id=OuterRef("external_id"))
    refunds = (
        Refund.objects.filter(practice=practice, refunded_on__gte=start, refunded_on__lte=end)
        .exclude(external_id="")
        .exclude(Exists(refunded))
        .select_related("client", "payment")
        .order_by("refunded_on", "pk")
    )
    rows: list[Unpaid] = []
    for payment in payments:
        flagged = cutoff is not None and payment.received_on < cutoff
        rows.append(
            Unpaid(
                kind="Payment",
                day=payment.received_on,
                client=payment.client.display_name,
                amount=payment.amount,
                reference=payment.external_id,
                url=_payment_url(practice, payment),
                problem=NOT_PAID_OUT.format(payout=paid_out_on) if flagged else NOT_YET,
                flagged=flagged,
            )
        )
    for refund in refunds:
        flagged = cutoff is not None and refund.refunded_on < cutoff
        rows.append(
            Unpaid(
                kind="Refund",
                day=refund.refunded_on,
                client=refund.client.display_name,
                amount=-refund.amount,
                reference=refund.external_id,
                url=_payment_url(practice, refund.payment),
                problem=NOT_PAID_OUT.format(payout=paid_out_on) if flagged else NOT_YET,
                flagged=flagged,
            )
        )
    return sorted(rows, key=lambda u: (u.day, u.kind))


# --- Export CSV ------------------------------------------------------------------------------

CSV_HEADER = [
    "Row",
    "Payout",
    "Payout date",
    "Arrival date",
    "Payout status",
    "Date",
    "Type",
    "Description",
    "Stripe source",
    "PaymentIntent",
    "Currency",
    "Amount",
    "Fee",
    "Net",
    "Practica record",
    "Matches",
    "Problem",
]


def payout_report_csv_rows(practice: Practice, report: PayoutReport) -> Iterator[list[str]]:
    """A row per payout (its totals and its own problems), then a row per line of it, then
    the app's records in no payout: text made safe for a spreadsheet by csv_text."""
    for row in report.payouts:
        payout = row.payout
        head = [
            csv_text(payout.stripe_payout_id),
            csv_text(timezone.localtime(payout.created, practice.tzinfo).date()),
            csv_text(payout.arrival_date),
            csv_text(payout.status_label),
        ]
        yield [
            "Payout",
            *head,
            csv_text(timezone.localtime(payout.created, practice.tzinfo).date()),
            "Payout",
            "Paid out to the bank (amount: the payments in it; net: the payout)",
            "",
            "",
            csv_text(payout.currency),
            csv_money(practice, row.gross),
            csv_money(practice, row.fees),
            csv_money(practice, payout.amount),
            "",
            "no" if row.problems else "yes",
            csv_text(" ".join(row.problems)),
        ]
        for checked in row.lines:
            line = checked.line
            yield [
                "Line",
                *head,
                csv_text(timezone.localtime(line.created, practice.tzinfo).date()),
                csv_text(line.get_kind_display()),
                csv_text(line.description),
                csv_text(line.source_id),
                csv_text(line.payment_intent_id),
                csv_text(line.currency),
                csv_money(practice, line.amount),
                csv_money(practice, line.fee),
                csv_money(practice, line.net),
                csv_text(checked.record),
                "no" if checked.problem else "yes",
                csv_text(checked.problem),
            ]
    for unpaid in report.unpaid:
        yield [
            "Not in a payout",
            "",
            "",
            "",
            "",
            csv_text(unpaid.day),
            csv_text(unpaid.kind),
            csv_text(unpaid.client),
            "",
            csv_text(unpaid.reference),
            csv_text(practice.currency),
            csv_money(practice, unpaid.amount),
            "",
            "",
            csv_text(f"{unpaid.kind} of {day_label(unpaid.day)}, {unpaid.client}"),
            "no" if unpaid.flagged else "not yet",
            csv_text(unpaid.problem),
        ]
