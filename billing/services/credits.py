"""Credit: credit invoices (what the client is owed, added to their credit balance) and
applying that credit to an open invoice."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from clients.models import Client
from practice.actor import Actor
from practice.audit import audit_write_many
from practice.models import Practice, User

from .. import locks
from ..inputs import AMOUNT_POSITIVE, REASON_REQUIRED, LineInput, money_problem
from ..models import Invoice, InvoiceLine, LedgerEntry
from .invoices import (
    NOTHING_TO_INVOICE,
    _audit,
    _audit_row,
    _check_not_empty_total,
    _issued_changes,
    _line_from_input,
    _number,
    _stamp_issued,
    _totals_from_lines,
)
from .ledger import _apply_credit_locked, _ledger_entry, _ledger_write, _settle_status

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
        invoice = Invoice(
            practice=practice,
            client=client,
            kind=Invoice.Kind.CREDIT,
            currency=practice.currency,
            bill_to_name=str(client.payer) if client.payer else client.full_name,
            bill_to_email=client.billing_email,
            reason=reason.strip()[:255],
            created_by=actor.user,
        )
        # Built whole in memory, then written once: the invoice row already carrying its
        # totals (and, issued, its number), then its lines, its ledger entry, its audit rows.
        made = [_line_from_input(invoice, line, i, sign=-1) for i, line in enumerate(lines)]
        _totals_from_lines(invoice, made)
        _check_not_empty_total(invoice)
        entries = []
        if issue:
            # The number is taken inside this transaction: a failure below gives it back.
            sequence = locks.take_invoice_number(practice.pk, practice.invoice_start_number)
            _stamp_issued(invoice, sequence, _number(practice, sequence))
            entries.append(
                _ledger_entry(
                    account=account,
                    kind=LedgerEntry.Kind.CREDIT_ISSUED,
                    actor=actor,
                    currency=invoice.currency,
                    credit_delta=-invoice.total,
                    invoice=invoice,
                    memo=invoice.reason,
                )
            )
        invoice.save(force_insert=True)
        InvoiceLine.objects.bulk_create(made)
        _ledger_write(entries, [account])
        rows = [
            # The invoice was a draft at the step this row records, whatever it is now.
            _audit_row(
                invoice,
                actor,
                action="credit_invoice.created",
                changes={"reason": invoice.reason, "total": str(invoice.total)},
                object_repr=f"Draft {invoice.pk}",
            )
        ]
        if issue:
            rows.append(_audit_row(invoice, actor, action="invoice.issued", changes=_issued_changes(invoice)))
        audit_write_many(rows)
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
