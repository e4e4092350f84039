"""Online payments held for review: a paid Checkout Session whose amount or currency is not
what its attempt asked for (Stripe's figures differ from ours, so something is wrong:
an attempt edited, the practice's currency changed, a session made elsewhere).

Such money is never applied silently. The attempt is held (status held, with what Stripe
took), no payment is recorded, and the practice's billing staff are emailed and see a
notice on the invoice and on the Billing page. From the invoice, staff record what Stripe
actually took (``checkout_held_resolve``: re-read from Stripe, recorded once through
billing's payment_record_settled, what the invoice does not owe kept as credit), or,
when it is in another currency, refund it from the Stripe dashboard.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing.models import Invoice, Payment
from billing.money import from_stripe_amount
from billing.services import payment_record_settled
from billing.services.receipts import payment_receipt_queue
from practice.access import BILLING_ROLES
from practice.actor import Actor
from practice.audit import audit_write
from practice.mail import email_queue
from practice.models import Membership, Practice, User
from practice.money import practice_money

from . import gateway
from .models import CheckoutAttempt, StripeAccount

HELD_SYSTEM = "stripe checkout"
HELD_SUBJECT = "A card payment for invoice {number} is held for review"
HELD_RECORDED = "Recorded the {amount} Stripe took as a card payment for invoice {number}."
HELD_ALREADY = "This card payment was already recorded."
HELD_NOT_HELD = "This card payment is not waiting for review, so nothing was recorded."
HELD_OTHER_CURRENCY = (
    "Stripe took {amount}, which is not in the practice's currency ({currency}), so it cannot be "
    "recorded here. Refund it from the Stripe dashboard and take the payment again."
)
HELD_STRIPE_CHANGED = (
    "Stripe no longer shows this payment as it was held (refunded, or another amount), so nothing "
    "was recorded. Check it in the Stripe dashboard."
)


def held_attempts(practice: Practice) -> QuerySet[CheckoutAttempt]:
    return (
        CheckoutAttempt.objects.filter(practice=practice, status=CheckoutAttempt.Status.HELD)
        .select_related("practice")
        .order_by("pk")
    )


def held_for_invoice(practice: Practice, invoice_id: int) -> list[CheckoutAttempt]:
    return list(held_attempts(practice).filter(invoice_id=invoice_id))


def _billing_staff(practice: Practice) -> list[User]:
    """Who can resolve a held payment and is told about one: the practice's active owners,
    admins and billers with an email address."""
    members = (
        Membership.objects.filter(practice=practice, is_active=True, role__in=BILLING_ROLES, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__email")
    )
    return [m.user for m in members]


def checkout_hold(*, attempt: CheckoutAttempt, amount: Decimal, currency: str, payment_intent: str) -> None:
    """Hold ``attempt`` (locked by the caller, in its transaction): Stripe took ``amount``
    ``currency`` for it, which is not what it asked for. Staff are emailed once each."""
    practice = attempt.practice
    attempt.status = CheckoutAttempt.Status.HELD
    attempt.stripe_amount = amount
    attempt.stripe_currency = currency
    attempt.stripe_payment_intent_id = payment_intent
    attempt.save(update_fields=["status", "stripe_amount", "stripe_currency", "stripe_payment_intent_id"])
    audit_write(
        practice=practice,
        action="checkout.held",
        actor=Actor.system(HELD_SYSTEM),
        obj=attempt,
        changes={
            "invoice": attempt.invoice_id,
            "expected": f"{attempt.amount} {attempt.currency}",
            "stripe": f"{amount} {currency}",
            "payment_intent": payment_intent,
        },
    )
    invoice = Invoice.objects.filter(practice=practice, pk=attempt.invoice_id).first()
    number = invoice.number if invoice is not None else str(attempt.invoice_id)
    link = settings.SITE_URL.rstrip("/") + invoice.get_absolute_url() if invoice is not None else ""
    context = {
        "number": number,
        "expected": practice_money(practice, attempt.amount, currency=attempt.currency),
        "taken": practice_money(practice, amount, currency=currency),
        "link": link,
    }
    for user in _billing_staff(practice):
        email_queue(
            key=f"checkout-held:{attempt.pk}:{user.pk}",
            to=user.email,
            subject=HELD_SUBJECT.format(number=number),
            template="checkout_held",
            context=context,
            practice=practice,
            about=attempt,
        )


def held_refusal(attempt: CheckoutAttempt) -> str | None:
    """Why staff cannot record a held attempt from the app (None when they can)."""
    if attempt.stripe_currency != attempt.practice.currency:
        return HELD_OTHER_CURRENCY.format(
            amount=practice_money(attempt.practice, attempt.stripe_amount, currency=attempt.stripe_currency),
            currency=attempt.practice.currency,
        )
    return None


class HeldAlreadyRecorded(Exception):
    """The held payment was recorded before (another tab, a repeat)."""


def checkout_held_resolve(*, practice: Practice, invoice_id: int, attempt_id: int, actor: User) -> Payment:
    """Record what Stripe took for a held attempt, once: the session is re-read from Stripe
    (its figures must still be the held ones), the payment goes through billing's
    payment_record_settled (allocated to the invoice, any rest kept as credit) and the
    receipt is queued. CheckoutAttempt.DoesNotExist for another practice's or invoice's
    attempt; HeldAlreadyRecorded; ValidationError with a message for staff; the gateway's
    StripeError when Stripe cannot be reached (nothing recorded)."""
    attempt = (
        CheckoutAttempt.objects.select_related("practice")
        .filter(practice=practice, invoice_id=invoice_id, pk=attempt_id)
        .first()
    )
    if attempt is None:
        raise CheckoutAttempt.DoesNotExist
    if attempt.status == CheckoutAttempt.Status.PAID and attempt.resolved_at is not None:
        raise HeldAlreadyRecorded
    if attempt.status != CheckoutAttempt.Status.HELD:
        raise ValidationError(HELD_NOT_HELD)
    if refusal := held_refusal(attempt):
        raise ValidationError(refusal)
    account = StripeAccount.objects.filter(practice=practice).first()
    if account is None or not attempt.stripe_checkout_session_id:
        raise ValidationError(HELD_STRIPE_CHANGED)
    session = gateway.checkout_session_retrieve(attempt.stripe_checkout_session_id, account.stripe_account_id)
    if (
        session.payment_status != "paid"
        or session.payment_intent != attempt.stripe_payment_intent_id
        or session.amount_total is None
        or session.currency != attempt.stripe_currency
        or from_stripe_amount(session.amount_total, session.currency) != attempt.stripe_amount
    ):
        raise ValidationError(HELD_STRIPE_CHANGED)
    with transaction.atomic():
        locked = CheckoutAttempt.objects.select_for_update().select_related("practice", "client").get(pk=attempt.pk)
        if locked.status == CheckoutAttempt.Status.PAID:
            raise HeldAlreadyRecorded
        if locked.status != CheckoutAttempt.Status.HELD or locked.stripe_amount is None:
            raise ValidationError(HELD_NOT_HELD)
        result = payment_record_settled(
            practice=practice,
            client=locked.client,
            amount=locked.stripe_amount,
            currency=locked.stripe_currency,
            method=Payment.Method.CARD_ONLINE,
            external_id=locked.stripe_payment_intent_id,
            allocations={locked.invoice_id: locked.stripe_amount},
            actor=actor,
        )
        locked.status = CheckoutAttempt.Status.PAID
        locked.payment_id = result.payment.pk
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "payment_id", "resolved_by", "resolved_at"])
        audit_write(
            practice=practice,
            action="checkout.held_recorded",
            actor=actor,
            obj=locked,
            changes={"payment": result.payment.pk, "amount": str(locked.stripe_amount)},
        )
        invoice = Invoice.objects.filter(practice=practice, pk=locked.invoice_id).first()
        if invoice is not None:
            payment_receipt_queue(payment=result.payment, invoice=invoice)
    return result.payment
