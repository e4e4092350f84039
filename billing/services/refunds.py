"""Refunds: money handed back from a hand payment ("Record refund", previewed in words),
and refunds a card processor has made of a card payment.

Each function is one transaction in the lock order of billing.locks, with its ledger
entries and its audit row; the database constraints on the models are the last word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from practice.actor import Actor
from practice.audit import audit_write
from practice.models import User
from practice.money import practice_money

from .. import locks
from ..inputs import REASON_REQUIRED, money_problem, payment_date_problem
from ..models import ClientAccount, Invoice, LedgerEntry, Payment, PaymentAllocation, Refund, RefundAllocation
from ..money import ZERO
from .ledger import _ledger, _settle_status
from .payments import SETTLED_METHODS, _settled_actor

REFUND_METHODS = (
    Payment.Method.CASH,
    Payment.Method.CHEQUE,
    Payment.Method.BANK_TRANSFER,
    Payment.Method.CARD_TERMINAL,
    Payment.Method.OTHER,
)
REFUND_AMOUNT_POSITIVE = "Enter an amount greater than zero."
REFUND_TOO_MUCH = "You can refund at most {left} of this payment."
REFUND_CREDIT_USED = (
    "Only {left} of this payment can be refunded now: the credit it created has been used on invoices. "
    "Refund the rest after voiding or crediting those invoices, or issue a credit invoice instead."
)
REFUND_NOTHING_LEFT = "This payment has been refunded in full."
REFUND_CARD = "A card payment is refunded through the card processor, not recorded by hand."
REFUND_METHOD = "Choose how the money was given back."
REFUND_DATE_BEFORE_PAYMENT = "A refund cannot be dated before the payment it gives back."
REFUND_DATE_FUTURE = "A refund cannot be dated in the future."
REFUND_PLAN_CHANGED = (
    "The payment or its invoices changed since the preview (another refund, payment or credit). "
    "Check what the refund will do now, then record it."
)


# --- refunds ------------------------------------------------------------------------------


@dataclass
class RefundPlan:
    """What a refund of ``amount`` takes back: ``from_credit`` of the credit the payment
    created, then what it paid on each invoice, newest invoice first."""

    amount: Decimal
    from_credit: Decimal = ZERO
    invoices: list[tuple[Invoice, Decimal]] = field(default_factory=list)

    def token(self) -> str:
        """The plan in a form that the confirm step posts back, so a plan that changed
        between the preview and the save is shown again instead of recorded silently."""
        parts = [f"credit:{self.from_credit.normalize():f}"]
        parts += [f"{invoice.pk}:{share.normalize():f}" for invoice, share in self.invoices]
        return ";".join(parts)

    def sentences(self, money: Callable[[Decimal], str]) -> list[str]:
        """The plan in words, as the form shows it before saving."""
        words = []
        for invoice, share in self.invoices:
            words.append(f"{invoice.number} will owe {money(share)} again")
        if self.from_credit:
            words.append(f"the client's credit goes down by {money(self.from_credit)}")
        return words


def _money(payment: Payment, amount: Decimal) -> str:
    return practice_money(payment.practice, amount, currency=payment.currency)


def _credit_refunded(payment: Payment) -> Decimal:
    return Refund.objects.filter(payment=payment).aggregate(total=Sum("from_credit"))["total"] or ZERO


def _plan(
    payment: Payment, allocations: list[PaymentAllocation], credit_balance: Decimal, amount: Decimal
) -> RefundPlan:
    """The plan, or a ValidationError saying why ``amount`` cannot be refunded."""
    left = payment.amount - payment.refunded
    if left <= 0:
        raise ValidationError(REFUND_NOTHING_LEFT)
    if amount > left:
        raise ValidationError({"amount": REFUND_TOO_MUCH.format(left=_money(payment, left))})
    # Credit this payment created and nobody has used yet: the client's credit balance may
    # be smaller than it (used on invoices), and used credit cannot be handed back twice.
    credit_usable = max(min(payment.credited - _credit_refunded(payment), credit_balance), ZERO)
    plan = RefundPlan(amount=amount, from_credit=min(amount, credit_usable))
    rest = amount - plan.from_credit
    newest_first = sorted(
        allocations,
        key=lambda a: (a.invoice.issue_date or date.min, a.invoice.sequence or 0, a.invoice.pk),
        reverse=True,
    )
    possible = plan.from_credit
    for allocation in newest_first:
        share = min(rest, allocation.amount - allocation.refunded)
        possible += allocation.amount - allocation.refunded
        if share > 0:
            plan.invoices.append((allocation.invoice, share))
            rest -= share
    if rest > 0:
        most = min(possible, left)
        raise ValidationError({"amount": REFUND_CREDIT_USED.format(left=_money(payment, most))})
    return plan


def _check_refundable(payment: Payment) -> None:
    if refusal := payment.refund_refusal():
        raise ValidationError(refusal)
    if payment.method in (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE):
        raise ValidationError(REFUND_CARD)


def refund_preview(*, payment: Payment, amount: Decimal, card: bool = False) -> RefundPlan:
    """What ``refund_record`` would do now (read without locks: the save recomputes it
    under them and refuses if it changed). ``card``: what a refund of a card payment
    through the card processor would do (``payment_refund_record``) instead."""
    if card:
        _check_card_refundable(payment)
    else:
        _check_refundable(payment)
    if amount is None or amount <= 0:
        raise ValidationError({"amount": REFUND_AMOUNT_POSITIVE})
    if problem := money_problem(amount, payment.currency):
        raise ValidationError({"amount": problem})
    account = getattr(payment.client, "account", None)
    allocations = list(PaymentAllocation.objects.filter(payment=payment).select_related("invoice"))
    return _plan(payment, allocations, account.credit_balance if account else ZERO, amount)


def refund_record(
    *,
    payment: Payment,
    actor: Actor | User,
    amount: Decimal,
    refunded_on: date,
    method: str,
    reason: str,
    expected: str | None = None,
    submission_key: str | None = None,
) -> Refund:
    """Record money handed back from a hand payment ("Record refund"): a ``refund`` ledger
    entry; the invoices it had paid owe their share again (a Paid one reopens) and the
    credit it created shrinks, in the order of RefundPlan. ``expected`` is the token of
    the plan the biller saw; a different plan now is refused (code "plan_changed").
    ``submission_key`` is accepted for the one-time submission keys and not used yet."""
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = REASON_REQUIRED
    if method not in REFUND_METHODS:
        errors["method"] = REFUND_METHOD
    if amount is None or amount <= 0:
        errors["amount"] = REFUND_AMOUNT_POSITIVE
    elif problem := money_problem(amount, payment.currency):
        errors["amount"] = problem
    practice = payment.practice
    if refunded_on < payment.received_on:
        errors["refunded_on"] = REFUND_DATE_BEFORE_PAYMENT
    elif refunded_on > practice.local_today():
        errors["refunded_on"] = REFUND_DATE_FUTURE
    elif problem := payment_date_problem(practice, refunded_on):
        errors["refunded_on"] = problem
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        account = locks.lock_client(payment.client)
        return _refund_locked(
            payment=payment,
            account=account,
            actor=Actor.coerce(actor),
            amount=amount,
            refunded_on=refunded_on,
            method=method,
            reason=reason,
            expected=expected,
        )


def _refund_locked(
    *,
    payment: Payment,
    account: ClientAccount,
    actor: Actor,
    amount: Decimal,
    refunded_on: date,
    method: str,
    reason: str,
    expected: str | None = None,
    card: bool = False,
    external_id: str = "",
) -> Refund:
    """The refund core of refund_record and payment_refund_record, run with the client's
    account locked (``account``) inside the caller's transaction. ``card`` is a refund the
    card processor already made: only a card payment takes one (and a hand payment only
    the other kind)."""
    allocations = list(PaymentAllocation.objects.filter(payment_id=payment.pk).select_related("invoice").order_by("pk"))
    invoices = locks.lock_invoices([a.invoice_id for a in allocations])
    locked = locks.lock_payment(payment.pk)
    if card:
        _check_card_refundable(locked)
    else:
        _check_refundable(locked)
    # Fresh figures under the locks: the allocations' refunded parts and the invoices.
    allocations = list(PaymentAllocation.objects.select_for_update().filter(payment=locked).order_by("pk"))
    for allocation in allocations:
        allocation.invoice = invoices[allocation.invoice_id]
    plan = _plan(locked, allocations, account.credit_balance, amount)
    if expected is not None and expected != plan.token():
        raise ValidationError(REFUND_PLAN_CHANGED, code="plan_changed")
    refund = Refund.objects.create(
        practice=locked.practice,
        client=locked.client,
        payment=locked,
        amount=amount,
        from_credit=plan.from_credit,
        currency=locked.currency,
        refunded_on=refunded_on,
        method=method,
        reason=reason[:255],
        external_id=external_id,
        created_by=actor.user,
    )
    by_invoice = {a.invoice_id: a for a in allocations}
    rows = []
    for invoice, share in plan.invoices:
        allocation = by_invoice[invoice.pk]
        allocation.refunded += share
        allocation.save(update_fields=["refunded"])
        invoice.amount_paid -= share
        invoice.balance += share
        _settle_status(invoice)
        rows.append(RefundAllocation(refund=refund, invoice=invoice, amount=share))
    RefundAllocation.objects.bulk_create(rows)
    reopened = sum((share for _, share in plan.invoices), ZERO)
    _ledger(
        account=account,
        kind=LedgerEntry.Kind.REFUND,
        actor=actor,
        currency=locked.currency,
        balance_delta=reopened,
        credit_delta=-plan.from_credit,
        payment=locked,
        memo=f"{Payment.Method(method).label}: {reason}"[:255],
    )
    locked.mark_refunded(amount)
    locked.save(update_fields=["refunded", "status"])
    audit_write(
        practice=locked.practice,
        actor=actor,
        action="payment.refunded",
        obj=locked,
        changes={
            "amount": str(amount),
            "method": method,
            "reason": refund.reason,
            "from_credit": str(plan.from_credit),
            "invoices": {invoice.number or str(invoice.pk): str(share) for invoice, share in plan.invoices},
        },
    )
    return refund


# --- refunds made at the card processor (the seam the payments app uses) -----------------

REFUND_NOT_CARD = "Only a card payment is refunded through the card processor."
REFUND_EXTERNAL_ID_REQUIRED = "A card refund needs the processor's id."
REFUND_EXTERNAL_ID_REUSED = "That processor id was already recorded for a different refund."
# A refund made at the processor is a fact; the Refund row still needs a reason (a constraint).
CARD_REFUND_REASON = "Refunded through the card processor."


def _check_card_refundable(payment: Payment) -> None:
    if refusal := payment.refund_refusal():
        raise ValidationError(refusal)
    if payment.method not in SETTLED_METHODS:
        raise ValidationError(REFUND_NOT_CARD)


def _card_refund_found(payment: Payment, amount: Decimal, external_id: str) -> Refund | None:
    refund = Refund.objects.filter(practice_id=payment.practice_id, external_id=external_id).first()
    if refund is not None and (refund.payment_id != payment.pk or refund.amount != amount):
        raise ValidationError(REFUND_EXTERNAL_ID_REUSED)
    return refund


def payment_refund_record(
    *, payment: Payment, amount: Decimal, external_id: str, actor: Actor | User | None = None, reason: str = ""
) -> Refund:
    """Record a refund of a card payment that the card processor has made (a Stripe
    refund), dated today: a ``refund`` ledger entry taken, like refund_record's, first
    from the credit the payment created and then from its invoices newest first (a Paid
    invoice reopens). ``external_id`` (the processor's refund id) is unique per
    practice: a second call with it returns the first refund and records nothing.
    ``actor`` None is the payments job (the webhook), as for payment_record_settled."""
    external_id = (external_id or "").strip()
    reason = (reason or "").strip() or CARD_REFUND_REASON
    if not external_id:
        raise ValidationError(REFUND_EXTERNAL_ID_REQUIRED)
    if amount is None or amount <= 0:
        raise ValidationError({"amount": REFUND_AMOUNT_POSITIVE})
    if problem := money_problem(amount, payment.currency):
        raise ValidationError({"amount": problem})
    try:
        with transaction.atomic():
            account = locks.lock_client(payment.client)
            # Under the client's lock a second call for the same refund waits here, then sees the first.
            if (found := _card_refund_found(payment, amount, external_id)) is not None:
                return found
            return _refund_locked(
                payment=payment,
                account=account,
                actor=_settled_actor(actor),
                amount=amount,
                refunded_on=payment.practice.local_today(),
                method=payment.method,
                reason=reason,
                card=True,
                external_id=external_id,
            )
    except IntegrityError:
        # The unique constraint caught a twin the lock did not serialize; the first one stands.
        if (found := _card_refund_found(payment, amount, external_id)) is not None:
            return found
        raise
