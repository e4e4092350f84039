"""Write-offs: close an open invoice for what it still owes, without payment."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from practice.actor import Actor
from practice.audit import audit_write
from practice.models import User

from .. import locks
from ..inputs import REASON_REQUIRED
from ..models import Invoice, LedgerEntry
from ..money import ZERO
from .ledger import _ledger, _settle_status

WRITE_OFF_NOT_OPEN = "Only an open invoice with a balance can be written off."


def invoice_write_off(
    *, invoice: Invoice, actor: Actor | User, reason: str, submission_key: str | None = None
) -> Invoice:
    """ "Write off": close an open invoice for what it still owes, without payment. A
    ``write_off`` ledger entry takes the amount off the client's balance; the invoice keeps
    it in ``written_off`` (reports count it) and is paid with a balance of 0.
    ``submission_key`` is accepted for the one-time submission keys and not used yet."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    with transaction.atomic():
        account = locks.lock_client(invoice.client)
        locked = locks.lock_invoices([invoice.pk])[invoice.pk]
        if not locked.can_write_off():
            raise ValidationError(WRITE_OFF_NOT_OPEN)
        amount = locked.balance
        _ledger(
            account=account,
            kind=LedgerEntry.Kind.WRITE_OFF,
            actor=Actor.coerce(actor),
            currency=locked.currency,
            balance_delta=-amount,
            invoice=locked,
            memo=reason[:255],
        )
        locked.written_off += amount
        locked.balance = ZERO
        locked.write_off_reason = reason[:255]
        locked.written_off_at = timezone.now()
        _settle_status(locked)
        audit_write(
            practice=locked.practice,
            actor=actor,
            action="invoice.written_off",
            obj=locked,
            changes={"amount": str(amount), "reason": locked.write_off_reason},
        )
    return locked
