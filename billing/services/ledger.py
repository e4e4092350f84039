"""The ledger writer and the small helpers every billing service shares.

``_ledger`` appends one entry, named by its actor, and moves the client's cached sums with
it; the others settle an invoice's status from its balance, apply credit and lock an
invoice that may have been deleted meanwhile. They run inside the caller's transaction,
after its locks (billing.locks).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError

from practice.actor import Actor

from .. import locks
from ..models import ClientAccount, Invoice, LedgerEntry, Payment
from ..money import ZERO

DRAFT_GONE = "This draft was deleted meanwhile."


def _ledger(
    *,
    account: ClientAccount,
    kind: str,
    actor: Actor,
    currency: str,
    balance_delta: Decimal = ZERO,
    credit_delta: Decimal = ZERO,
    invoice: Invoice | None = None,
    payment: Payment | None = None,
    memo: str = "",
) -> LedgerEntry:
    """Append one ledger entry and move the account's cached sums with it."""
    entry = LedgerEntry.objects.create(
        practice_id=account.practice_id,
        client_id=account.client_id,
        kind=kind,
        balance_delta=balance_delta,
        credit_delta=credit_delta,
        currency=currency,
        invoice=invoice,
        payment=payment,
        memo=memo,
        actor_label=actor.label,
    )
    account.balance += balance_delta
    account.credit_balance += credit_delta
    # The check constraints on ClientAccount refuse a negative balance or credit here.
    account.save(update_fields=["balance", "credit_balance"])
    return entry


def _settle_status(invoice: Invoice) -> None:
    """Save ``invoice`` in the status its new balance calls for (Invoice.settle)."""
    invoice.settle()
    invoice.save()


def _apply_credit_locked(invoice: Invoice, account: ClientAccount, amount: Decimal, actor: Actor) -> None:
    if amount <= 0:
        return
    _ledger(
        account=account,
        kind=LedgerEntry.Kind.CREDIT_APPLIED,
        actor=actor,
        currency=invoice.currency,
        balance_delta=-amount,
        credit_delta=-amount,
        invoice=invoice,
    )
    invoice.credit_applied += amount
    invoice.balance -= amount
    invoice.save()


def _lock_invoice(invoice: Invoice) -> Invoice:
    """``invoice`` locked; refused (code "gone") when its row is gone: a draft deleted in
    another tab while this request waited for the lock."""
    locked = locks.lock_invoices([invoice.pk]).get(invoice.pk)
    if locked is None:
        raise ValidationError(DRAFT_GONE, code="gone")
    return locked
