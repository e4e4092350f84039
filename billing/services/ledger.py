"""The ledger writer and the small helpers every billing service shares.

``_ledger`` appends one entry, named by its actor, and moves the client's cached sums with
it; the others settle an invoice's status from its balance, apply credit and lock an
invoice that may have been deleted meanwhile. They run inside the caller's transaction,
after its locks (billing.locks).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection

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
    entry = _ledger_entry(
        account=account,
        kind=kind,
        actor=actor,
        currency=currency,
        balance_delta=balance_delta,
        credit_delta=credit_delta,
        invoice=invoice,
        payment=payment,
        memo=memo,
    )
    entry.save(force_insert=True)
    # The check constraints on ClientAccount refuse a negative balance or credit here.
    account.save(update_fields=["balance", "credit_balance"])
    return entry


def _ledger_entry(
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
    """The entry ``_ledger`` appends, not yet saved, with the account's cached sums moved in
    memory only: ``_ledger_write`` saves both."""
    account.balance += balance_delta
    account.credit_balance += credit_delta
    return LedgerEntry(
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


def _ledger_write(entries: list[LedgerEntry], accounts: list[ClientAccount]) -> None:
    """Append the entries of ``_ledger_entry`` in one statement, in their order, and save
    the sums they moved on ``accounts`` in one more."""
    if not entries:
        return
    LedgerEntry.objects.bulk_create(entries)
    moved = {entry.client_id for entry in entries}
    accounts = [account for account in accounts if account.client_id in moved]
    if len(accounts) == 1:
        accounts[0].save(update_fields=["balance", "credit_balance"])
        return
    # The check constraints on ClientAccount refuse a negative balance or credit here too.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {ClientAccount._meta.db_table} AS account
            SET balance = moved.balance, credit_balance = moved.credit_balance
            FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[]) AS moved(id, balance, credit_balance)
            WHERE account.id = moved.id
            """,  # noqa: S608 - the table name is our own model's, the values are parameters
            [
                [account.pk for account in accounts],
                [account.balance for account in accounts],
                [account.credit_balance for account in accounts],
            ],
        )


def _settle_status(invoice: Invoice) -> None:
    """Save ``invoice`` in the status its new balance calls for (Invoice.settle)."""
    invoice.settle()
    invoice.save()


def _credit_applied_entry(invoice: Invoice, account: ClientAccount, amount: Decimal, actor: Actor) -> LedgerEntry:
    """Apply ``amount`` of the client's credit to ``invoice`` in memory: the
    ``credit_applied`` entry (not yet saved, the account's sums moved with it) and the
    invoice's figures. The callers save them, one by one or in a batch."""
    entry = _ledger_entry(
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
    return entry


def _apply_credit_locked(invoice: Invoice, account: ClientAccount, amount: Decimal, actor: Actor) -> None:
    if amount <= 0:
        return
    entry = _credit_applied_entry(invoice, account, amount, actor)
    entry.save(force_insert=True)
    # The check constraints on ClientAccount refuse a negative balance or credit here.
    account.save(update_fields=["balance", "credit_balance"])
    invoice.save()


def _lock_invoice(invoice: Invoice) -> Invoice:
    """``invoice`` locked; refused (code "gone") when its row is gone: a draft deleted in
    another tab while this request waited for the lock."""
    locked = locks.lock_invoices([invoice.pk]).get(invoice.pk)
    if locked is None:
        raise ValidationError(DRAFT_GONE, code="gone")
    return locked
