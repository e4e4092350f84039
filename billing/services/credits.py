"""Credit: credit invoices (what the client is owed, added to their credit balance) and
applying that credit to an open invoice."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from clients.models import Client
from practice.actor import Actor
from practice.models import Practice, User

from .. import locks
from ..inputs import AMOUNT_POSITIVE, REASON_REQUIRED, LineInput, money_problem
from ..models import Invoice, InvoiceLine
from .invoices import (
    NOTHING_TO_INVOICE,
    _audit,
    _check_not_empty_total,
    _issue_locked,
    _line_from_input,
    _recompute_totals,
)
from .ledger import _apply_credit_locked, _settle_status

NO_CREDIT = "This client has no credit balance to apply."
CREDIT_TOO_MUCH = "You cannot apply more credit than the client has or the invoice owes."


def credit_invoice_create(
    *, practice: Practice, client: Client, actor: Actor | User, lines: list[LineInput], reason: str, issue: bool = True
) -> Invoice:
    """A credit invoice: lines entered as positive amounts, stored negative. Issuing it
    adds its total to the client's credit balance."""
    if not (reason or "").strip():
        raise ValidationError({"reason": REASON_REQUIRED})
    if not lines:
        raise ValidationError(NOTHING_TO_INVOICE)
    if client.practice_id != practice.pk:
        raise ValidationError("That client does not belong to this practice.")
    actor = Actor.coerce(actor)
    with transaction.atomic():
        practice = locks.lock_practice(practice)
        account = locks.lock_client(client)
        invoice = Invoice.objects.create(
            practice=practice,
            client=client,
            kind=Invoice.Kind.CREDIT,
            currency=practice.currency,
            bill_to_name=str(client.payer) if client.payer else client.full_name,
            bill_to_email=client.billing_email,
            reason=reason.strip()[:255],
            created_by=actor.user,
        )
        InvoiceLine.objects.bulk_create([_line_from_input(invoice, line, i, sign=-1) for i, line in enumerate(lines)])
        _recompute_totals(invoice)
        _check_not_empty_total(invoice)
        invoice.save()
        _audit(invoice, actor, "credit_invoice.created", {"reason": invoice.reason, "total": str(invoice.total)})
        if issue:
            _issue_locked(invoice, account, actor, fresh=True)
    return invoice


def credit_apply(*, invoice: Invoice, actor: Actor | User, amount: Decimal | None = None) -> Invoice:
    """Apply the client's credit to an open invoice (all that fits, or ``amount``)."""
    actor = Actor.coerce(actor)
    with transaction.atomic():
        account = locks.lock_client(invoice.client)
        locked = locks.lock_invoices([invoice.pk])[invoice.pk]
        if locked.status != Invoice.Status.OPEN or locked.is_credit:
            raise ValidationError("Credit can only be applied to an open invoice.")
        if account.credit_balance <= 0:
            raise ValidationError(NO_CREDIT)
        fits = min(account.credit_balance, locked.balance)
        if amount is not None and (problem := money_problem(amount, locked.currency)):
            raise ValidationError({"amount": problem})
        amount = fits if amount is None else amount
        if amount <= 0:
            raise ValidationError({"amount": AMOUNT_POSITIVE})
        if amount > fits:
            raise ValidationError({"amount": CREDIT_TOO_MUCH})
        _apply_credit_locked(locked, account, amount, actor)
        _settle_status(locked)
        _audit(locked, actor, "credit.applied", {"amount": str(amount)})
    return locked
