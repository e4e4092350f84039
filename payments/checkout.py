"""Paying an invoice online: a Checkout Session (payment mode) for its balance (or, where
the practice allows part-payments, the amount the payer chose), as a direct charge on the
practice's connected account, settled from Stripe's own state. The client starts it from
the payment link (Pay online) or the client portal (Make payment), staff from the invoice
page (Take payment). From the portal, Pay full balance makes one session for every open
invoice of a client and allocates the payment oldest first.

The attempt row is committed before Stripe is called and keys the session's idempotency,
so a double click, a second tab or a retry after a timeout reuse one session. The payment
is recorded (``checkout_settle``) only from the session as Stripe has it now, whether the
return page or checkout.session.completed re-reads it first; the attempt's row lock and
billing's seam (idempotent by the payment intent id) make the payment and its receipt
exist once either way. A paid session whose amount or currency is not the attempt's is
held for staff (payments.review), never applied.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing import locks
from billing.models import Invoice, Payment
from billing.money import from_stripe_amount, to_stripe_amount
from billing.selectors import open_invoices_oldest_first
from billing.services import payment_record_settled
from billing.services.receipts import payment_receipt_queue
from clients.models import Client
from practice.models import User

from . import gateway, part_payments, review
from .gateway import CheckoutSession
from .models import CheckoutAttempt, CheckoutAttemptInvoice, StripeAccount
from .services import application_fee_amount
from .webhooks import WebhookContext, WebhookIgnored

logger = logging.getLogger(__name__)

INVOICE_PAID = "This invoice is already paid. Nothing more is owed on it."
INVOICE_VOID = "This invoice has been voided and is no longer payable."
INVOICE_NOT_PAYABLE = "This invoice cannot be paid online: nothing is owed on it."
INVOICE_CHANGED = "This invoice has changed since the page was opened. Check the amount due and try again."
NOTHING_OWED = "Nothing is owed: every invoice is paid."
BALANCE_CHANGED = "Your balance has changed since the page was opened. Check the amount due and try again."
ONLINE_UNAVAILABLE = (
    "{practice} cannot take card payments online at the moment. Nothing has been charged. "
    "Pay another way (see How to pay), or contact {practice}."
)
UNDER_REVIEW = (
    "A card payment for this invoice is being checked by {practice}, so it cannot be paid online "
    "until that is done. Nothing more has been charged."
)
# An open attempt younger than this is reused for the same amount (Stripe keeps a session
# open for 24 hours; a fresh one after a while costs nothing).
REUSE_FOR = timedelta(minutes=30)
_SIGNER_SALT = "payments.checkout.v1"


class CheckoutRefused(Exception):
    """Why no session was made; the message is for the client."""


class AmountRefused(CheckoutRefused):
    """The amount the payer chose may not be paid (part-payments off, under the minimum,
    over the balance, not an amount)."""


def attempt_token(attempt: CheckoutAttempt) -> str:
    """The attempt's id, signed (no timestamp, so the session's URLs are the same each time)."""
    return signing.Signer(salt=_SIGNER_SALT).sign(str(attempt.pk))


def attempt_from_token(token: str) -> CheckoutAttempt | None:
    try:
        pk = int(signing.Signer(salt=_SIGNER_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return CheckoutAttempt.objects.select_related("practice").filter(pk=pk).first()


def charges_account(practice_id: int) -> StripeAccount | None:
    """The practice's connected account when it can take charges now."""
    return StripeAccount.objects.filter(
        practice_id=practice_id, disconnected_at__isnull=True, charges_enabled=True
    ).first()


def held_for_review(practice_id: int, invoice_id: int) -> bool:
    """Whether a card payment of the invoice is held for review: until staff decide, no
    more is taken online for it (the payer may otherwise pay twice)."""
    return CheckoutAttempt.objects.filter(
        practice_id=practice_id, invoice_id=invoice_id, status=CheckoutAttempt.Status.HELD
    ).exists()


def invoice_refusal(invoice: Invoice) -> str | None:
    if invoice.status == Invoice.Status.VOID:
        return INVOICE_VOID
    if invoice.status == Invoice.Status.PAID:
        return INVOICE_PAID
    if invoice.status != Invoice.Status.OPEN or invoice.is_credit or invoice.balance <= 0:
        return INVOICE_NOT_PAYABLE
    return None


def _url(name: str, attempt: CheckoutAttempt) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, kwargs={"token": attempt_token(attempt)})


def _return_urls(attempt: CheckoutAttempt, practice_slug: str) -> tuple[str, str]:
    """Where Stripe sends the browser back (success, cancel): the payment link's pages for
    a client, the staff return page (signed in, in the practice) for Take payment. They
    depend on the attempt only, so a retried create sends the same parameters."""
    if attempt.source == CheckoutAttempt.Source.STAFF:
        page = settings.SITE_URL.rstrip("/") + reverse(
            "payments:take_payment_return", kwargs={"practice_slug": practice_slug, "invoice_id": attempt.invoice_id}
        )
        return f"{page}?attempt={attempt.pk}", f"{page}?attempt={attempt.pk}&cancelled=1"
    if attempt.source == CheckoutAttempt.Source.PORTAL:
        return (
            _url("portal:checkout_return", attempt) + "?session_id={CHECKOUT_SESSION_ID}",
            _url("portal:checkout_cancel", attempt),
        )
    return _url("checkout_return", attempt) + "?session_id={CHECKOUT_SESSION_ID}", _url("checkout_cancel", attempt)


def checkout_start(
    invoice: Invoice,
    *,
    expected_balance: Decimal | None = None,
    amount: Decimal | None = None,
    source: str = CheckoutAttempt.Source.LINK,
    created_by: User | None = None,
) -> str:
    """The URL of a Checkout Session for ``amount`` (the balance when None) of ``invoice``;
    CheckoutRefused (and no session) when the invoice takes no payment, changed from
    ``expected_balance`` (what the page showed), the amount may not be paid
    (AmountRefused), or the practice's account cannot take charges. ``source`` says who
    pays (the client from the payment link, or staff with Take payment) and so where the
    browser comes back to."""
    with transaction.atomic():
        locked = locks.lock_invoices([invoice.pk])[invoice.pk]
        if refusal := invoice_refusal(locked):
            raise CheckoutRefused(refusal)
        if expected_balance is not None and expected_balance != locked.balance:
            raise CheckoutRefused(INVOICE_CHANGED)
        practice = invoice.practice
        if amount is not None:
            rules = part_payments.part_payments_for(locked.practice_id)
            if problem := part_payments.amount_problem(
                practice=practice, rules=rules, balance=locked.balance, amount=amount
            ):
                raise AmountRefused(problem)
        if held_for_review(locked.practice_id, locked.pk):
            raise CheckoutRefused(UNDER_REVIEW.format(practice=practice.name))
        account = charges_account(locked.practice_id)
        if account is None:
            raise CheckoutRefused(ONLINE_UNAVAILABLE.format(practice=practice.name))
        currency = practice.currency
        to_pay = locked.balance if amount is None else amount
        attempt = (
            CheckoutAttempt.objects.filter(
                practice_id=locked.practice_id,
                invoice_id=locked.pk,
                amount=to_pay,
                currency=currency,
                source=source,
                invoices__isnull=True,  # not a Pay full balance that starts with this invoice
                status__in=[CheckoutAttempt.Status.CREATED, CheckoutAttempt.Status.OPEN],
                created_at__gte=timezone.now() - REUSE_FOR,
            )
            .order_by("pk")
            .first()
        )
        if attempt is None:
            attempt = CheckoutAttempt.objects.create(
                practice_id=locked.practice_id,
                invoice_id=locked.pk,
                client_id=locked.client_id,
                amount=to_pay,
                currency=currency,
                source=source,
                created_by=created_by,
            )
        number = str(locked.number)
    return _session_create(attempt, account, practice.slug, f"Invoice {number}")


def _session_create(attempt: CheckoutAttempt, account: StripeAccount, practice_slug: str, name: str) -> str:
    """Make (or, by the attempt's idempotency key, get back) the attempt's session and
    return its URL. ``name`` is the session's one line: invoice numbers only."""
    currency = attempt.currency
    success_url, cancel_url = _return_urls(attempt, practice_slug)
    session = gateway.checkout_session_create(
        attempt_id=attempt.pk,
        account_id=account.stripe_account_id,
        amount=to_stripe_amount(attempt.amount, currency),
        currency=currency,
        name=name,
        metadata={"invoice": str(attempt.invoice_id), "attempt": str(attempt.pk)},
        success_url=success_url,
        cancel_url=cancel_url,
        application_fee_amount=application_fee_amount(attempt.amount, currency),
    )
    CheckoutAttempt.objects.filter(pk=attempt.pk, status=CheckoutAttempt.Status.CREATED).update(
        stripe_checkout_session_id=session.id, session_url=session.url or "", status=CheckoutAttempt.Status.OPEN
    )
    if not session.url:
        raise CheckoutRefused(INVOICE_PAID if session.payment_status == "paid" else INVOICE_NOT_PAYABLE)
    return session.url


def checkout_start_balance(*, client: Client, expected_total: Decimal | None = None) -> str:
    """The URL of one Checkout Session (from the client portal) for the balance of every
    open invoice of ``client`` (Pay full balance), to be allocated oldest first;
    CheckoutRefused (and no session) when nothing is owed, the total changed from
    ``expected_total`` (what the page showed), a card payment of one of the invoices is
    held for review, or the practice's account cannot take charges.

    The attempt and its invoices' shares are committed before Stripe is called, and the
    attempt keys the session's idempotency, as for one invoice. A second request for the
    same invoices and shares within ``REUSE_FOR`` gets the same session."""
    practice = client.practice
    with transaction.atomic():
        # Lock order (billing.locks): client, then invoices.
        locks.lock_client(client)
        candidates = open_invoices_oldest_first(client)
        locked = locks.lock_invoices([invoice.pk for invoice in candidates])
        # Oldest first, as read; an invoice paid or voided before the lock drops out.
        plan = [
            locked[invoice.pk]
            for invoice in candidates
            if invoice.pk in locked and invoice_refusal(locked[invoice.pk]) is None
        ]
        if not plan:
            raise CheckoutRefused(NOTHING_OWED)
        total = sum((invoice.balance for invoice in plan), Decimal("0"))
        if expected_total is not None and expected_total != total:
            raise CheckoutRefused(BALANCE_CHANGED)
        if CheckoutAttempt.objects.filter(
            practice_id=practice.pk, invoice_id__in=[i.pk for i in plan], status=CheckoutAttempt.Status.HELD
        ).exists():
            raise CheckoutRefused(UNDER_REVIEW.format(practice=practice.name))
        account = charges_account(practice.pk)
        if account is None:
            raise CheckoutRefused(ONLINE_UNAVAILABLE.format(practice=practice.name))
        currency = practice.currency
        shares = [(invoice.pk, invoice.balance) for invoice in plan]
        attempt = _balance_attempt_reusable(client, total, currency, shares)
        if attempt is None:
            attempt = CheckoutAttempt.objects.create(
                practice_id=practice.pk,
                invoice_id=plan[0].pk,
                client_id=client.pk,
                amount=total,
                currency=currency,
                source=CheckoutAttempt.Source.PORTAL,
            )
            CheckoutAttemptInvoice.objects.bulk_create(
                [
                    CheckoutAttemptInvoice(attempt=attempt, invoice_id=invoice_id, position=position, amount=share)
                    for position, (invoice_id, share) in enumerate(shares)
                ]
            )
        count, first_number = len(plan), str(plan[0].number)
    name = f"Invoice {first_number}" if count == 1 else f"{count} invoices, from {first_number}"
    return _session_create(attempt, account, practice.slug, name)


def _balance_attempt_reusable(
    client: Client, total: Decimal, currency: str, shares: list[tuple[int, Decimal]]
) -> CheckoutAttempt | None:
    """A recent open Pay full balance attempt of ``client`` for exactly these shares."""
    recent = (
        CheckoutAttempt.objects.filter(
            practice_id=client.practice_id,
            client_id=client.pk,
            amount=total,
            currency=currency,
            source=CheckoutAttempt.Source.PORTAL,
            invoices__isnull=False,
            status__in=[CheckoutAttempt.Status.CREATED, CheckoutAttempt.Status.OPEN],
            created_at__gte=timezone.now() - REUSE_FOR,
        )
        .distinct()
        .order_by("pk")
    )
    for attempt in recent:
        if [(row.invoice_id, row.amount) for row in attempt.invoices.order_by("position")] == shares:
            return attempt
    return None


def attempt_allocations(attempt: CheckoutAttempt, amount: Decimal) -> dict[int, Decimal]:
    """How a paid attempt's ``amount`` is allocated: its invoices' shares oldest first (Pay
    full balance), else all of it to its one invoice."""
    rows = list(attempt.invoices.order_by("position"))
    if not rows:
        return {attempt.invoice_id: amount}
    return {row.invoice_id: row.amount for row in rows}


def checkout_refresh(attempt: CheckoutAttempt) -> CheckoutAttempt:
    """Re-read the attempt's session from Stripe and settle it (the return page's check)."""
    if attempt.status in (CheckoutAttempt.Status.PAID, CheckoutAttempt.Status.EXPIRED, CheckoutAttempt.Status.HELD):
        return attempt
    account = StripeAccount.objects.filter(practice_id=attempt.practice_id).first()
    if account is None or not attempt.stripe_checkout_session_id:
        return attempt
    session = gateway.checkout_session_retrieve(attempt.stripe_checkout_session_id, account.stripe_account_id)
    return checkout_settle(session) or attempt


def checkout_settle(session: CheckoutSession) -> CheckoutAttempt | None:
    """Make the attempt match ``session`` as Stripe has it: record the payment and queue
    its receipt (once, under the attempt's lock) when it is paid for the attempt's amount,
    hold it for staff when Stripe's amount or currency differs. None for a session that is
    none of ours."""
    with transaction.atomic():
        attempt = (
            CheckoutAttempt.objects.select_for_update()
            .select_related("practice", "client")
            .filter(stripe_checkout_session_id=session.id)
            .first()
        )
        if attempt is None:
            return None
        if attempt.status in (CheckoutAttempt.Status.PAID, CheckoutAttempt.Status.HELD):
            return attempt  # settled already (the return page or the webhook came first)
        if session.payment_status == "paid" and session.payment_intent and session.amount_total is not None:
            amount = from_stripe_amount(session.amount_total, session.currency)
            if session.currency != attempt.currency or amount != attempt.amount:
                # Never applied silently: held, and staff are told (payments.review).
                logger.error(
                    "checkout %s: Stripe has %s %s, expected %s", attempt.pk, amount, session.currency, attempt.amount
                )
                review.checkout_hold(
                    attempt=attempt, amount=amount, currency=session.currency, payment_intent=session.payment_intent
                )
                return attempt
            result = payment_record_settled(
                practice=attempt.practice,
                client=attempt.client,
                amount=amount,
                currency=attempt.currency,
                method=Payment.Method.CARD_ONLINE,
                external_id=session.payment_intent,
                allocations=attempt_allocations(attempt, amount),
                actor=None,
            )
            attempt.status = CheckoutAttempt.Status.PAID
            attempt.payment_id = result.payment.pk
            attempt.save(update_fields=["status", "payment_id"])
            receipt_for(attempt, result.payment)
            return attempt
        if session.status == "expired":
            attempt.status = CheckoutAttempt.Status.EXPIRED
            attempt.save(update_fields=["status"])
    return attempt


def receipt_for(attempt: CheckoutAttempt, payment: Payment) -> None:
    """Queue the receipt of the attempt's payment (once per payment and invoice: its email
    key); a Pay full balance sends one for each invoice it paid towards."""
    invoice_ids = list(payment.allocations.order_by("pk").values_list("invoice_id", flat=True)) or [attempt.invoice_id]
    for invoice in Invoice.objects.filter(practice_id=attempt.practice_id, pk__in=invoice_ids).order_by("pk"):
        payment_receipt_queue(payment=payment, invoice=invoice)


def checkout_session_completed_handle(context: WebhookContext) -> None:
    """checkout.session.completed (and .expired): settle from the session re-read now. A
    setup-mode session (Save a card) is payments.cards' to handle."""
    if context.object.get("mode") == "setup":
        from .cards import card_setup_session_handle  # here: payments.cards imports this module

        card_setup_session_handle(context)
        return
    session = gateway.checkout_session_read(dict(context.current()))
    if checkout_settle(session) is None:
        raise WebhookIgnored("The Checkout Session is none of ours.")
