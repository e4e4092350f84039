"""Charging a saved card: with the client absent (Pay now on the invoice page, and later
nightly AutoPay), or with the client present (Pay with Visa •••• 4242 in the portal, for
an invoice or for the full balance).

The attempt row is committed before Stripe is called and its id keys the PaymentIntent
(``cardcharge:<pk>:intent``). Whatever happens next, every road leads to that one
PaymentIntent: stripe-python's answer lost to a timeout is asked for again with the same
key; a double click joins the first click's attempt and sends the same request (Stripe
answers it with the first one's result); Check again re-reads it. So a card is charged at
most once per attempt, and the database allows one attempt in flight per invoice.

The attempt then follows Stripe's state of its PaymentIntent (the create's answer, a
re-read, or payment_intent.succeeded / payment_intent.payment_failed): a success records
the payment through billing's seam (idempotent on the PaymentIntent id), a decline is a
failed attempt with the reason for staff and a kind email to the client, and
``authentication_required`` is Needs client action with an email holding the invoice's
payment link so the client can finish paying on-session.

An on-session charge (the client clicked in the portal) is the same attempt with
``on_session``: confirmed with the client present (never ``off_session``), so the bank
may ask them to authenticate. Then the attempt is Needs client action with Stripe's
page to send them to; it stays in flight (the PaymentIntent can still succeed), so a
second click sends them back to that page instead of making a second PaymentIntent,
and they come back to the portal, where the PaymentIntent is re-read. No emails: the
client is looking at the answer.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import locks
from billing.models import Invoice, Payment
from billing.money import from_stripe_amount, to_stripe_amount
from billing.payment_links import payment_link_url
from billing.services import payment_record_settled
from billing.services.receipts import payment_receipt_queue
from billing.submission import submission_claim
from practice.actor import Actor
from practice.audit import audit_write
from practice.faults import checkpoint
from practice.mail import email_queue
from practice.models import Practice, User
from practice.money import practice_money

from . import gateway
from .autopay_results import autopay_attempt_settled
from .checkout import INVOICE_CHANGED, charges_account, invoice_refusal
from .models import CardChargeAllocation, CardChargeAttempt, SavedCard
from .services import application_fee_amount
from .webhooks import WebhookContext, WebhookIgnored

logger = logging.getLogger(__name__)

CHARGE_CARDS_OFFLINE = "Cards cannot be charged until the practice takes payments online (Settings > Online payments)."
CHARGE_CARD_GONE = "That card is no longer saved for this client. Reload the invoice and try again."
CHARGE_IN_PROGRESS = "A card payment for this invoice is already under way. Wait for it to finish before trying again."
CHARGE_SUCCEEDED = "Payment of {amount} taken from {card}."
CHARGE_DECLINED = "{card} was declined: {reason} Nothing was charged."
CHARGE_CLIENT_TOLD = "The client has been emailed."
CHARGE_NEEDS_ACTION = "{card} needs the client to confirm this payment with their bank. Nothing has been charged yet."
CHARGE_ACTION_EMAILED = "{to} has been emailed a link to finish paying."
CHARGE_NO_EMAIL = "The client has no email address: send them the invoice's payment link to finish paying."
CHARGE_PROCESSING = (
    "Stripe has not confirmed this payment yet, so it shows as Processing. Check again asks Stripe for the same "
    "payment: it cannot charge twice."
)
STRIPE_NO_ANSWER = "Stripe did not answer. The payment may or may not have gone through: Check again to find out."
STRIPE_REFUSED = "Stripe refused the charge: {message}"
HELD_FOR_REVIEW = (
    "Stripe took {taken}, but {expected} was expected. The payment is held for review and has not been applied."
)
NOT_RESENT = (
    "Stripe never confirmed this payment and it is too old to ask for again safely. Look it up in the Stripe "
    "dashboard before charging the card again."
)
NOTHING_OWED = "Nothing is owed at the moment."
BALANCE_CHANGED = "Your balance has changed since the page was opened. Check the amount and try again."
DECLINED_DEFAULT = "The card was declined."
CANCELED = "The payment was canceled at Stripe."
SUBMISSION_ACTION = "invoice.pay_now"

# Who started a charge the client made themselves (the portal has no staff user).
PORTAL_JOB = "portal"

# Stripe keeps an idempotency key for at least 24 hours: an attempt Stripe never answered
# is sent again only well inside that window, so a late resend cannot make a second charge.
RESEND_WITHIN = timedelta(hours=20)


class CardChargeRefused(Exception):
    """Why no attempt was made; the message is for staff."""


@dataclass(frozen=True)
class _Outcome:
    """What Stripe's answer means for the attempt."""

    status: str
    intent_id: str | None = None
    reason: str = ""
    decline_code: str = ""
    amount_received: int = 0
    currency: str = ""
    next_action_url: str = ""


# --- reads -----------------------------------------------------------------------------


def invoice_card_charges(invoice: Invoice, limit: int = 5) -> list[CardChargeAttempt]:
    """The invoice's latest card charges, newest first (the invoice page shows them)."""
    return list(
        CardChargeAttempt.objects.filter(practice_id=invoice.practice_id, allocations__invoice=invoice)
        .select_related("card", "created_by")
        .distinct()[:limit]
    )


def card_charge_in_flight(invoices: Sequence[Invoice]) -> CardChargeAttempt | None:
    """The charge in flight for any of ``invoices`` (at most one each), if there is one."""
    allocation = (
        CardChargeAllocation.objects.filter(invoice__in=[i.pk for i in invoices], in_flight=True)
        .select_related("attempt")
        .order_by("pk")
        .first()
    )
    return allocation.attempt if allocation else None


def card_charge_for_submission(practice: Practice, key: str) -> CardChargeAttempt | None:
    return CardChargeAttempt.objects.filter(practice=practice, submission_key=key).first() if key else None


def charge_message(attempt: CardChargeAttempt) -> str:
    """What staff are told about an attempt (a flash message after Pay now)."""
    card = attempt.card.label
    if attempt.status == CardChargeAttempt.Status.SUCCEEDED:
        return CHARGE_SUCCEEDED.format(amount=practice_money(attempt.practice, attempt.amount), card=card)
    if attempt.status == CardChargeAttempt.Status.FAILED:
        told = f" {CHARGE_CLIENT_TOLD}" if attempt.decline_code and _recipient(attempt) else ""
        return CHARGE_DECLINED.format(card=card, reason=attempt.failure_reason or DECLINED_DEFAULT) + told
    if attempt.status == CardChargeAttempt.Status.REQUIRES_ACTION:
        to = _recipient(attempt)
        then = CHARGE_ACTION_EMAILED.format(to=to) if to else CHARGE_NO_EMAIL
        return f"{CHARGE_NEEDS_ACTION.format(card=card)} {then}"
    return attempt.failure_reason or CHARGE_PROCESSING


def _recipient(attempt: CardChargeAttempt) -> str:
    invoice = attempt.invoice
    return invoice.bill_to_email or invoice.client.billing_email


# --- the attempt ---------------------------------------------------------------------------


def card_charge_create(
    *,
    invoice: Invoice | None = None,
    invoices: Sequence[Invoice] = (),
    card: SavedCard,
    actor: User | None,
    submission_key: str = "",
    expected_balance: Decimal | None = None,
    on_session: bool = False,
    submission_action: str = SUBMISSION_ACTION,
    job: str = PORTAL_JOB,
) -> CardChargeAttempt:
    """Commit an attempt to charge ``card`` the balance of ``invoice`` (staff's Pay now, the
    portal's Pay with a card on one invoice) or of ``invoices`` (the portal's Pay full
    balance: each open one, oldest first). Stripe is not called yet: ``card_charge_run``
    does that.

    ``submission_key`` (the form's) is claimed first, in the same transaction: a repeat
    raises billing's AlreadySubmitted, and ``card_charge_for_submission`` finds the first
    attempt to join. CardChargeRefused, with nothing written, when the invoice takes no
    payment (for several, when none does) or the amount changed from
    ``expected_balance``, the card is no longer saved, the practice cannot take charges,
    or a charge for one of the invoices is in flight. ``on_session``: the client is
    present (the portal) and ``actor`` is None. ``job`` names who started a charge with
    no ``actor`` in the audit log (the portal, or nightly AutoPay)."""
    wanted = [invoice] if invoice is not None else list(invoices)
    if not wanted or len({i.client_id for i in wanted}) != 1 or len({i.practice_id for i in wanted}) != 1:
        raise ValueError("A card charge pays one or more invoices of one client.")
    practice = wanted[0].practice
    with transaction.atomic():
        if submission_key:
            submission_claim(practice=practice, key=submission_key, action=submission_action, actor=actor)
        locked_by_id = locks.lock_invoices([i.pk for i in wanted])
        locked = [locked_by_id[i.pk] for i in wanted if i.pk in locked_by_id]
        if len(wanted) == 1:
            if refusal := invoice_refusal(locked[0]):
                raise CardChargeRefused(refusal)
            changed = INVOICE_CHANGED
        else:
            locked = sorted(
                (i for i in locked if invoice_refusal(i) is None), key=lambda i: (i.issue_date, i.sequence or 0, i.pk)
            )
            if not locked:
                raise CardChargeRefused(NOTHING_OWED)
            changed = BALANCE_CHANGED
        amount = sum((i.balance for i in locked), Decimal("0"))
        if expected_balance is not None and expected_balance != amount:
            raise CardChargeRefused(changed)
        account = charges_account(practice.pk)
        if account is None:
            raise CardChargeRefused(CHARGE_CARDS_OFFLINE)
        first = locked[0]
        current = SavedCard.objects.filter(
            pk=card.pk,
            practice=practice,
            client_id=first.client_id,
            removed_at__isnull=True,
            customer__stripe_account_id=account.stripe_account_id,
        ).first()
        if current is None:
            raise CardChargeRefused(CHARGE_CARD_GONE)
        if CardChargeAllocation.objects.filter(invoice__in=[i.pk for i in locked], in_flight=True).exists():
            raise CardChargeRefused(CHARGE_IN_PROGRESS)
        try:
            with transaction.atomic():
                attempt = CardChargeAttempt.objects.create(
                    practice=practice,
                    invoice=first,
                    client_id=first.client_id,
                    card=current,
                    amount=amount,
                    currency=practice.currency,
                    submission_key=submission_key,
                    created_by=actor,
                    on_session=on_session,
                )
                CardChargeAllocation.objects.bulk_create(
                    [CardChargeAllocation(attempt=attempt, invoice=i, amount=i.balance) for i in locked]
                )
        except IntegrityError:
            # Another attempt got in first (the partial unique indexes on charges in flight).
            raise CardChargeRefused(CHARGE_IN_PROGRESS) from None
        changes: dict[str, object] = {"amount": str(amount), "card": current.label, "attempt": attempt.pk}
        if len(locked) > 1:
            changes["invoices"] = [str(i.number) for i in locked]
        if on_session:
            changes["by"] = "client in the portal"
        audit_write(
            practice=practice,
            actor=actor or Actor.system(job),
            action="invoice.card_charge_started",
            obj=first,
            changes=changes,
        )
    return attempt


def card_charge_run(
    *, attempt_id: int, return_url: Callable[[CardChargeAttempt], str] | None = None
) -> CardChargeAttempt:
    """Charge the attempt's card (off-session, or on-session for the client present, who
    comes back to ``return_url(attempt)`` from authenticating), or ask Stripe again for
    the attempt's one PaymentIntent, and settle the attempt from the answer. Safe to call
    any number of times, at once too: a settled attempt is returned as it is."""
    attempt = CardChargeAttempt.objects.select_related("practice", "card__customer").get(pk=attempt_id)
    if not attempt.in_flight:
        return attempt
    if attempt.on_session and return_url is None:
        raise ValueError("An on-session charge needs the address the client comes back to.")
    account_id = attempt.card.customer.stripe_account_id
    if attempt.stripe_payment_intent_id:
        # Stripe made it already: its current state says what became of it.
        try:
            intent = gateway.card_intent_retrieve(attempt.stripe_payment_intent_id, account_id)
        except gateway.StripeError as exc:
            logger.warning("card charge %s: re-read failed: %s", attempt.pk, exc)
            return _note(attempt.pk, STRIPE_NO_ANSWER)
        return card_charge_settle(attempt_id=attempt.pk, intent=intent)
    if timezone.now() - attempt.created_at > RESEND_WITHIN:
        return _note(attempt.pk, NOT_RESENT)
    account = charges_account(attempt.practice_id)
    if account is None or account.stripe_account_id != account_id:
        return _apply(attempt.pk, _Outcome(CardChargeAttempt.Status.FAILED, reason=CHARGE_CARDS_OFFLINE))
    CardChargeAttempt.objects.filter(pk=attempt.pk, status=CardChargeAttempt.Status.CREATED).update(
        status=CardChargeAttempt.Status.PROCESSING, updated_at=timezone.now()
    )
    currency = attempt.currency
    # On-session when the client is present (they may be asked to authenticate), else off.
    send = (
        functools.partial(gateway.payment_intent_on_session, return_url=return_url(attempt))
        if attempt.on_session and return_url is not None
        else gateway.payment_intent_off_session
    )
    try:
        charge = send(
            attempt_id=attempt.pk,
            account_id=account_id,
            customer_id=str(attempt.card.customer.stripe_customer_id),
            payment_method_id=attempt.card.stripe_payment_method_id,
            amount=to_stripe_amount(attempt.amount, currency),
            currency=currency,
            metadata={"invoice": str(attempt.invoice_id), "card_charge": str(attempt.pk)},
            application_fee_amount=application_fee_amount(attempt.amount, currency),
        )
    except gateway.StripeUnanswered as exc:
        logger.warning("card charge %s: Stripe did not answer: %s", attempt.pk, exc)
        return _note(attempt.pk, STRIPE_NO_ANSWER)
    except gateway.StripeError as exc:
        message = str(getattr(exc, "user_message", "") or exc)
        return _apply(
            attempt.pk, _Outcome(CardChargeAttempt.Status.FAILED, reason=STRIPE_REFUSED.format(message=message))
        )
    # Stripe has answered and nothing is recorded yet: a crash here is resumed by sending
    # the same key again, which Stripe answers with this same PaymentIntent.
    checkpoint("card_charge.after_stripe")
    return _apply(attempt.pk, _outcome(charge.intent, charge.error_code, charge.decline_code, charge.message))


def card_charge_cancel(*, attempt_id: int) -> CardChargeAttempt:
    """Pay another way instead: cancel an on-session charge still waiting for the client to
    authenticate, so its PaymentIntent can never succeed, and settle the attempt from
    Stripe's answer (one that succeeded meanwhile is recorded as paid). Anything else is
    returned as it is; StripeError or StripeUnanswered when Stripe could not cancel it."""
    attempt = CardChargeAttempt.objects.select_related("card__customer").get(pk=attempt_id)
    Status = CardChargeAttempt.Status
    if not attempt.on_session or attempt.status != Status.REQUIRES_ACTION or not attempt.stripe_payment_intent_id:
        return attempt
    intent = gateway.payment_intent_cancel(
        attempt_id=attempt.pk,
        payment_intent_id=attempt.stripe_payment_intent_id,
        account_id=attempt.card.customer.stripe_account_id,
    )
    return card_charge_settle(attempt_id=attempt.pk, intent=intent)


def card_charge_settle(*, attempt_id: int, intent: gateway.CardIntent) -> CardChargeAttempt:
    """Make the attempt match ``intent`` as Stripe has it now."""
    return _apply(attempt_id, _outcome(intent, None, None, None))


def _outcome(intent: gateway.CardIntent | None, code: str | None, decline: str | None, message: str | None) -> _Outcome:
    Status = CardChargeAttempt.Status
    intent_id = intent.id if intent else None
    if intent is not None:
        code = code or intent.error_code
        decline = decline or intent.decline_code
        message = message or intent.error_message
        if intent.status == "succeeded":
            return _Outcome(
                Status.SUCCEEDED, intent_id, amount_received=intent.amount_received, currency=intent.currency
            )
    if code == "authentication_required" or decline == "authentication_required":
        return _Outcome(Status.REQUIRES_ACTION, intent_id, reason=message or "", decline_code="authentication_required")
    if intent is not None and intent.status == "requires_action":
        return _Outcome(
            Status.REQUIRES_ACTION, intent_id, reason=message or "", next_action_url=intent.next_action_url or ""
        )
    if code:
        return _Outcome(Status.FAILED, intent_id, reason=message or DECLINED_DEFAULT, decline_code=decline or code)
    if intent is not None and intent.status == "canceled":
        return _Outcome(Status.FAILED, intent_id, reason=CANCELED)
    return _Outcome(Status.PROCESSING, intent_id)


def _note(attempt_id: int, reason: str) -> CardChargeAttempt:
    """Leave an open attempt open with what staff should know (Stripe did not answer)."""
    CardChargeAttempt.objects.filter(pk=attempt_id, status__in=CardChargeAttempt.OPEN_STATUSES).update(
        status=CardChargeAttempt.Status.PROCESSING, failure_reason=reason, updated_at=timezone.now()
    )
    return CardChargeAttempt.objects.select_related("practice", "card", "invoice__client").get(pk=attempt_id)


def _apply(attempt_id: int, outcome: _Outcome) -> CardChargeAttempt:
    Status = CardChargeAttempt.Status
    with transaction.atomic():
        attempt = (
            CardChargeAttempt.objects.select_for_update(of=("self",))
            .select_related("practice", "client", "card", "invoice__client__payer", "created_by")
            .get(pk=attempt_id)
        )
        # Forward only: a success stands, and a failure changes only if Stripe later says
        # the PaymentIntent succeeded after all.
        if attempt.status == Status.SUCCEEDED or (not attempt.in_flight and outcome.status != Status.SUCCEEDED):
            return attempt
        if outcome.intent_id and not attempt.stripe_payment_intent_id:
            attempt.stripe_payment_intent_id = outcome.intent_id
        if outcome.status == Status.SUCCEEDED:
            _succeeded(attempt, outcome)
        else:
            attempt.status = outcome.status
            attempt.failure_reason = outcome.reason[:500]
            attempt.decline_code = outcome.decline_code[:64]
            attempt.next_action_url = outcome.next_action_url[:2000]
        if not attempt.in_flight:
            attempt.next_action_url = ""
            attempt.allocations.filter(in_flight=True).update(in_flight=False)
        attempt.save()
        # An AutoPay charge follows its attempt and tells the client in AutoPay's words; a
        # client at the portal reads the answer there; otherwise an absent client is emailed.
        if not autopay_attempt_settled(attempt) and not attempt.on_session:
            if outcome.status == Status.FAILED and outcome.decline_code:
                _email_declined(attempt)
            elif outcome.status == Status.REQUIRES_ACTION:
                _email_needs_action(attempt)
    return attempt


def _succeeded(attempt: CardChargeAttempt, outcome: _Outcome) -> None:
    assert outcome.intent_id is not None
    taken = from_stripe_amount(outcome.amount_received, attempt.currency)
    if outcome.currency != attempt.currency or taken != attempt.amount:
        # Never applied silently: held (Processing, with the reason) for staff to review.
        logger.error(
            "card charge %s: Stripe took %s %s, expected %s", attempt.pk, taken, outcome.currency, attempt.amount
        )
        attempt.status = CardChargeAttempt.Status.PROCESSING
        attempt.failure_reason = HELD_FOR_REVIEW.format(
            taken=f"{taken} {outcome.currency}", expected=practice_money(attempt.practice, attempt.amount)
        )
        return
    result = payment_record_settled(
        practice=attempt.practice,
        client=attempt.client,
        amount=taken,
        currency=attempt.currency,
        method=Payment.Method.CARD_ON_FILE,
        external_id=outcome.intent_id,
        # As the client saw it, oldest first; what an invoice no longer owes becomes credit.
        allocations={a.invoice_id: a.amount for a in attempt.allocations.order_by("pk")},
        actor=attempt.created_by,
    )
    attempt.status = CardChargeAttempt.Status.SUCCEEDED
    attempt.payment = result.payment
    attempt.failure_reason = ""
    attempt.decline_code = ""
    # The payer's receipt, once per payment whichever of the answer or the webhook settles it.
    payment_receipt_queue(payment=result.payment, invoice=attempt.invoice)


def _email_context(attempt: CardChargeAttempt) -> dict[str, object]:
    invoice = attempt.invoice
    return {
        "practice": attempt.practice,
        "number": invoice.number,
        "amount": practice_money(attempt.practice, attempt.amount),
        "card": attempt.card.label,
        "link": payment_link_url(invoice),
    }


def _email_declined(attempt: CardChargeAttempt) -> None:
    if to := _recipient(attempt):
        email_queue(
            key=f"card-charge:{attempt.pk}:declined",
            to=to,
            subject=f"Your payment to {attempt.practice.name} did not go through",
            template="card_charge_declined",
            context=_email_context(attempt),
            practice=attempt.practice,
            about=attempt.invoice,
        )


def _email_needs_action(attempt: CardChargeAttempt) -> None:
    if to := _recipient(attempt):
        email_queue(
            key=f"card-charge:{attempt.pk}:action",
            to=to,
            subject=f"Please confirm your payment to {attempt.practice.name}",
            template="card_charge_action",
            context=_email_context(attempt),
            practice=attempt.practice,
            about=attempt.invoice,
        )


# --- webhooks ------------------------------------------------------------------------------


def payment_intent_handle(context: WebhookContext) -> None:
    """payment_intent.succeeded / payment_intent.payment_failed: converge the card charge
    on the PaymentIntent re-read now. Found by its id, or (when the create's answer was
    lost) by the attempt id in its metadata, on the same connected account."""
    intent = gateway.payment_intent_read(dict(context.current()))
    attempt = CardChargeAttempt.objects.filter(stripe_payment_intent_id=intent.id).first()
    ref = intent.metadata.get("card_charge", "")
    if attempt is None and ref.isdecimal() and context.account:
        attempt = CardChargeAttempt.objects.filter(
            pk=int(ref), card__customer__stripe_account_id=context.account, stripe_payment_intent_id__isnull=True
        ).first()
    if attempt is None:
        raise WebhookIgnored("The PaymentIntent is no card charge of ours.")
    card_charge_settle(attempt_id=attempt.pk, intent=intent)
