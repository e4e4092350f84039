"""Refunds of online payments: Refund through Stripe (staff, from the payment page) and the
refunds Stripe reports (charge.refunded, refund.created, refund.updated), whether made here
or in the Stripe dashboard.

Every refund reaches billing's ledger through ``payment_refund_record`` keyed by the Stripe
refund's id, so one made here and then reported by a webhook (or reported three times, in
any order) is recorded once. A refund through Stripe is asked for in three steps:

1. ``stripe_refund_start``: the one-time submission key is claimed and the RefundAttempt row
   committed, in one transaction, after checking the plan the person saw is still the plan;
2. ``stripe_refund_send``: the refund is created at Stripe under the attempt's key (retried
   with that key, so at most one refund exists however often it is sent);
3. ``refund_apply``: what Stripe answered is recorded (a succeeded refund in the ledger).

Stripe's refund is the fact: once it exists it is recorded from Stripe's own state, even
when the person's request died between step 2 and 3 (the webhook records it, and Check with
Stripe on the payment page re-sends the same request).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from billing import locks
from billing.inputs import REASON_REQUIRED, money_problem
from billing.models import Payment, SubmissionKey
from billing.money import from_stripe_amount, to_stripe_amount
from billing.services import (
    REFUND_AMOUNT_POSITIVE,
    REFUND_NOTHING_LEFT,
    REFUND_PAYMENT_DELETED,
    REFUND_PLAN_CHANGED,
    SETTLED_METHODS,
    RefundPlan,
    payment_refund_record,
    refund_preview,
)
from billing.submission import submission_claim
from practice.audit import audit_write
from practice.models import User
from practice.money import practice_money

from . import gateway
from .models import RefundAttempt, StripeAccount
from .webhooks import WebhookContext, WebhookIgnored

logger = logging.getLogger(__name__)

REFUND_NOT_ONLINE = "Only a card payment taken through Stripe is refunded through Stripe."
REFUND_DISPUTED = (
    "This payment is disputed: the card's bank decides what happens to the money, so it cannot be refunded."
)
REFUND_UNDECIDED = (
    "A refund of {amount} through Stripe is still waiting for Stripe's answer. "
    "Check it with Stripe before refunding more."
)
REFUND_NO_ACCOUNT = "This practice has no Stripe account, so nothing can be refunded through Stripe."
STRIPE_NO_ANSWER = "Stripe did not answer."
STRIPE_REFUSED = "Stripe refused the refund: {reason}"
STRIPE_FAILED = "Stripe could not refund it ({reason})."
NOT_RECORDED = "Stripe refunded it, but it is not in the books yet: {reason}"
# The reason recorded for a refund nobody asked for here (made in the Stripe dashboard).
DASHBOARD_REASON = "Refunded in the Stripe dashboard."
# Stripe's refund states: money gone back, or on its way, or not.
_SUCCEEDED = "succeeded"
_UNDECIDED = ("pending", "requires_action")
_FAILED = ("failed", "canceled")


class PaymentNotRecordedYet(Exception):
    """Stripe reports a refund or dispute of a charge whose payment is not recorded here (yet):
    the event fails and is tried again later, when the payment may have been recorded."""


def is_online(payment: Payment) -> bool:
    return payment.method in SETTLED_METHODS and bool(payment.external_id)


def undecided_attempt(payment: Payment) -> RefundAttempt | None:
    return (
        RefundAttempt.objects.filter(
            payment_id=payment.pk, status__in=[RefundAttempt.Status.CREATED, RefundAttempt.Status.PENDING]
        )
        .order_by("pk")
        .first()
    )


def _money(payment: Payment, amount: Decimal) -> str:
    return practice_money(payment.practice, amount, currency=payment.currency)


def stripe_refund_refusal(payment: Payment) -> str | None:
    """Why Refund through Stripe is not offered for this payment now, or None."""
    if not is_online(payment):
        return REFUND_NOT_ONLINE
    if payment.status == Payment.Status.REVERSED:
        return REFUND_PAYMENT_DELETED
    if payment.dispute_status in (Payment.DisputeStatus.OPEN, Payment.DisputeStatus.LOST):
        return REFUND_DISPUTED
    if payment.refunded >= payment.amount:
        return REFUND_NOTHING_LEFT
    if (waiting := undecided_attempt(payment)) is not None:
        return REFUND_UNDECIDED.format(amount=_money(payment, waiting.amount))
    if not StripeAccount.objects.filter(practice_id=payment.practice_id).exists():
        return REFUND_NO_ACCOUNT
    return None


def stripe_refund_preview(*, payment: Payment, amount: Decimal) -> RefundPlan:
    """What a refund of ``amount`` through Stripe would do to the books now (in billing's
    words: the credit the payment created first, then its invoices newest first)."""
    if refusal := stripe_refund_refusal(payment):
        raise ValidationError(refusal)
    return refund_preview(payment=payment, amount=amount, card=True)


def stripe_refund_start(
    *,
    payment: Payment,
    actor: User,
    amount: Decimal,
    reason: str,
    expected: str | None,
    submission_key: str,
    result_url: str,
) -> RefundAttempt:
    """Claim the form's one-time key and commit the attempt row, nothing at Stripe yet.

    ``expected`` is the token of the plan the person saw; a different plan now is refused
    (code "plan_changed") and nothing is kept, the key included. A key used before raises
    billing.submission.AlreadySubmitted."""
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = REASON_REQUIRED
    if amount is None or amount <= 0:
        errors["amount"] = REFUND_AMOUNT_POSITIVE
    elif problem := money_problem(amount, payment.currency):
        errors["amount"] = problem
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        claim = submission_claim(
            practice=payment.practice, key=submission_key, action="payment.refund_stripe", actor=actor
        )
        claim.result_url = result_url[:500]
        claim.save(update_fields=["result_url"])
        # Every refund and payment of the client takes this lock first: the plan read under
        # it is the one the refund will be recorded with, unless Stripe's answer comes late.
        locks.lock_client(payment.client)
        current = Payment.objects.select_related("practice", "client__account").get(pk=payment.pk)
        plan = stripe_refund_preview(payment=current, amount=amount)
        if expected is not None and expected != plan.token():
            raise ValidationError(REFUND_PLAN_CHANGED, code="plan_changed")
        attempt = RefundAttempt.objects.create(
            practice_id=current.practice_id,
            payment=current,
            amount=amount,
            currency=current.currency,
            reason=reason[:255],
            created_by=actor,
        )
        audit_write(
            practice=current.practice,
            actor=actor,
            action="payment.refund_requested",
            obj=current,
            changes={"amount": str(amount), "reason": attempt.reason, "refund_attempt": attempt.pk},
        )
    return attempt


def stripe_refund_send(attempt: RefundAttempt) -> RefundAttempt:
    """Create the attempt's refund at Stripe (or get the one an earlier try made, by the
    same key) and record Stripe's answer. Safe to call again for an attempt whose answer
    never came; an attempt already answered is returned as it is."""
    attempt = RefundAttempt.objects.select_related("payment__practice", "payment__client").get(pk=attempt.pk)
    if attempt.status != RefundAttempt.Status.CREATED:
        return attempt
    payment = attempt.payment
    account = StripeAccount.objects.filter(practice_id=attempt.practice_id).first()
    if account is None:
        return _attempt_failed(attempt, REFUND_NO_ACCOUNT)
    try:
        refund = gateway.refund_create(
            attempt_id=attempt.pk,
            account_id=account.stripe_account_id,
            payment_intent=payment.external_id,
            amount=to_stripe_amount(attempt.amount, attempt.currency),
            # Ids only: the reason the person typed stays here.
            metadata={"refund_attempt": str(attempt.pk), "payment": str(payment.pk)},
        )
    except gateway.TRANSIENT as exc:
        logger.warning("refund attempt %s: no answer from Stripe: %s", attempt.pk, exc)
        RefundAttempt.objects.filter(pk=attempt.pk, status=RefundAttempt.Status.CREATED).update(
            problem=STRIPE_NO_ANSWER
        )
        attempt.refresh_from_db()
        return attempt
    except gateway.StripeError as exc:
        message = getattr(exc, "user_message", None) or str(exc)
        return _attempt_failed(attempt, STRIPE_REFUSED.format(reason=message))
    refund_apply(payment=payment, refund=refund, attempt=attempt)
    attempt.refresh_from_db()
    return attempt


def _attempt_failed(attempt: RefundAttempt, problem: str) -> RefundAttempt:
    RefundAttempt.objects.filter(pk=attempt.pk, status=RefundAttempt.Status.CREATED).update(
        status=RefundAttempt.Status.FAILED, problem=problem[:2000]
    )
    attempt.refresh_from_db()
    return attempt


def _attempt_for(payment: Payment, refund: gateway.Refund) -> RefundAttempt | None:
    """The attempt that asked for ``refund``: by its id once known, else by the attempt id
    the refund's metadata carries (an answer that was lost on its way back)."""
    attempts = RefundAttempt.objects.select_for_update().filter(payment_id=payment.pk)
    found = attempts.filter(stripe_refund_id=refund.id).first()
    raw = refund.metadata.get("refund_attempt", "")
    if found is None and raw.isdecimal():
        found = attempts.filter(pk=int(raw), stripe_refund_id__isnull=True).first()
    return found


def refund_apply(*, payment: Payment, refund: gateway.Refund, attempt: RefundAttempt | None = None) -> str | None:
    """Make the books match one refund as Stripe has it: a succeeded refund is recorded
    (once, by its id) and its attempt, if it has one, marked refunded; a pending one marks
    the attempt pending; a failed or canceled one marks it failed. The problem, when a
    succeeded refund could not be recorded (the books cannot take it back as planned), or
    None."""
    with transaction.atomic():
        if attempt is None:
            attempt = _attempt_for(payment, refund)
        else:
            attempt = RefundAttempt.objects.select_for_update().get(pk=attempt.pk)
        problem = None
        if attempt is not None and attempt.stripe_refund_id is None:
            attempt.stripe_refund_id = refund.id
        if refund.status == _SUCCEEDED:
            problem = _record(payment, refund, attempt)
            status = RefundAttempt.Status.SUCCEEDED if problem is None else None
        elif refund.status in _FAILED:
            status = RefundAttempt.Status.FAILED
            problem = STRIPE_FAILED.format(reason=refund.failure_reason or refund.status)
        else:
            status = RefundAttempt.Status.PENDING
        if attempt is not None:
            # A refund once recorded stays recorded (a later "failed" of it is Stripe's to explain).
            if status is not None and attempt.status != RefundAttempt.Status.SUCCEEDED:
                attempt.status = status
            attempt.problem = (problem or "")[:2000]
            attempt.save(update_fields=["stripe_refund_id", "status", "problem", "updated_at"])
    return problem if refund.status == _SUCCEEDED else None


def _record(payment: Payment, refund: gateway.Refund, attempt: RefundAttempt | None) -> str | None:
    if refund.currency != payment.currency:
        logger.error("refund %s in %s, payment %s in %s", refund.id, refund.currency, payment.pk, payment.currency)
        return NOT_RECORDED.format(reason=f"Stripe refunded {refund.currency}, the payment is in {payment.currency}.")
    try:
        with transaction.atomic():
            payment_refund_record(
                payment=payment,
                amount=from_stripe_amount(refund.amount, refund.currency),
                external_id=refund.id,
                actor=attempt.created_by if attempt is not None else None,
                reason=attempt.reason if attempt is not None else DASHBOARD_REASON,
            )
    except ValidationError as exc:
        logger.error("refund %s of payment %s not recorded: %s", refund.id, payment.pk, exc.messages)
        return NOT_RECORDED.format(reason=" ".join(exc.messages))
    return None


def refunds_sync(*, account_id: str, payment_intent: str) -> Payment:
    """Re-read every refund of a payment intent from Stripe and record what is not recorded
    yet; the payment. A refund Stripe has that the books cannot take raises (the webhook
    tries again later)."""
    stripe_account = StripeAccount.objects.filter(stripe_account_id=account_id).first()
    if stripe_account is None:
        raise WebhookIgnored("The connected account belongs to no practice.")
    payment = (
        Payment.objects.select_related("practice", "client")
        .filter(practice_id=stripe_account.practice_id, external_id=payment_intent)
        .first()
    )
    if payment is None:
        raise PaymentNotRecordedYet(f"No payment is recorded for {payment_intent}.")
    problems = []
    for refund in gateway.payment_refunds(payment_intent, account_id):
        if (problem := refund_apply(payment=payment, refund=refund)) is not None:
            problems.append(f"{refund.id}: {problem}")
    if problems:
        raise RuntimeError("; ".join(problems))
    return payment


def stripe_refund_check(attempt: RefundAttempt) -> RefundAttempt:
    """Check with Stripe (the payment page's button for an undecided attempt): send it again
    under its key if no answer came, then re-read the payment's refunds."""
    attempt = stripe_refund_send(attempt)
    account = StripeAccount.objects.filter(practice_id=attempt.practice_id).first()
    if attempt.status in (RefundAttempt.Status.CREATED, RefundAttempt.Status.PENDING) and account is not None:
        try:
            refunds_sync(account_id=account.stripe_account_id, payment_intent=attempt.payment.external_id)
        except (gateway.StripeError, RuntimeError) as exc:
            logger.warning("refund attempt %s: check failed: %s", attempt.pk, exc)
        attempt.refresh_from_db()
    return attempt


def refund_event_handle(context: WebhookContext) -> None:
    """charge.refunded, refund.created, refund.updated: the payment's refunds re-read from
    Stripe, each succeeded one recorded once (ours and the dashboard's alike)."""
    obj = context.object
    payment_intent = obj.get("payment_intent")
    if context.account is None or not isinstance(payment_intent, str) or not payment_intent:
        raise WebhookIgnored("Not a refund of a payment on a connected account.")
    refunds_sync(account_id=context.account, payment_intent=payment_intent)


def claim_result_save(*, payment: Payment, key: str, message: str) -> None:
    """What a repeat of the submission is told (billing.submission's stored messages)."""
    SubmissionKey.objects.filter(practice_id=payment.practice_id, key=key).update(result_message=message[:500])
