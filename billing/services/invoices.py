"""Invoices: create (from billing items and free lines), issue with a number from the
locked counter, edit, delete a draft, and void.

Every function here is one transaction that locks in the order of billing.locks, writes
its ledger entries and its audit row, and leaves the stored figures equal to the sums of
their parts. The database constraints on the models are the last word; the checks here
are the friendly messages in front of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum

from clients.models import Client
from practice.actor import Actor
from practice.audit import audit_row, audit_write, audit_write_many
from practice.models import AuditLog, Practice, User

from .. import locks
from ..inputs import REASON_REQUIRED, ItemAdjustment, LineInput, check_figures, invoice_date_problem
from ..models import (
    BillingItem,
    ClientAccount,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    PackagePurchase,
    PackageRefund,
)
from ..money import ZERO, line_amounts
from .ledger import (
    _credit_applied_entry,
    _ledger,
    _ledger_entry,
    _ledger_write,
    _lock_invoice,
    _settle_status,
)

ITEMS_TAKEN = (
    "Some of the chosen items were invoiced a moment ago by someone else, or are no longer "
    "uninvoiced. The list has been refreshed; nothing was created."
)
NOTHING_TO_INVOICE = "Choose at least one item or add a line."
NOT_EDITABLE = "This invoice can no longer be edited. Issue a credit invoice to correct it."
VOID_CREDIT_USED = "The credit from this credit invoice has already been used, so it cannot be voided."
VOID_PACKAGE_USED = (
    "Sessions of this package have already been used or refunded, so its invoice cannot be voided. "
    "Issue a credit invoice instead."
)
CREDIT_ZERO = "A credit invoice of 0.00 credits nothing. Enter what the client is owed."
ZERO_NEEDS_ITEMS = (
    "An invoice of 0.00 needs a billing item on it (a free session on record). Free lines alone cannot add up to 0.00."
)


# --- building invoices --------------------------------------------------------------------


def _line_from_item(invoice: Invoice, item: BillingItem, position: int) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        billing_item=item,
        position=position,
        date=item.date,
        service_id=item.service_id,
        description=item.description,
        units=item.units,
        unit_price=item.unit_price,
        tax_percent=item.tax_percent,
        net=item.net,
        tax=item.tax,
        amount=item.amount,
    )


def _line_from_input(invoice: Invoice, line: LineInput, position: int, *, sign: int = 1) -> InvoiceLine:
    practice = invoice.practice
    check_figures(line.units, line.unit_price, line.tax_percent, practice.currency)
    if not (line.description or "").strip():
        raise ValidationError({"description": "Describe the line."})
    if line.service is not None and line.service.practice_id != practice.pk:
        raise ValidationError({"service": "That service does not belong to this practice."})
    if line.date is not None and (problem := invoice_date_problem(practice, line.date)):
        raise ValidationError({"date": problem})
    figures = line_amounts(
        units=line.units,
        unit_price=line.unit_price,
        tax_percent=line.tax_percent,
        currency=practice.currency,
        prices_include_tax=practice.prices_include_tax,
    )
    return InvoiceLine(
        invoice=invoice,
        position=position,
        date=line.date,
        service=line.service,
        description=line.description.strip()[:200],
        units=line.units,
        unit_price=sign * line.unit_price,
        tax_percent=line.tax_percent,
        net=sign * figures.net,
        tax=sign * figures.tax,
        amount=sign * figures.gross,
    )


def _recompute_totals(invoice: Invoice) -> None:
    sums = InvoiceLine.objects.filter(invoice=invoice).aggregate(net=Sum("net"), tax=Sum("tax"))
    _set_totals(invoice, sums["net"] or ZERO, sums["tax"] or ZERO)


def _set_totals(invoice: Invoice, subtotal: Decimal, tax: Decimal) -> None:
    invoice.subtotal = subtotal
    invoice.tax = tax
    invoice.total = invoice.subtotal + invoice.tax
    if invoice.kind == Invoice.Kind.INVOICE and invoice.status != Invoice.Status.VOID:
        invoice.balance = invoice.total - invoice.credit_applied - invoice.amount_paid


# The scale of the stored amounts: a sum made in memory reads as PostgreSQL's SUM would
# (450.000, not 450.00), so the figures in the audit log do not depend on where it was made.
STORED_SCALE = Decimal("0.001")


def _totals_from_lines(invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    """``_recompute_totals`` for lines still in memory, without asking the database."""
    _set_totals(
        invoice,
        sum((line.net for line in lines), ZERO).quantize(STORED_SCALE),
        sum((line.tax for line in lines), ZERO).quantize(STORED_SCALE),
    )


def _check_not_empty_total(invoice: Invoice, *, has_items: bool | None = None) -> None:
    """Refuse a document that moves no money and records nothing: a credit invoice of 0.00,
    or an invoice of 0.00 made of free lines only. An invoice of 0.00 that carries billing
    items is allowed: it records a free session, and is Paid as soon as it is issued.
    ``has_items`` says whether the invoice carries items when its caller knows (else the
    database is asked)."""
    if invoice.total != 0:
        return
    if invoice.is_credit:
        raise ValidationError(CREDIT_ZERO, code="zero_total")
    if has_items is None:
        has_items = InvoiceLine.objects.filter(invoice=invoice, billing_item__isnull=False).exists()
    if not has_items:
        raise ValidationError(ZERO_NEEDS_ITEMS, code="zero_total")


def _adjust_item(item: BillingItem, adjustment: ItemAdjustment, practice: Practice) -> None:
    check_figures(adjustment.units, adjustment.unit_price, adjustment.tax_percent, practice.currency)
    figures = line_amounts(
        units=adjustment.units,
        unit_price=adjustment.unit_price,
        tax_percent=adjustment.tax_percent,
        currency=practice.currency,
        prices_include_tax=practice.prices_include_tax,
    )
    item.units, item.unit_price, item.tax_percent = adjustment.units, adjustment.unit_price, adjustment.tax_percent
    item.net, item.tax, item.amount = figures.net, figures.tax, figures.gross


def _item_lines(
    *,
    practice: Practice,
    items: list[BillingItem],
    invoice: Invoice,
    start_position: int,
    adjustments: dict[int, ItemAdjustment] | None,
) -> list[InvoiceLine]:
    """The invoice's lines of ``items`` (locked), in date order, with the biller's
    adjustments made on the items too; the items now point at ``invoice`` (not yet saved)."""
    lines = []
    for position, item in enumerate(sorted(items, key=lambda i: (i.date, i.pk)), start=start_position):
        if adjustments and item.pk in adjustments:
            _adjust_item(item, adjustments[item.pk], practice)
        item.invoice = invoice
        lines.append(_line_from_item(invoice, item, position))
    return lines


ITEM_FIELDS = ["invoice", "units", "unit_price", "tax_percent", "net", "tax", "amount", "updated_at"]


def _take_items(
    *,
    practice: Practice,
    client: Client,
    item_ids: list[int],
    invoice: Invoice,
    start_position: int,
    adjustments: dict[int, ItemAdjustment] | None,
) -> list[InvoiceLine]:
    wanted = sorted(set(item_ids))
    items = locks.lock_items(
        BillingItem.objects.filter(practice=practice, client=client, pk__in=wanted, invoice__isnull=True)
    )
    if len(items) != len(wanted):
        raise ValidationError(ITEMS_TAKEN, code="items_taken")
    lines = _item_lines(
        practice=practice, items=items, invoice=invoice, start_position=start_position, adjustments=adjustments
    )
    BillingItem.objects.bulk_update(items, ITEM_FIELDS)
    try:
        with transaction.atomic():
            return InvoiceLine.objects.bulk_create(lines)
    except IntegrityError as exc:
        # The partial unique index: another live invoice holds one of these items.
        raise ValidationError(ITEMS_TAKEN, code="items_taken") from exc


def _is_item_taken(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the partial unique index refusing an item already on another live
    invoice (InvoiceLine's ``line_item_on_one_live_invoice``)."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == "line_item_on_one_live_invoice"


@dataclass
class _NewInvoice:
    """One invoice ``invoice_create`` makes: what was asked for, checked before any lock,
    and built and written by ``_make_invoices`` under the locks."""

    invoice: Invoice
    item_ids: list[int]
    adjustments: dict[int, ItemAdjustment] | None
    lines: list[LineInput]
    issue: bool


class InvoiceBatch:
    """Invoices made together (Invoice all uninvoiced): ``invoice_create(..., batch=b)``
    checks its input and queues the invoice, and ``b.write()`` then makes every queued
    invoice in one transaction, a dozen statements for all of them, numbered in the order
    they were queued. A refusal of any one of them (an item invoiced meanwhile, a
    constraint) refuses the whole batch: nothing of it is written."""

    def __init__(self, *, practice: Practice, actor: Actor | User) -> None:
        self.practice = practice
        self.actor = Actor.coerce(actor)
        self.queued: list[_NewInvoice] = []

    def write(self) -> list[Invoice]:
        if not self.queued:
            return []
        try:
            with transaction.atomic():
                return _make_invoices(practice=self.practice, actor=self.actor, new=self.queued)
        except IntegrityError as exc:
            if _is_item_taken(exc):
                raise ValidationError(ITEMS_TAKEN, code="items_taken") from exc
            raise


def invoice_create(
    *,
    practice: Practice,
    client: Client,
    actor: Actor | User,
    item_ids: list[int] | None = None,
    adjustments: dict[int, ItemAdjustment] | None = None,
    lines: list[LineInput] | None = None,
    apply_credit: bool = False,
    issue: bool = False,
    batch: InvoiceBatch | None = None,
    creation_run_date: date | None = None,
) -> Invoice:
    """Group uninvoiced items (and free lines) onto a new draft, or an open invoice.
    ``actor`` is a person, or the job that invoices in the background. With ``batch`` the
    invoice is only queued: it is written, and gets its id, when the batch is.
    ``creation_run_date`` marks the invoice of the invoice creation run of that local day
    (at most one per client and day, a database constraint)."""
    actor = Actor.coerce(actor)
    if client.practice_id != practice.pk:
        raise ValidationError("That client does not belong to this practice.")
    item_ids = item_ids or []
    lines = lines or []
    if not item_ids and not lines:
        raise ValidationError(NOTHING_TO_INVOICE)
    new = _NewInvoice(
        invoice=Invoice(
            practice=practice,
            client=client,
            apply_credit_on_issue=apply_credit,
            created_by=actor.user,
            creation_run_date=creation_run_date,
        ),
        item_ids=item_ids,
        adjustments=adjustments,
        lines=lines,
        issue=issue,
    )
    if batch is not None:
        if batch.practice.pk != practice.pk:
            raise ValueError("A batch makes the invoices of one practice.")
        batch.queued.append(new)
        return new.invoice
    try:
        with transaction.atomic():
            (invoice,) = _make_invoices(practice=practice, actor=actor, new=[new])
    except IntegrityError as exc:
        # The partial unique index on the lines: another live invoice holds one of these
        # items (nothing was written: the transaction rolled back as a whole).
        if _is_item_taken(exc):
            raise ValidationError(ITEMS_TAKEN, code="items_taken") from exc
        raise
    return invoice


def _make_invoices(*, practice: Practice, actor: Actor, new: list[_NewInvoice]) -> list[Invoice]:
    """Build, number and write the invoices of ``new``, inside the caller's transaction.

    The locks are taken in the order of billing.locks (practice, the clients' accounts,
    the items, then the invoice counter), and everything is written set-based: one INSERT
    of the invoices already carrying their figures and numbers, one UPDATE linking the
    items, one INSERT each for the lines, the ledger entries and the audit rows, and one
    UPDATE of the accounts' sums. Raises ITEMS_TAKEN when an item is no longer uninvoiced.
    """
    practice = locks.lock_practice(practice)
    accounts = locks.lock_clients([n.invoice.client for n in new])
    items = _lock_wanted_items(practice, new)
    all_lines: list[InvoiceLine] = []
    all_items: list[BillingItem] = []
    for n in new:
        invoice = n.invoice
        client = invoice.client
        payer = accounts[client.pk].client.payer
        invoice.practice = practice
        invoice.currency = practice.currency
        invoice.bill_to_name = str(payer) if payer else client.full_name
        invoice.bill_to_email = payer.email if payer else client.email
        taken = [items.pop(pk) for pk in sorted(set(n.item_ids)) if pk in items]
        if len(taken) != len(set(n.item_ids)):  # the same item asked for twice in a batch
            raise ValidationError(ITEMS_TAKEN, code="items_taken")
        made = _item_lines(practice=practice, items=taken, invoice=invoice, start_position=0, adjustments=n.adjustments)
        made += [_line_from_input(invoice, line, len(made) + i) for i, line in enumerate(n.lines)]
        _totals_from_lines(invoice, made)
        _check_not_empty_total(invoice, has_items=bool(taken))
        all_lines += made
        all_items += taken
    entries: list[LedgerEntry] = []
    issued = [n.invoice for n in new if n.issue]
    if issued:
        # The numbers are taken here, inside the issuing transaction, once for all the
        # invoices: if anything below fails, the counter rolls back with it and no number
        # is skipped.
        first = locks.take_invoice_numbers(practice.pk, practice.invoice_start_number, len(issued))
        for sequence, invoice in enumerate(issued, start=first):
            entries += _issue_new(invoice, accounts[invoice.client_id], actor, sequence)
    Invoice.objects.bulk_create([n.invoice for n in new])
    _link_items(all_items, adjusted=any(n.adjustments for n in new))
    InvoiceLine.objects.bulk_create(all_lines)
    _ledger_write(entries, list(accounts.values()))
    rows = []
    for n in new:
        invoice = n.invoice
        # The invoice was a draft at the step this row records, whatever it is now.
        rows.append(
            _audit_row(
                invoice,
                actor,
                action="invoice.created",
                changes={"items": len(n.item_ids), "lines": len(n.lines)},
                object_repr=f"Draft {invoice.pk}",
            )
        )
        if n.issue:
            rows.append(_audit_row(invoice, actor, action="invoice.issued", changes=_issued_changes(invoice)))
    audit_write_many(rows)
    return [n.invoice for n in new]


def _lock_wanted_items(practice: Practice, new: list[_NewInvoice]) -> dict[int, BillingItem]:
    """The uninvoiced items ``new`` asks for, locked, by id; ITEMS_TAKEN unless every one
    of them is still uninvoiced and its invoice's client's."""
    wanted = {pk: n.invoice.client_id for n in new for pk in n.item_ids}
    if not wanted:
        return {}
    items = locks.lock_items(
        BillingItem.objects.filter(
            practice=practice,
            client_id__in={n.invoice.client_id for n in new},
            pk__in=sorted(wanted),
            invoice__isnull=True,
        )
    )
    found = {item.pk: item for item in items if wanted[item.pk] == item.client_id}
    if len(found) != len(wanted):
        raise ValidationError(ITEMS_TAKEN, code="items_taken")
    return found


def _link_items(items: list[BillingItem], *, adjusted: bool) -> None:
    """Save on the items the invoice ``_item_lines`` put them on (and, when the biller
    adjusted them, their figures), in one statement."""
    if not items:
        return
    if adjusted:
        BillingItem.objects.bulk_update(items, ITEM_FIELDS)
        return
    by_invoice: dict[int, list[int]] = {}
    for item in items:
        assert item.invoice is not None
        by_invoice.setdefault(item.invoice.pk, []).append(item.pk)
    if len(by_invoice) == 1:
        ((invoice_id, ids),) = by_invoice.items()
        BillingItem.objects.filter(pk__in=ids).update(invoice_id=invoice_id)
        return
    # Many invoices at once (Invoice all): each item to its own invoice, in one statement.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {BillingItem._meta.db_table} AS item SET invoice_id = link.invoice_id
            FROM unnest(%s::bigint[], %s::bigint[]) AS link(id, invoice_id)
            WHERE item.id = link.id
            """,  # noqa: S608 - the table name is our own model's, the values are parameters
            [[item.pk for item in items], [item.invoice.pk for item in items]],  # type: ignore[union-attr]
        )


def _issue_new(invoice: Invoice, account: ClientAccount, actor: Actor, sequence: int) -> list[LedgerEntry]:
    """Issue, in memory, an invoice ``_make_invoices`` is about to insert: its number, dates,
    the client's credit when asked, and the status its balance calls for; the ledger
    entries ``_issue_locked`` would write, not yet saved."""
    _stamp_issued(invoice, sequence, _number(invoice.practice, sequence))
    entries = [
        _ledger_entry(
            account=account,
            kind=LedgerEntry.Kind.INVOICE_ISSUED,
            actor=actor,
            currency=invoice.currency,
            balance_delta=invoice.total,
            invoice=invoice,
        )
    ]
    if invoice.apply_credit_on_issue and account.credit_balance > 0:
        amount = min(account.credit_balance, invoice.balance)
        if amount > 0:
            entries.append(_credit_applied_entry(invoice, account, amount, actor))
    invoice.settle()
    return entries


def _audit(invoice: Invoice, actor: Actor, action: str, changes: dict) -> None:
    audit_write(
        practice=invoice.practice,
        actor=actor,
        action=action,
        obj=invoice,
        changes=changes,
    )


def _audit_row(
    invoice: Invoice, actor: Actor, *, action: str, changes: dict, object_repr: str | None = None
) -> AuditLog:
    return audit_row(
        practice=invoice.practice, actor=actor, action=action, obj=invoice, changes=changes, object_repr=object_repr
    )


def _issued_changes(invoice: Invoice) -> dict[str, str | None]:
    return {"number": invoice.number, "total": str(invoice.total)}


def _number(practice: Practice, sequence: int) -> str:
    return f"{practice.invoice_prefix}{sequence:06d}"


def _stamp_issued(invoice: Invoice, sequence: int, number: str) -> None:
    """Number and date ``invoice`` as issued today in its practice, due after the practice's
    payment terms; a credit invoice is owed to the client, not by them, and has no due date."""
    practice = invoice.practice
    today = practice.local_today()
    invoice.mark_issued(
        sequence=sequence,
        number=number,
        issue_date=today,
        due_date=None if invoice.is_credit else today + timedelta(days=practice.payment_terms_days),
    )


def _issue_locked(invoice: Invoice, account: ClientAccount, actor: Actor) -> None:
    """Issue a locked draft: its lines read once (whether there are any, whether they carry
    items, their sums), then the invoice saved once with its number, totals and status,
    and its ledger entries written together."""
    if refusal := invoice.issue_refusal():
        raise ValidationError(refusal)
    sums = InvoiceLine.objects.filter(invoice=invoice).aggregate(
        lines=Count("pk"), items=Count("billing_item"), net=Sum("net"), tax=Sum("tax")
    )
    if not sums["lines"]:
        raise ValidationError(NOTHING_TO_INVOICE)
    _set_totals(invoice, sums["net"] or ZERO, sums["tax"] or ZERO)
    _check_not_empty_total(invoice, has_items=bool(sums["items"]))
    practice = invoice.practice
    # The number is taken here, inside the issuing transaction: if anything below fails,
    # the counter rolls back with it and no number is skipped.
    sequence = locks.take_invoice_number(practice.pk, practice.invoice_start_number)
    if invoice.is_credit:
        _stamp_issued(invoice, sequence, _number(practice, sequence))
        entries = [
            _ledger_entry(
                account=account,
                kind=LedgerEntry.Kind.CREDIT_ISSUED,
                actor=actor,
                currency=invoice.currency,
                credit_delta=-invoice.total,
                invoice=invoice,
                memo=invoice.reason,
            )
        ]
    else:
        # Stamped, credit applied when asked, and settled in memory, as for a new invoice.
        entries = _issue_new(invoice, account, actor, sequence)
    invoice.save()
    _ledger_write(entries, [account])
    _audit(invoice, actor, "invoice.issued", _issued_changes(invoice))


def invoice_issue(*, invoice: Invoice, actor: Actor | User) -> Invoice:
    actor = Actor.coerce(actor)
    with transaction.atomic():
        account = locks.lock_client(invoice.client)
        locked = _lock_invoice(invoice)
        _issue_locked(locked, account, actor)
    return locked


def invoice_update(
    *,
    invoice: Invoice,
    actor: Actor | User,
    line_changes: dict[int, ItemAdjustment] | None = None,
    remove_line_ids: list[int] | None = None,
    add_item_ids: list[int] | None = None,
    add_lines: list[LineInput] | None = None,
) -> Invoice:
    """Edit a draft freely, or an open invoice with no payment (audited, with the change
    to its total written to the ledger)."""
    actor = Actor.coerce(actor)
    with transaction.atomic():
        account = locks.lock_client(invoice.client)
        locked = _lock_invoice(invoice)
        if not locked.can_edit():
            raise ValidationError(NOT_EDITABLE)
        practice = locked.practice
        before_total = locked.total
        changes: dict[str, object] = {}
        remove_ids = set(remove_line_ids or [])
        lines = {line.pk: line for line in InvoiceLine.objects.select_for_update().filter(invoice=locked)}
        removed: list[dict[str, object]] = []
        for line_id in sorted(remove_ids):
            line = lines.pop(line_id, None)
            if line is None:
                continue
            if line.billing_item_id:
                BillingItem.objects.filter(pk=line.billing_item_id).update(invoice=None)
            removed.append({"line": line.pk, "description": line.description, "amount": _plain(line.amount)})
            line.delete()
        changed: list[dict[str, object]] = []
        for line_id, adjustment in (line_changes or {}).items():
            line = lines.get(line_id)
            if line is None:
                continue
            sign = -1 if locked.is_credit else 1
            # Prices are entered positive, also on a credit invoice (the sign is the kind's):
            # a negative one is bad input, not a credit line in disguise.
            fresh = _line_from_input(
                locked,
                LineInput(
                    description=line.description,
                    unit_price=adjustment.unit_price,
                    units=adjustment.units,
                    tax_percent=adjustment.tax_percent,
                ),
                line.position,
                sign=sign,
            )
            fields: dict[str, object] = {}
            for name in ("units", "unit_price", "tax_percent", "net", "tax", "amount"):
                old_value, new_value = getattr(line, name), getattr(fresh, name)
                if old_value != new_value:
                    fields[name] = [_plain(old_value), _plain(new_value)]
                setattr(line, name, new_value)
            if fields:
                changed.append({"line": line.pk, "description": line.description, **fields})
            line.save()
            if line.billing_item_id:
                # The item is what the invoice says it is: keep them equal.
                BillingItem.objects.filter(pk=line.billing_item_id).update(
                    units=line.units,
                    unit_price=line.unit_price,
                    tax_percent=line.tax_percent,
                    net=line.net,
                    tax=line.tax,
                    amount=line.amount,
                )
        position = max([line.position for line in lines.values()], default=-1) + 1
        first_new_position = position
        if add_item_ids:
            made = _take_items(
                practice=practice,
                client=locked.client,
                item_ids=add_item_ids,
                invoice=locked,
                start_position=position,
                adjustments=None,
            )
            position += len(made)
        if add_lines:
            sign = -1 if locked.is_credit else 1
            InvoiceLine.objects.bulk_create(
                [_line_from_input(locked, line, position + i, sign=sign) for i, line in enumerate(add_lines)]
            )
        if not InvoiceLine.objects.filter(invoice=locked).exists():
            raise ValidationError(NOTHING_TO_INVOICE)
        _recompute_totals(locked)
        _check_not_empty_total(locked)
        if locked.kind == Invoice.Kind.INVOICE and locked.balance < 0:
            raise ValidationError("The new total is less than the credit already applied to this invoice.")
        locked.save()
        delta = locked.total - before_total
        if locked.status == Invoice.Status.OPEN and delta:
            if locked.is_credit:
                if account.credit_balance + (-delta) < 0:
                    raise ValidationError(VOID_CREDIT_USED)
                _ledger(
                    account=account,
                    kind=LedgerEntry.Kind.INVOICE_ADJUSTED,
                    actor=actor,
                    currency=locked.currency,
                    credit_delta=-delta,
                    invoice=locked,
                )
            else:
                _ledger(
                    account=account,
                    kind=LedgerEntry.Kind.INVOICE_ADJUSTED,
                    actor=actor,
                    currency=locked.currency,
                    balance_delta=delta,
                    invoice=locked,
                )
            _settle_status(locked)
        added = [
            {"line": line.pk, "description": line.description, "amount": _plain(line.amount)}
            for line in InvoiceLine.objects.filter(invoice=locked, position__gte=first_new_position).order_by(
                "position"
            )
        ]
        # What changed, line by line, so the audit log answers "who changed what on INV-…".
        changes["lines_changed"] = changed
        changes["lines_removed"] = removed
        changes["lines_added"] = added
        changes["total"] = [str(before_total), str(locked.total)]
        # Saving the form as it was changes nothing and says nothing in the audit log.
        if changed or removed or added:
            _audit(locked, actor, "invoice.edited", changes)
    return locked


def _plain(value: Decimal) -> str:
    """A figure for the audit log without its storage zeros: 100.000 -> "100", 1.50 -> "1.5"."""
    return format(value.normalize(), "f")


def invoice_delete_draft(*, invoice: Invoice, actor: Actor | User) -> None:
    with transaction.atomic():
        locks.lock_client(invoice.client)
        locked = _lock_invoice(invoice)
        if refusal := locked.delete_draft_refusal():
            raise ValidationError(refusal)
        BillingItem.objects.filter(invoice=locked).update(invoice=None)
        audit_write(
            practice=locked.practice,
            actor=actor,
            action="invoice.draft_deleted",
            obj=locked,
            # The client, so a page still showing the draft can send the biller to them.
            changes={"total": str(locked.total), "client": locked.client_id},
        )
        PackagePurchase.objects.filter(invoice=locked).delete()
        InvoiceLine.objects.filter(invoice=locked).delete()
        locked.delete()


def invoice_void(*, invoice: Invoice, actor: Actor | User, reason: str) -> Invoice:
    """Void an open invoice with no payment: its items return to uninvoiced and its
    ledger entries are reversed (credit applied to it goes back to the client)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": REASON_REQUIRED})
    actor = Actor.coerce(actor)
    with transaction.atomic():
        account = locks.lock_client(invoice.client)
        locked = locks.lock_invoices([invoice.pk])[invoice.pk]
        if refusal := locked.void_refusal():
            raise ValidationError(refusal)
        # A package's invoice pays for sessions: once one has been drawn or refunded,
        # voiding it would give those back for nothing (the purchase is locked after its
        # invoice, the order of billing.locks, so a draw cannot slip in meanwhile).
        purchases = locks.lock_purchases(PackagePurchase.objects.filter(invoice=locked))
        if any(p.sessions_used > 0 or p.sessions_refunded > 0 for p in purchases):
            raise ValidationError(VOID_PACKAGE_USED, code="package_used")
        sessions_back = 0
        if locked.is_credit:
            if account.credit_balance < -locked.total:
                raise ValidationError(VOID_CREDIT_USED)
            sessions_back = _undo_package_refund(locked)
            _ledger(
                account=account,
                kind=LedgerEntry.Kind.INVOICE_VOIDED,
                actor=actor,
                currency=locked.currency,
                credit_delta=locked.total,
                invoice=locked,
                memo=reason,
            )
        else:
            if locked.written_off:
                # Voiding undoes the write-off too: the ledger gets it back before the void
                # takes the whole total off, so the client's balance drops by what was owed.
                _ledger(
                    account=account,
                    kind=LedgerEntry.Kind.WRITE_OFF,
                    actor=actor,
                    currency=locked.currency,
                    balance_delta=locked.written_off,
                    invoice=locked,
                    memo="Write-off reversed: invoice voided",
                )
            if locked.credit_applied:
                _ledger(
                    account=account,
                    kind=LedgerEntry.Kind.CREDIT_RETURNED,
                    actor=actor,
                    currency=locked.currency,
                    balance_delta=locked.credit_applied,
                    credit_delta=locked.credit_applied,
                    invoice=locked,
                )
            _ledger(
                account=account,
                kind=LedgerEntry.Kind.INVOICE_VOIDED,
                actor=actor,
                currency=locked.currency,
                balance_delta=-locked.total,
                invoice=locked,
                memo=reason,
            )
        InvoiceLine.objects.filter(invoice=locked).update(active=False)
        BillingItem.objects.filter(invoice=locked).update(invoice=None)
        locked.mark_void(reason)
        locked.save()
        changes: dict[str, object] = {"reason": locked.void_reason, "total": str(locked.total)}
        if sessions_back:
            changes["package_sessions_returned"] = sessions_back
        audit_write(practice=locked.practice, actor=actor, action="invoice.voided", obj=locked, changes=changes)
    return locked


def _undo_package_refund(credit: Invoice) -> int:
    """Voiding a package refund's credit invoice undoes the refund: its sessions go back on
    the package as its credit leaves the account (the caller has checked the credit is
    unused). Else the client would lose both the credit and the sessions. The purchase is
    locked after the credit invoice, the order of billing.locks."""
    refund = PackageRefund.objects.filter(credit_invoice=credit).first()
    if refund is None:
        return 0
    (purchase,) = locks.lock_purchases(PackagePurchase.objects.filter(pk=refund.purchase_id))
    purchase.sessions_refunded -= refund.sessions
    purchase.save(update_fields=["sessions_refunded"])
    return refund.sessions
