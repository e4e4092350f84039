"""Disputes (chargebacks) of online payments: charge.dispute.created, .updated and .closed.

Each event re-reads the dispute from Stripe and hands its current state to billing's
``payment_dispute_update``: the payment is marked disputed, then won or lost (a lost
dispute's money lands in the ledger there, once). The practice's owners are emailed the
first time the app learns of a dispute (one email per dispute and owner, whatever the
number or order of the events).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from billing.models import Payment
from billing.money import from_stripe_amount
from billing.services import payment_dispute_update
from practice.mail import email_queue
from practice.models import Membership, Role
from practice.money import practice_money

from . import gateway
from .models import StripeAccount
from .refunds import PaymentNotRecordedYet
from .webhooks import WebhookContext, WebhookIgnored

logger = logging.getLogger(__name__)

DISPUTE_EMAIL_SUBJECT = "A card payment of {amount} was disputed"
# Stripe's dispute states as the payment keeps them. An inquiry (warning_*) is a dispute in
# the making; one closed without a chargeback (warning_closed) leaves the payment undisputed.
_STATUS = {
    "won": Payment.DisputeStatus.WON,
    "lost": Payment.DisputeStatus.LOST,
    "warning_closed": Payment.DisputeStatus.NONE,
    "prevented": Payment.DisputeStatus.NONE,
}
# Stripe's reason codes in words for the owner's email.
_REASONS = {
    "fraudulent": "the cardholder says they did not make this payment",
    "duplicate": "the cardholder says they were charged twice",
    "product_not_received": "the cardholder says they did not receive what they paid for",
    "product_unacceptable": "the cardholder says what they paid for was not as described",
    "subscription_canceled": "the cardholder says they had cancelled",
    "credit_not_processed": "the cardholder says a promised refund was not made",
    "unrecognized": "the cardholder does not recognise the payment",
}


def dispute_status(stripe_status: str) -> str:
    return _STATUS.get(stripe_status, Payment.DisputeStatus.OPEN)


def dispute_sync(*, account_id: str, dispute: gateway.Dispute) -> Payment:
    """Make the disputed payment match ``dispute`` as Stripe has it now; the payment."""
    stripe_account = StripeAccount.objects.filter(stripe_account_id=account_id).first()
    if stripe_account is None:
        raise WebhookIgnored("The connected account belongs to no practice.")
    if not dispute.payment_intent:
        raise WebhookIgnored("The dispute names no payment intent.")
    payment = (
        Payment.objects.select_related("practice", "client")
        .filter(practice_id=stripe_account.practice_id, external_id=dispute.payment_intent)
        .first()
    )
    if payment is None:
        raise PaymentNotRecordedYet(f"No payment is recorded for {dispute.payment_intent}.")
    if dispute.currency != payment.currency:
        raise ValueError(f"Dispute {dispute.id} is in {dispute.currency}, its payment in {payment.currency}.")
    status = dispute_status(dispute.status)
    with transaction.atomic():
        updated = payment_dispute_update(
            payment=payment,
            status=status,
            dispute_id=dispute.id,
            amount_lost=from_stripe_amount(dispute.amount, dispute.currency)
            if status == Payment.DisputeStatus.LOST
            else None,
        )
        _tell_owners(updated, dispute)
    return updated


def _tell_owners(payment: Payment, dispute: gateway.Dispute) -> None:
    practice = payment.practice
    amount = practice_money(practice, from_stripe_amount(dispute.amount, dispute.currency), currency=dispute.currency)
    link = settings.SITE_URL.rstrip("/") + reverse(
        "billing:payment", kwargs={"practice_slug": practice.slug, "payment_id": payment.pk}
    )
    # Stripe's deadline, as a day in the practice's own timezone.
    due_by = datetime.fromtimestamp(dispute.due_by, tz=practice.tzinfo).date() if dispute.due_by else None
    owners = Membership.objects.filter(practice=practice, role=Role.OWNER, is_active=True, user__is_active=True)
    for membership in owners.select_related("user").order_by("pk"):
        if not membership.user.email:
            continue
        email_queue(
            key=f"payment-disputed:{dispute.id}:{membership.user_id}",
            to=membership.user.email,
            subject=DISPUTE_EMAIL_SUBJECT.format(amount=amount),
            template="payment_disputed",
            context={
                "practice": practice,
                "payment": payment,
                "client_name": payment.client.display_name,
                "amount": amount,
                "reason": _REASONS.get(dispute.reason, dispute.reason.replace("_", " ")),
                "due_by": due_by,
                "decided": payment.dispute_status in (Payment.DisputeStatus.WON, Payment.DisputeStatus.LOST),
                "link": link,
            },
            practice=practice,
            about=payment,
        )


def dispute_event_handle(context: WebhookContext) -> None:
    """charge.dispute.created, .updated, .closed: converge on the dispute re-read now."""
    if context.account is None:
        raise WebhookIgnored("Not a dispute on a connected account.")
    dispute_sync(account_id=context.account, dispute=gateway.dispute_read(dict(context.current())))
