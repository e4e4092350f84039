"""Stripe's payouts of a practice's account to its bank, read into Payout and PayoutLine
rows: the Payouts report's Refresh from Stripe (``payouts_sync``) and payout.* webhooks
(``payout_event_handle``).

Reading is safe to repeat and to run twice at once: a payout is one row (its Stripe id is
unique), its lines are upserted by their balance transaction's id and the lines Stripe no
longer lists in it are removed, all in one transaction under the payout's row lock, so the
rows always end as Stripe's last answer. A payout whose status Stripe no longer changes
(paid, failed, canceled) and whose lines were read is not read again line by line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.db import transaction
from django.utils import timezone

from billing.money import from_stripe_amount
from practice.models import Practice

from . import gateway
from .models import Payout, PayoutLine, StripeAccount
from .webhooks import WebhookContext, WebhookIgnored

logger = logging.getLogger(__name__)

PAYOUTS_NO_ACCOUNT = "Stripe is not connected (Settings > Online payments), so there are no payouts to read."
PAYOUTS_STRIPE_FAILED = "Stripe did not answer, so nothing was read: {error} Try again in a minute."
PAYOUTS_READ = "Read {count} payout{s} from Stripe."
NOT_OURS = "The payout is not on a practice's Stripe account."


class PayoutsUnavailable(Exception):
    """Why no payouts could be read; the message is for staff."""


@dataclass(frozen=True)
class PayoutsSynced:
    payouts: int
    lines_read: int


def _kind(txn: gateway.BalanceTransaction) -> str:
    if txn.reporting_category == "dispute":
        return PayoutLine.Kind.DISPUTE
    if txn.reporting_category == "dispute_reversal":
        return PayoutLine.Kind.DISPUTE_REVERSAL
    if txn.type in ("charge", "payment"):
        return PayoutLine.Kind.PAYMENT
    if txn.type in ("refund", "payment_refund") or txn.reporting_category == "refund":
        return PayoutLine.Kind.REFUND
    return PayoutLine.Kind.OTHER


def _moment(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, tz=UTC)


def charges_account_for_payouts(practice: Practice) -> StripeAccount | None:
    """The practice's Stripe account, unless it was disconnected (Stripe answers a platform
    no more for an account that left it)."""
    return StripeAccount.objects.filter(practice=practice, disconnected_at__isnull=True).first()


def payouts_sync(*, practice: Practice, since: date) -> PayoutsSynced:
    """Read every payout Stripe made to the practice's bank since ``since`` (a local date),
    with the transactions of each that are not read yet. PayoutsUnavailable when the
    practice has no Stripe account or Stripe cannot be reached (nothing is half-written:
    each payout is written whole, in its own transaction)."""
    account = charges_account_for_payouts(practice)
    if account is None:
        raise PayoutsUnavailable(PAYOUTS_NO_ACCOUNT)
    start = int(datetime.combine(since, time.min, tzinfo=practice.tzinfo).timestamp())
    try:
        payouts = gateway.payouts_list(account.stripe_account_id, created_from=start)
        read = sum(
            payout_sync(practice_id=practice.pk, account_id=account.stripe_account_id, payout=p) for p in payouts
        )
    except gateway.StripeError as exc:
        logger.warning("payouts of practice %s: %s", practice.pk, exc)
        message = str(getattr(exc, "user_message", "") or exc).strip()
        raise PayoutsUnavailable(PAYOUTS_STRIPE_FAILED.format(error=f"{message.rstrip('.')}.")) from exc
    return PayoutsSynced(payouts=len(payouts), lines_read=read)


def payout_sync(*, practice_id: int, account_id: str, payout: gateway.Payout) -> bool:
    """Make the practice's row of ``payout`` (and its lines, when they need reading) match
    Stripe; whether the lines were read."""
    known = Payout.objects.filter(stripe_payout_id=payout.id).values_list("status", "lines_synced_at").first()
    stale = known is None or known[1] is None or known[0] != payout.status or payout.status not in Payout.FINAL
    # Read from Stripe before the row lock is taken: no lock waits on the network.
    transactions = gateway.payout_transactions(payout.id, account_id) if stale else None
    with transaction.atomic():
        Payout.objects.bulk_create(
            [
                Payout(
                    practice_id=practice_id,
                    stripe_account_id=account_id,
                    stripe_payout_id=payout.id,
                    amount=from_stripe_amount(payout.amount, payout.currency),
                    currency=payout.currency,
                    status=payout.status,
                    created=_moment(payout.created),
                )
            ],
            ignore_conflicts=True,
        )
        row = Payout.objects.select_for_update().get(stripe_payout_id=payout.id)
        if row.practice_id != practice_id:
            raise ValueError(f"Payout {payout.id} belongs to another practice.")
        row.stripe_account_id = account_id
        row.amount = from_stripe_amount(payout.amount, payout.currency)
        row.currency = payout.currency
        row.status = payout.status
        row.created = _moment(payout.created)
        row.arrival_date = _moment(payout.arrival_date).date() if payout.arrival_date else None
        row.automatic = payout.automatic
        row.failure_message = payout.failure_message[:500]
        if transactions is not None:
            _write_lines(row, transactions)
            row.lines_synced_at = timezone.now()
        row.save()
    return transactions is not None


def _write_lines(payout: Payout, transactions: list[gateway.BalanceTransaction]) -> None:
    # The payout's own withdrawal from the balance is the payout itself, not a line of it.
    lines = [
        PayoutLine(
            payout=payout,
            practice_id=payout.practice_id,
            stripe_balance_transaction_id=txn.id,
            kind=_kind(txn),
            stripe_type=txn.type[:64],
            reporting_category=txn.reporting_category[:64],
            amount=from_stripe_amount(txn.amount, txn.currency),
            fee=from_stripe_amount(txn.fee, txn.currency),
            net=from_stripe_amount(txn.net, txn.currency),
            currency=txn.currency,
            created=_moment(txn.created),
            description=txn.description[:500],
            source_id=txn.source,
            charge_id=txn.charge or "",
            payment_intent_id=txn.payment_intent or "",
        )
        for txn in transactions
        if txn.type != "payout" or txn.source != payout.stripe_payout_id
    ]
    fields = [f.name for f in PayoutLine._meta.concrete_fields if f.name not in ("id", "stripe_balance_transaction_id")]
    PayoutLine.objects.bulk_create(
        lines, update_conflicts=True, unique_fields=["stripe_balance_transaction_id"], update_fields=fields
    )
    PayoutLine.objects.filter(payout=payout).exclude(
        stripe_balance_transaction_id__in=[line.stripe_balance_transaction_id for line in lines]
    ).delete()


def payout_event_handle(context: WebhookContext) -> None:
    """payout.created, .updated, .paid, .failed, .canceled: the payout re-read now, and its
    lines when they need reading."""
    if context.account is None:
        raise WebhookIgnored(NOT_OURS)
    practice_id = (
        StripeAccount.objects.filter(stripe_account_id=context.account).values_list("practice_id", flat=True).first()
    )
    if practice_id is None:
        raise WebhookIgnored(NOT_OURS)
    payout = gateway.payout_read(dict(context.current()))
    payout_sync(practice_id=practice_id, account_id=context.account, payout=payout)
