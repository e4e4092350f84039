"""Payments: money recorded by hand ("Add payment", "Mark as paid") or settled by a card
processor, allocated to open invoices oldest first with the rest as credit, and a hand
payment's deletion (a reversing ledger entry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clients.models import Client
from practice.actor import Actor
from practice.audit import audit_write
from practice.models import Practice, User

from .. import locks
from ..inputs import AMOUNT_POSITIVE, REASON_REQUIRED, money_problem, payment_date_problem
from ..models import ClientAccount, Invoice, LedgerEntry, Payment, PaymentAllocation
from ..money import ZERO
from ..selectors import open_invoices_oldest_first
from .ledger import _ledger, _settle_status

ALLOCATION_TOO_MUCH = "An allocation is more than that invoice's balance."
ALLOCATIONS_EXCEED = "The allocations add up to more than the payment."
OVERPAYMENT_QUESTION = "This payment is more than the invoices owe. Keep the difference as credit for the client?"
TAKES_NO_PAYMENTS = "{number} is {status}: it takes no payments."
PAYMENT_CREDIT_USED = "The credit this payment created has been used, so the payment cannot be deleted."
WRONG_CURRENCY = "This amount is not in the practice's currency."


@dataclass
class PaymentResult:
    payment: Payment
    allocations: list[PaymentAllocation] = field(default_factory=list)
    # False when payment_record_settled found the payment already recorded (same external id).
    created: bool = True


def default_allocation(invoices: list[Invoice], amount: Decimal) -> dict[int, Decimal]:
    """Oldest first: each invoice takes what it owes until the money runs out."""
    left = amount
    plan: dict[int, Decimal] = {}
    for invoice in invoices:
        if left <= 0:
            break
        take = min(invoice.balance, left)
        plan[invoice.pk] = take
        left -= take
    return plan


def payment_refusal(invoice: Invoice) -> str | None:
    """Why Add payment opened from ``invoice`` must record nothing (None when it may):
    a draft, a paid or void invoice and a credit invoice take no payments."""
    if invoice.is_credit:
        status = "a credit invoice"
    elif invoice.status == Invoice.Status.DRAFT:
        status = "a draft"
    elif invoice.status in (Invoice.Status.PAID, Invoice.Status.VOID) or invoice.balance <= 0:
        status = "paid" if invoice.status == Invoice.Status.OPEN else invoice.get_status_display().lower()
    else:
        return None
    return TAKES_NO_PAYMENTS.format(number=str(invoice), status=status)


def allocation_order(invoices: list[Invoice], first: Invoice | None) -> list[Invoice]:
    """The order a payment's money goes: the invoice it was opened from first, then the
    rest oldest first (``invoices`` is oldest first)."""
    if first is None:
        return invoices
    return sorted(invoices, key=lambda invoice: invoice.pk != first.pk)


def payment_record_manual(
    *,
    practice: Practice,
    client: Client,
    actor: Actor | User,
    amount: Decimal,
    received_on: date,
    method: str,
    reference: str = "",
    allocations: dict[int, Decimal] | None = None,
    overpayment_to_credit: bool = False,
    for_invoice: Invoice | None = None,
) -> PaymentResult:
    """Record money received outside the app, allocated to open invoices (oldest first
    unless ``allocations`` says otherwise); what is left becomes credit only when
    ``overpayment_to_credit`` — otherwise the caller is asked (code "overpayment").

    ``for_invoice`` is the invoice Add payment was opened from: it comes first in the
    default allocation, and if it takes no payments (draft, paid, void, credit; perhaps
    since the form was shown) nothing is recorded (code "takes_no_payments")."""
    if client.practice_id != practice.pk:
        raise ValidationError("That client does not belong to this practice.")
    if for_invoice is not None and (for_invoice.practice_id != practice.pk or for_invoice.client_id != client.pk):
        raise ValidationError("That invoice is not this client's.")
    if method not in Payment.Method.values or method in (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE):
        raise ValidationError({"method": "Choose how the payment was made."})
    if amount is None or amount <= 0:
        raise ValidationError({"amount": AMOUNT_POSITIVE})
    if problem := money_problem(amount, practice.currency):
        raise ValidationError({"amount": problem})
    if problem := payment_date_problem(practice, received_on):
        raise ValidationError({"received_on": problem})
    with transaction.atomic():
        account = locks.lock_client(client)
        return _payment_record_locked(
            practice=practice,
            client=client,
            account=account,
            actor=Actor.coerce(actor),
            amount=amount,
            received_on=received_on,
            method=method,
            reference=reference,
            allocations=allocations,
            overpayment_to_credit=overpayment_to_credit,
            for_invoice=for_invoice,
        )


def _payment_record_locked(
    *,
    practice: Practice,
    client: Client,
    account: ClientAccount,
    actor: Actor,
    amount: Decimal,
    received_on: date,
    method: str,
    reference: str = "",
    allocations: dict[int, Decimal] | None,
    overpayment_to_credit: bool,
    for_invoice: Invoice | None = None,
    settled: bool = False,
    external_id: str = "",
) -> PaymentResult:
    """The allocation, overpayment and ledger core of every payment, run with the client's
    account locked (``account``) inside the caller's transaction.

    ``settled`` is money a processor already took (payment_record_settled): it cannot be
    refused, so an allocation larger than what an invoice still owes (paid by hand
    meanwhile, say) takes only what it owes, an invoice no longer open takes nothing, and
    the rest becomes credit."""
    first = [] if for_invoice is None else [for_invoice.pk]
    if allocations is None:
        candidates = open_invoices_oldest_first(client)
        locked = locks.lock_invoices({*first, *(i.pk for i in candidates)})
        # Read before the lock: an invoice paid or voided meanwhile is no longer a candidate.
        still_open = [
            locked[i.pk]
            for i in candidates
            if i.pk in locked and locked[i.pk].status == Invoice.Status.OPEN and locked[i.pk].balance > 0
        ]
        plan = default_allocation(allocation_order(still_open, for_invoice), amount)
    else:
        plan = {k: v for k, v in allocations.items() if v}
        locked = locks.lock_invoices({*first, *plan.keys()})
        if not set(plan) <= set(locked):
            raise ValidationError("One of the invoices was not found.")
    if for_invoice is not None and (refusal := payment_refusal(locked[for_invoice.pk])):
        raise ValidationError(refusal, code="takes_no_payments")
    if settled:
        plan = _fit_settled_plan(plan, locked, client)
    for invoice_id, share in plan.items():
        invoice = locked[invoice_id]
        if invoice.client_id != client.pk or invoice.status != Invoice.Status.OPEN or invoice.is_credit:
            raise ValidationError("Payments can only go to this client's open invoices.")
        if share <= 0:
            raise ValidationError({"allocations": AMOUNT_POSITIVE})
        if problem := money_problem(share, practice.currency):
            # Else the invoice's balance and the credited rest get a fraction of a cent.
            raise ValidationError({"allocations": problem})
        if share > invoice.balance:
            raise ValidationError({"allocations": ALLOCATION_TOO_MUCH})
    allocated = sum(plan.values(), ZERO)
    if allocated > amount:
        raise ValidationError({"allocations": ALLOCATIONS_EXCEED})
    credited = amount - allocated
    if credited > 0 and not overpayment_to_credit:
        raise ValidationError(OVERPAYMENT_QUESTION, code="overpayment")
    payment = Payment.objects.create(
        practice=practice,
        client=client,
        amount=amount,
        allocated=allocated,
        credited=credited,
        currency=practice.currency,
        method=method,
        received_on=received_on,
        reference=reference[:120],
        external_id=external_id,
        created_by=actor.user,
    )
    rows = []
    for invoice_id, share in sorted(plan.items()):
        invoice = locked[invoice_id]
        rows.append(PaymentAllocation(payment=payment, invoice=invoice, amount=share))
        invoice.amount_paid += share
        invoice.balance -= share
        _settle_status(invoice)
    PaymentAllocation.objects.bulk_create(rows)
    _ledger(
        account=account,
        kind=LedgerEntry.Kind.PAYMENT,
        actor=actor,
        currency=practice.currency,
        balance_delta=-allocated,
        credit_delta=credited,
        payment=payment,
        memo=f"{payment.get_method_display()} {reference}".strip(),
    )
    audit_write(
        practice=practice,
        actor=actor,
        action="payment.recorded",
        obj=payment,
        changes={"amount": str(amount), "method": method, "allocated": str(allocated), "credited": str(credited)},
    )
    return PaymentResult(payment=payment, allocations=rows)


def invoice_mark_paid(
    *,
    invoice: Invoice,
    actor: Actor | User,
    method: str = Payment.Method.OTHER,
    received_on: date | None = None,
    reference: str = "",
) -> PaymentResult:
    """ "Mark as paid": a payment of the invoice's balance, allocated to it."""
    if not invoice.can_take_payment():
        raise ValidationError("Only an open invoice with a balance can be marked as paid.")
    practice = invoice.practice
    return payment_record_manual(
        practice=practice,
        client=invoice.client,
        actor=actor,
        amount=invoice.balance,
        received_on=received_on or practice.local_today(),
        method=method,
        reference=reference,
        allocations={invoice.pk: invoice.balance},
    )


def payment_reverse(*, payment: Payment, actor: Actor | User, reason: str) -> Payment:
    """Delete a hand payment the only way money is deleted: a reversing ledger entry."""
    if not (reason or "").strip():
        raise ValidationError({"reason": REASON_REQUIRED})
    with transaction.atomic():
        account = locks.lock_client(payment.client)
        allocations = list(PaymentAllocation.objects.filter(payment=payment))
        invoices = locks.lock_invoices([a.invoice_id for a in allocations])
        locked = locks.lock_payment(payment.pk)
        if refusal := locked.reverse_refusal():
            raise ValidationError(refusal)
        if account.credit_balance < locked.credited:
            raise ValidationError(PAYMENT_CREDIT_USED)
        for allocation in allocations:
            invoice = invoices[allocation.invoice_id]
            invoice.amount_paid -= allocation.amount
            invoice.balance += allocation.amount
            _settle_status(invoice)
        _ledger(
            account=account,
            kind=LedgerEntry.Kind.PAYMENT_REVERSED,
            actor=Actor.coerce(actor),
            currency=locked.currency,
            balance_delta=locked.allocated,
            credit_delta=-locked.credited,
            payment=locked,
            memo=reason.strip()[:255],
        )
        locked.mark_reversed(reason)
        locked.save(update_fields=["status", "reversal_reason", "reversed_at"])
        audit_write(
            practice=locked.practice,
            actor=actor,
            action="payment.reversed",
            obj=locked,
            changes={"reason": locked.reversal_reason, "amount": str(locked.amount)},
        )
    return locked


# --- payments settled by a processor (the seam the payments app uses) ---------------------

SETTLED_SYSTEM = "payments"
SETTLED_METHODS = (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE)
SETTLED_METHOD = "A settled payment is a card payment taken online or with a card on file."
EXTERNAL_ID_REQUIRED = "A settled payment needs the processor's id."
EXTERNAL_ID_REUSED = "That processor id was already recorded for a different payment."


def _settled_actor(actor: Actor | User | None) -> Actor:
    """Who records money a processor took: the person who asked, else the payments job."""
    return Actor.system(SETTLED_SYSTEM) if actor is None else Actor.coerce(actor)


def _fit_settled_plan(plan: dict[int, Decimal], locked: dict[int, Invoice], client: Client) -> dict[int, Decimal]:
    """A settled payment's allocation cut to what each invoice owes now; an invoice of
    another client is still refused (a caller's mistake, not a change of state)."""
    fitted: dict[int, Decimal] = {}
    for invoice_id, share in plan.items():
        invoice = locked[invoice_id]
        if invoice.client_id != client.pk:
            raise ValidationError("Payments can only go to this client's open invoices.")
        if share < 0:
            fitted[invoice_id] = share  # refused by the core's checks
            continue
        if invoice.status != Invoice.Status.OPEN or invoice.is_credit or invoice.balance <= 0:
            continue
        fitted[invoice_id] = min(share, invoice.balance)
    return fitted


def _settled_payment_found(
    practice: Practice, client: Client, amount: Decimal, external_id: str
) -> PaymentResult | None:
    payment = Payment.objects.filter(practice=practice, external_id=external_id).first()
    if payment is None:
        return None
    if payment.client_id != client.pk or payment.amount != amount:
        raise ValidationError(EXTERNAL_ID_REUSED)
    return PaymentResult(payment=payment, allocations=list(payment.allocations.order_by("pk")), created=False)


def payment_record_settled(
    *,
    practice: Practice,
    client: Client,
    amount: Decimal,
    currency: str,
    method: str,
    external_id: str,
    allocations: dict[int, Decimal] | None = None,
    actor: Actor | User | None = None,
) -> PaymentResult:
    """Record money a processor has already taken (a Stripe charge), received today.

    The allocation, overpayment and ledger rules are payment_record_manual's (one core),
    except that money already taken cannot be refused: what the invoices do not owe
    (any more) becomes the client's credit. ``external_id`` (the processor's id) is
    unique per practice: a second call with it, from a webhook after the redirect or
    from the same webhook delivered twice, returns the first payment (``created`` False)
    and records nothing. ``actor`` None is the payments job (the webhook):
    ``Actor.system(SETTLED_SYSTEM)``."""
    external_id = (external_id or "").strip()
    if client.practice_id != practice.pk:
        raise ValidationError("That client does not belong to this practice.")
    if method not in SETTLED_METHODS:
        raise ValidationError({"method": SETTLED_METHOD})
    if not external_id:
        raise ValidationError(EXTERNAL_ID_REQUIRED)
    if (currency or "").upper() != practice.currency:
        raise ValidationError({"amount": WRONG_CURRENCY})
    if amount is None or amount <= 0:
        raise ValidationError({"amount": AMOUNT_POSITIVE})
    if problem := money_problem(amount, practice.currency):
        raise ValidationError({"amount": problem})
    try:
        with transaction.atomic():
            account = locks.lock_client(client)
            # Under the client's lock a second call for the same charge waits here, then sees the first.
            if (found := _settled_payment_found(practice, client, amount, external_id)) is not None:
                return found
            return _payment_record_locked(
                practice=practice,
                client=client,
                account=account,
                actor=_settled_actor(actor),
                amount=amount,
                received_on=practice.local_today(),
                method=method,
                allocations=allocations,
                overpayment_to_credit=True,
                settled=True,
                external_id=external_id,
            )
    except IntegrityError:
        # The unique constraint caught a twin the lock did not serialize; the first one stands.
        if (found := _settled_payment_found(practice, client, amount, external_id)) is not None:
            return found
        raise
