"""Write-offs: close an open invoice for what it still owes, without payment."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from practice.actor import Actor
from practice.audit import audit_write
from practice.models import User

from .. import locks
from ..inputs import REASON_REQUIRED
from ..models import Invoice, LedgerEntry
from .ledger import _ledger


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
        amount = locked.mark_written_off(reason)
        _ledger(
            account=account,
            kind=LedgerEntry.Kind.WRITE_OFF,
            actor=Actor.coerce(actor),
            currency=locked.currency,
            balance_delta=-amount,
            invoice=locked,
            memo=reason[:255],
        )
        locked.save()
        audit_write(
            practice=locked.practice,
            actor=actor,
            action="invoice.written_off",
            obj=locked,
            changes={"amount": str(amount), "reason": locked.write_off_reason},
        )
    return locked
