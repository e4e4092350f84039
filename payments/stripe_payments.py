"""What Stripe says of each online payment: its PaymentIntent and charge ids, its status and
the fee Stripe took (from the charge's balance transaction), shown beside billing's payments.

The rows are filled only from Stripe's current state (``stripe_payment_refresh`` re-reads the
PaymentIntent with its charge and balance transaction), by charge.succeeded, charge.updated
(Stripe's word that the balance transaction, and so the fee, now exists) and
payment_intent.succeeded. However often and in whatever order they come, the row ends as
Stripe has the payment. Billing shows them through its hooks: one query per page of payments
(``payment_details``) and a panel on the payment page (``payment_panel``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from billing import hooks as billing_hooks
from billing.models import Payment
from billing.money import from_stripe_amount
from practice.models import Practice
from practice.money import practice_money

from . import gateway
from .models import StripeAccount, StripePayment
from .webhooks import WebhookContext, WebhookIgnored

PROCESSOR = "Stripe"
# Billing's methods of a payment taken through Stripe (its external_id is the PaymentIntent).
ONLINE_METHODS = (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE)
NOT_OURS = "The event is not about a PaymentIntent on a practice's connected account."
# Shown where Stripe has not told us about the payment yet (its event is on its way).
STATUS_UNKNOWN = "Waiting for Stripe"


def stripe_payment_sync(*, practice_id: int, account_id: str, intent: gateway.PaymentIntent) -> StripePayment:
    """Make the practice's row for ``intent`` match it (created on first sight).

    The row is locked for the write, and a fee already known is kept when this read has
    none (a read made before Stripe attached the balance transaction, arriving late)."""
    charge = intent.charge
    fee = net = None
    currency = intent.currency
    if charge is not None and charge.fee is not None and charge.net is not None and charge.settlement_currency:
        currency = charge.settlement_currency
        fee = from_stripe_amount(charge.fee, currency)
        net = from_stripe_amount(charge.net, currency)
    with transaction.atomic():
        # ON CONFLICT DO NOTHING: two handlers racing on a new payment both find one row.
        StripePayment.objects.bulk_create(
            [
                StripePayment(
                    practice_id=practice_id,
                    stripe_account_id=account_id,
                    payment_intent_id=intent.id,
                    status=intent.status,
                    currency=currency,
                    livemode=intent.livemode,
                )
            ],
            ignore_conflicts=True,
        )
        row = StripePayment.objects.select_for_update().get(practice_id=practice_id, payment_intent_id=intent.id)
        row.stripe_account_id = account_id
        row.status = intent.status
        row.livemode = intent.livemode
        if charge is not None:
            row.charge_id = charge.id
        if fee is not None:
            row.fee, row.net, row.currency = fee, net, currency
        elif row.fee is None:
            row.currency = currency
        row.save()
    return row


def stripe_payment_refresh(*, account_id: str, intent_id: str) -> StripePayment | None:
    """Re-read a PaymentIntent from Stripe and keep its row; None when no practice has the
    account it was made on."""
    practice_id = (
        StripeAccount.objects.filter(stripe_account_id=account_id).values_list("practice_id", flat=True).first()
    )
    if practice_id is None:
        return None
    intent = gateway.payment_intent_retrieve(intent_id, account_id)
    return stripe_payment_sync(practice_id=practice_id, account_id=account_id, intent=intent)


def stripe_payment_handle(context: WebhookContext) -> None:
    """charge.succeeded, charge.updated, payment_intent.succeeded: the PaymentIntent the event
    is about, re-read now (the event's copy may be stale or out of order)."""
    obj = context.object
    intent_id = obj.get("payment_intent") if obj.get("object") == "charge" else obj.get("id")
    if not context.account or not isinstance(intent_id, str) or not intent_id:
        raise WebhookIgnored(NOT_OURS)
    if stripe_payment_refresh(account_id=context.account, intent_id=intent_id) is None:
        raise WebhookIgnored(NOT_OURS)


def _details(practice: Practice, row: StripePayment | None, intent_id: str) -> billing_hooks.PaymentDetails:
    if row is None:
        return billing_hooks.PaymentDetails(
            processor=PROCESSOR,
            payment_ref=intent_id,
            charge_ref="",
            status=STATUS_UNKNOWN,
            fee=None,
            net=None,
            currency="",
            fee_display="",
            net_display="",
            dashboard_url="",
        )
    return billing_hooks.PaymentDetails(
        processor=PROCESSOR,
        payment_ref=row.payment_intent_id,
        charge_ref=row.charge_id,
        status=row.status.replace("_", " ").capitalize(),
        fee=row.fee,
        net=row.net,
        currency=row.currency,
        fee_display=practice_money(practice, row.fee, currency=row.currency),
        net_display=practice_money(practice, row.net, currency=row.currency),
        dashboard_url=gateway.dashboard_payment_url(
            account_id=row.stripe_account_id, intent_id=row.payment_intent_id, livemode=row.livemode
        ),
    )


def payment_details(practice: Practice, payments: Sequence[Payment]) -> Mapping[int, billing_hooks.PaymentDetails]:
    """Billing's bulk hook: the Stripe details of the page's online payments, in one query."""
    online = {p.external_id: p.pk for p in payments if p.method in ONLINE_METHODS and p.external_id}
    if not online:
        return {}
    rows = {
        row.payment_intent_id: row
        for row in StripePayment.objects.filter(practice=practice, payment_intent_id__in=list(online))
    }
    return {pk: _details(practice, rows.get(intent_id), intent_id) for intent_id, pk in online.items()}


def payment_panel(request: Any, payment: Payment) -> billing_hooks.Panel | None:
    """The payment page's Stripe panel, for a payment taken through Stripe."""
    practice = getattr(request, "practice", None) or payment.practice
    details = payment_details(practice, [payment]).get(payment.pk)
    if details is None:
        return None
    return billing_hooks.Panel("payments/_payment_stripe_panel.html", {"details": details})
