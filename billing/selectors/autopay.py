"""What AutoPay would charge a client on a night (the nightly job calls it; the portal's
evening notice shows it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from clients.autopay import autopay_night_next, autopay_night_start
from clients.models import AutoPayApproval, AutoPayEnrolment, AutoPaySkip

from ..models import Invoice

ZERO = Decimal("0")


@dataclass(frozen=True)
class AutoPayDue:
    """A night's AutoPay for one enrolment.

    ``owed`` is what AutoPay covers on the night's invoices (oldest first); ``amount`` is
    what the night may charge: ``owed``, or nothing when AutoPay is off or paused (after
    failed nights), the night is skipped, or ``owed`` is above the client's maximum per
    night without their approval (``waits_for_approval``)."""

    night: date
    owed: Decimal
    invoices: tuple[Invoice, ...]
    skipped: bool = False
    waits_for_approval: bool = False
    approved: bool = False
    off: bool = False
    paused: bool = False

    @property
    def amount(self) -> Decimal:
        if self.off or self.paused or self.skipped or self.waits_for_approval:
            return ZERO
        return self.owed


def autopay_amount_due(enrolment: AutoPayEnrolment, night: date) -> AutoPayDue:
    """What ``enrolment`` may charge on ``night`` (the practice's local date whose 12 AM to
    6 AM the charge runs in).

    Owed: the balances of the client's open invoices issued before the night began, left
    out those issued at or before the enrolment's ``balance_cutoff_at`` unless the client
    chose to include the balance they had then. Nothing for a night before the enrolment
    (its first is the next night after enrolling), once it has ended, while it is paused
    or on a skipped night; above the maximum per night, nothing until the client approves
    at least that amount for the night."""
    practice = enrolment.practice
    start = autopay_night_start(practice, night)
    invoices = Invoice.objects.filter(
        practice=practice,
        client_id=enrolment.client_id,
        kind=Invoice.Kind.INVOICE,
        status=Invoice.Status.OPEN,
        balance__gt=0,
        issued_at__lt=start,
    )
    if not enrolment.include_balance:
        invoices = invoices.filter(issued_at__gt=enrolment.balance_cutoff_at)
    found = tuple(invoices.select_related("practice").order_by("issue_date", "sequence", "pk"))
    owed = sum((i.balance for i in found), ZERO)
    ended = enrolment.ended_at is not None and enrolment.ended_at <= start
    if ended or night < autopay_night_next(practice, enrolment.started_at):
        return AutoPayDue(night=night, owed=owed, invoices=found, off=True)
    if enrolment.paused_at is not None:
        return AutoPayDue(night=night, owed=owed, invoices=found, paused=True)
    if AutoPaySkip.objects.filter(enrolment=enrolment, night=night).exists():
        return AutoPayDue(night=night, owed=owed, invoices=found, skipped=True)
    cap = enrolment.max_per_night
    if cap is not None and owed > cap:
        approval = AutoPayApproval.objects.filter(enrolment=enrolment, night=night).first()
        approved = approval is not None and approval.amount >= owed
        return AutoPayDue(night=night, owed=owed, invoices=found, waits_for_approval=not approved, approved=approved)
    return AutoPayDue(night=night, owed=owed, invoices=found)
