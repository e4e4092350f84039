"""Disputes (chargebacks) of card payments, as the card processor reports them.

The seam the payments app calls with the dispute's current state, however often and in
whatever order its events come: the payment's ``dispute_status`` follows it, and a lost
dispute's money lands in the ledger once, as a refund of the payment keyed by the
dispute's id.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from practice.actor import Actor
from practice.audit import audit_write
from practice.models import User

from .. import locks
from ..inputs import money_problem
from ..models import Payment
from .payments import _settled_actor
from .refunds import _card_refund_found, _refund_locked

DISPUTE_LOST_REASON = "Dispute lost"
DISPUTE_STATUS_UNKNOWN = "Unknown dispute status."
DISPUTE_ID_REQUIRED = "A dispute needs the processor's id."
DISPUTE_AMOUNT_POSITIVE = "A lost dispute needs the amount taken back."


def payment_dispute_update(
    *,
    payment: Payment,
    status: str,
    dispute_id: str,
    amount_lost: Decimal | None = None,
    actor: Actor | User | None = None,
) -> Payment:
    """Make a card payment's dispute state ``status`` (none, open, won or lost).

    Lost: ``amount_lost`` (what the bank took back) is recorded as a refund of the payment
    with ``dispute_id`` as its external id and the reason "Dispute lost", taken like any
    card refund from the credit the payment created, then from its invoices newest first
    (a Paid invoice reopens). Won: nothing moves in the ledger. Idempotent: the same state
    again changes nothing; a decided dispute (won, lost) never changes its outcome.
    ``actor`` None is the payments job (the webhook)."""
    dispute_id = (dispute_id or "").strip()
    if status not in Payment.DisputeStatus.values:
        raise ValidationError(DISPUTE_STATUS_UNKNOWN)
    if not dispute_id:
        raise ValidationError(DISPUTE_ID_REQUIRED)
    if status == Payment.DisputeStatus.LOST:
        if amount_lost is None or amount_lost <= 0:
            raise ValidationError({"amount": DISPUTE_AMOUNT_POSITIVE})
        if problem := money_problem(amount_lost, payment.currency):
            raise ValidationError({"amount": problem})
    who = _settled_actor(actor)
    with transaction.atomic():
        account = locks.lock_client(payment.client)
        # Every dispute write takes the client's lock first: the payment read now is current.
        current = Payment.objects.get(pk=payment.pk)
        if refusal := current.dispute_refusal(status):
            raise ValidationError(refusal)
        lost = status == Payment.DisputeStatus.LOST and amount_lost is not None
        # A second report of the same loss finds the first one's refund (by the dispute's id).
        if lost and amount_lost is not None and _card_refund_found(current, amount_lost, dispute_id) is None:
            _refund_locked(
                payment=current,
                account=account,
                actor=who,
                amount=amount_lost,
                refunded_on=current.practice.local_today(),
                method=current.method,
                reason=DISPUTE_LOST_REASON,
                card=True,
                external_id=dispute_id,
            )
        locked = locks.lock_payment(payment.pk)
        if locked.dispute_status == status:
            return locked
        previous = locked.dispute_status
        locked.mark_dispute(status)
        locked.save(update_fields=["dispute_status"])
        audit_write(
            practice=locked.practice,
            actor=who,
            action=f"payment.dispute_{status}",
            obj=locked,
            changes={"dispute": dispute_id, "dispute_status": [previous, status]},
        )
        return locked
