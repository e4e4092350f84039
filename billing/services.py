"""Invoices, credit, payments recorded by hand, packages and the ledger.

Every function here is one transaction that locks in the order of billing.locks, writes
its ledger entries and its audit row, and leaves the stored figures equal to the sums of
their parts. The database constraints on the models are the last word; the checks here
are the friendly messages in front of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from appointments.models import Service
from clients.models import Client
from practice.audit import audit_write
from practice.dates import record_date_problem
from practice.models import Practice, User
from practice.numbers import DEFAULT_LOCALE, NumberError, parse_number

from . import locks
from .models import (
    BillingItem,
    ClientAccount,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Package,
    PackagePurchase,
    PackageRefund,
    Payment,
    PaymentAllocation,
)
from .money import STORED_PLACES, ZERO, line_amounts, minor_units, quantize, to_decimal
from .selectors import open_invoices_oldest_first, uninvoiced_by_client

ITEMS_TAKEN = (
    "Some of the chosen items were invoiced a moment ago by someone else, or are no longer "
    "uninvoiced. The list has been refreshed; nothing was created."
)
NOTHING_TO_INVOICE = "Choose at least one item or add a line."
NOT_DRAFT = "Only a draft invoice can be issued."
NOT_EDITABLE = "This invoice can no longer be edited. Issue a credit invoice to correct it."
VOID_PAID = (
    "A paid or partly paid invoice cannot be voided. Open the payment and use Record refund to "
    "give the money back (the invoice then owes it again and can be voided), or issue a credit "
    "invoice for the part you want to take back."
)
VOID_NOT_OPEN = "Only an open invoice can be voided."
VOID_CREDIT_USED = "The credit from this credit invoice has already been used, so it cannot be voided."
REASON_REQUIRED = "Give a reason."
NO_CREDIT = "This client has no credit balance to apply."
CREDIT_TOO_MUCH = "You cannot apply more credit than the client has or the invoice owes."
AMOUNT_POSITIVE = "Enter an amount greater than zero."
ALLOCATION_TOO_MUCH = "An allocation is more than that invoice's balance."
ALLOCATIONS_EXCEED = "The allocations add up to more than the payment."
OVERPAYMENT_QUESTION = "This payment is more than the invoices owe. Keep the difference as credit for the client?"
TAKES_NO_PAYMENTS = "{number} is {status}: it takes no payments."
PAYMENT_ALREADY_REVERSED = "This payment was already deleted."
PAYMENT_CREDIT_USED = "The credit this payment created has been used, so the payment cannot be deleted."
PAYMENT_HAS_REFUNDS = (
    "Money from this payment has been refunded, so it cannot be deleted: the refund is a fact the "
    "deletion would erase. Record a refund for the rest instead."
)
DRAFT_ONLY_DELETE = "Only a draft can be deleted; void an open invoice instead."
PACKAGE_REFUND_TOO_MANY = "You cannot refund more sessions than are left."
PACKAGE_REFUND_NOT_PAID = (
    "Unused sessions can be refunded only once the package's invoice is paid in full. "
    "While it is unpaid, void the invoice instead."
)
VOID_PACKAGE_USED = (
    "Sessions of this package have already been used or refunded, so its invoice cannot be voided. "
    "Issue a credit invoice instead."
)
CREDIT_ZERO = "A credit invoice of 0.00 credits nothing. Enter what the client is owed."
ZERO_NEEDS_ITEMS = (
    "An invoice of 0.00 needs a billing item on it (a free session on record). Free lines alone cannot add up to 0.00."
)
WRONG_CURRENCY = "This amount is not in the practice's currency."
ENTER_AMOUNT = "Enter an amount such as 120.00."
AMOUNT_TOO_LARGE = "Enter an amount less than 1,000,000,000."
AMOUNT_TOO_FINE = "Use at most {places} decimal places for {currency}."
PRICE_NEGATIVE = "The price cannot be negative."
PRICE_TOO_FINE = "A price can have at most 3 decimal places."
UNITS_POSITIVE = "Units must be more than 0."
UNITS_TOO_LARGE = "Units must be less than 1,000,000."
UNITS_TOO_FINE = "Units can have at most 2 decimal places."
TAX_RANGE = "Tax must be between 0 and 100 percent."
TAX_TOO_FINE = "Tax can have at most 4 decimal places."
LINE_TOO_LARGE = "Units x price comes to 1,000,000,000 or more, more than one line can hold. Split it."

# What the columns hold (billing.models): amounts and prices NUMERIC(12..14, 3), units
# NUMERIC(8, 2), tax NUMERIC(7, 4). Inputs past these are refused with a field error.
MAX_AMOUNT = Decimal(10) ** 9
MAX_UNITS = Decimal(10) ** 6
UNITS_PLACES = 2
TAX_PLACES = 4


@dataclass
class LineInput:
    """A free line typed on an invoice (or a credit invoice: enter positive amounts)."""

    description: str
    unit_price: Decimal
    units: Decimal = Decimal("1")
    tax_percent: Decimal = Decimal("0")
    date: date | None = None
    service: Service | None = None


@dataclass
class ItemAdjustment:
    units: Decimal
    unit_price: Decimal
    tax_percent: Decimal


@dataclass
class PaymentResult:
    payment: Payment
    allocations: list[PaymentAllocation] = field(default_factory=list)
    # False when payment_record_settled found the payment already recorded (same external id).
    created: bool = True


def parse_amount(raw: object, field_name: str = "amount", *, locale: str | None = DEFAULT_LOCALE) -> Decimal:
    """A Decimal from user input read in the practice's ``locale`` (practice.numbers.parse_number:
    "1,200.50" in en_US, "1.200,50" in de_DE), or a ValidationError naming the field.

    A misplaced group separator ("1,00", "1,5" in en_US), digits other than ASCII,
    exponent notation ("1e15"), infinities and NaN are refused, never guessed at."""
    try:
        return parse_number("" if raw is None else raw, locale)
    except NumberError:
        raise ValidationError({field_name: ENTER_AMOUNT}) from None


def _has_places(value: Decimal, places: int) -> bool:
    """``value`` needs no more than ``places`` decimals (call once its size is checked:
    quantizing a huge number raises)."""
    return value == value.quantize(Decimal(1).scaleb(-places))


def money_problem(value: Decimal, currency: str) -> str | None:
    """Why ``value`` cannot be an amount of ``currency`` (None when it can): the columns
    hold less than 10**9, to the currency's minor unit."""
    value = to_decimal(value)
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        return AMOUNT_TOO_LARGE
    places = min(minor_units(currency), STORED_PLACES)
    if not _has_places(value, places):
        return AMOUNT_TOO_FINE.format(currency=currency.upper(), places=places)
    return None


def price_problem(value: Decimal) -> str | None:
    """A unit price may be finer than the currency (33.335 x 3 is rounded as a line) but
    not than its column: at most 3 decimals, less than 10**9."""
    value = to_decimal(value)
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        return AMOUNT_TOO_LARGE
    if not _has_places(value, STORED_PLACES):
        return PRICE_TOO_FINE
    return None


def units_problem(value: Decimal) -> str | None:
    """Units are more than 0, less than 10**6, with at most 2 decimals (the column's)."""
    value = to_decimal(value)
    if not value.is_finite() or value <= 0:
        return UNITS_POSITIVE
    if value >= MAX_UNITS:
        return UNITS_TOO_LARGE
    if not _has_places(value, UNITS_PLACES):
        return UNITS_TOO_FINE
    return None


def tax_problem(value: Decimal) -> str | None:
    """A tax rate is 0 to 100 percent with at most 4 decimals (the column's)."""
    value = to_decimal(value)
    if not value.is_finite() or not (0 <= value <= 100):
        return TAX_RANGE
    if not _has_places(value, TAX_PLACES):
        return TAX_TOO_FINE
    return None


def _check_figures(
    units: Decimal | None, unit_price: Decimal | None, tax_percent: Decimal | None, currency: str
) -> None:
    """Field errors for units, price and tax that the columns could not hold exactly:
    refused, never rounded, so a stored line always equals what its figures were made of."""
    errors: dict[str, str] = {}
    if units is None:
        errors["units"] = UNITS_POSITIVE
    elif problem := units_problem(units):
        errors["units"] = problem
    if unit_price is None or unit_price < 0:
        errors["unit_price"] = PRICE_NEGATIVE
    elif problem := price_problem(unit_price):
        errors["unit_price"] = problem
    if tax_percent is None:
        errors["tax_percent"] = TAX_RANGE
    elif problem := tax_problem(tax_percent):
        errors["tax_percent"] = problem
    figures = (units, unit_price, tax_percent)
    if not errors and (problem := line_problem(*figures)):  # type: ignore[arg-type]  # each was checked above
        errors["unit_price"] = problem
    if errors:
        raise ValidationError(errors)


def line_problem(units: Decimal, unit_price: Decimal, tax_percent: Decimal) -> str | None:
    """Why a line of valid units, price and tax cannot be stored (None when it can): its
    amount, tax included, must stay below 10**9 like every amount (the columns hold 10**11,
    and an invoice's totals are sums of up to 50 such lines)."""
    gross = abs(to_decimal(units) * to_decimal(unit_price)) * (1 + to_decimal(tax_percent) / 100)
    return LINE_TOO_LARGE if gross >= MAX_AMOUNT else None


# --- ledger -----------------------------------------------------------------------------


def _ledger(
    *,
    account: ClientAccount,
    kind: str,
    actor_label: str,
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
        actor_label=actor_label,
    )
    account.balance += balance_delta
    account.credit_balance += credit_delta
    # The check constraints on ClientAccount refuse a negative balance or credit here.
    account.save(update_fields=["balance", "credit_balance"])
    return entry


def _label(actor: User | None, system: str | None = None) -> str:
    return actor.email if actor is not None else f"system:{system}"


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
    _check_figures(line.units, line.unit_price, line.tax_percent, practice.currency)
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
    invoice.subtotal = sums["net"] or ZERO
    invoice.tax = sums["tax"] or ZERO
    invoice.total = invoice.subtotal + invoice.tax
    if invoice.kind == Invoice.Kind.INVOICE and invoice.status != Invoice.Status.VOID:
        invoice.balance = invoice.total - invoice.credit_applied - invoice.amount_paid


def _check_not_empty_total(invoice: Invoice) -> None:
    """Refuse a document that moves no money and records nothing: a credit invoice of 0.00,
    or an invoice of 0.00 made of free lines only. An invoice of 0.00 that carries billing
    items is allowed: it records a free session, and is Paid as soon as it is issued."""
    if invoice.total != 0:
        return
    if invoice.is_credit:
        raise ValidationError(CREDIT_ZERO, code="zero_total")
    if not InvoiceLine.objects.filter(invoice=invoice, billing_item__isnull=False).exists():
        raise ValidationError(ZERO_NEEDS_ITEMS, code="zero_total")


def _adjust_item(item: BillingItem, adjustment: ItemAdjustment, practice: Practice) -> None:
    _check_figures(adjustment.units, adjustment.unit_price, adjustment.tax_percent, practice.currency)
    figures = line_amounts(
        units=adjustment.units,
        unit_price=adjustment.unit_price,
        tax_percent=adjustment.tax_percent,
        currency=practice.currency,
        prices_include_tax=practice.prices_include_tax,
    )
    item.units, item.unit_price, item.tax_percent = adjustment.units, adjustment.unit_price, adjustment.tax_percent
    item.net, item.tax, item.amount = figures.net, figures.tax, figures.gross


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
    lines = []
    for position, item in enumerate(sorted(items, key=lambda i: (i.date, i.pk)), start=start_position):
        if adjustments and item.pk in adjustments:
            _adjust_item(item, adjustments[item.pk], practice)
        item.invoice = invoice
        lines.append(_line_from_item(invoice, item, position))
    BillingItem.objects.bulk_update(
        items, ["invoice", "units", "unit_price", "tax_percent", "net", "tax", "amount", "updated_at"]
    )
    try:
        with transaction.atomic():
            return InvoiceLine.objects.bulk_create(lines)
    except IntegrityError as exc:
        # The partial unique index: another live invoice holds one of these items.
        raise ValidationError(ITEMS_TAKEN, code="items_taken") from exc


def invoice_create(
    *,
    practice: Practice,
    client: Client,
    actor: User | None,
    item_ids: list[int] | None = None,
    adjustments: dict[int, ItemAdjustment] | None = None,
    lines: list[LineInput] | None = None,
    apply_credit: bool = False,
    issue: bool = False,
    system: str | None = None,
) -> Invoice:
    """Group uninvoiced items (and free lines) onto a new draft, or an open invoice."""
    if client.practice_id != practice.pk:
        raise ValidationError("That client does not belong to this practice.")
    item_ids = item_ids or []
    lines = lines or []
    if not item_ids and not lines:
        raise ValidationError(NOTHING_TO_INVOICE)
    with transaction.atomic():
        practice = locks.lock_practice(practice)
        account = locks.lock_client(client)
        payer = client.payer
        invoice = Invoice.objects.create(
            practice=practice,
            client=client,
            currency=practice.currency,
            bill_to_name=str(payer) if payer else client.full_name,
            bill_to_email=payer.email if payer else client.email,
            apply_credit_on_issue=apply_credit,
            created_by=actor,
        )
        made = _take_items(
            practice=practice,
            client=client,
            item_ids=item_ids,
            invoice=invoice,
            start_position=0,
            adjustments=adjustments,
        )
        InvoiceLine.objects.bulk_create(
            [_line_from_input(invoice, line, len(made) + i) for i, line in enumerate(lines)]
        )
        _recompute_totals(invoice)
        _check_not_empty_total(invoice)
        invoice.save()
        _audit(invoice, actor, system, "invoice.created", {"items": len(item_ids), "lines": len(lines)})
        if issue:
            _issue_locked(invoice, account, actor, system, fresh=True)
    return invoice


def _audit(invoice: Invoice, actor: User | None, system: str | None, action: str, changes: dict) -> None:
    if actor is None and system is None:
        system = "billing"
    audit_write(
        practice=invoice.practice,
        actor=actor,
        system=None if actor else system,
        action=action,
        obj=invoice,
        changes=changes,
    )


def _next_number(practice: Practice) -> tuple[int, str]:
    sequence = locks.take_invoice_number(practice.pk, practice.invoice_start_number)
    return sequence, f"{practice.invoice_prefix}{sequence:06d}"


def _issue_locked(
    invoice: Invoice, account: ClientAccount, actor: User | None, system: str | None, *, fresh: bool = False
) -> None:
    """Issue a locked draft. ``fresh`` says the caller has just built its lines and totals
    in this transaction, so they need no second look."""
    if invoice.status != Invoice.Status.DRAFT:
        raise ValidationError(NOT_DRAFT)
    if not fresh and not InvoiceLine.objects.filter(invoice=invoice).exists():
        raise ValidationError(NOTHING_TO_INVOICE)
    practice = invoice.practice
    # The number is taken here, inside the issuing transaction: if anything below fails,
    # the counter rolls back with it and no number is skipped.
    invoice.sequence, invoice.number = _next_number(practice)
    today = practice.local_today()
    invoice.issue_date = today
    # A credit invoice is owed to the client, not by them: it has no due date.
    invoice.due_date = None if invoice.is_credit else today + timedelta(days=practice.payment_terms_days)
    invoice.status = Invoice.Status.OPEN
    invoice.issued_at = timezone.now()
    if not fresh:
        _recompute_totals(invoice)
        _check_not_empty_total(invoice)
    invoice.save()
    label = _label(actor, system)
    if invoice.is_credit:
        _ledger(
            account=account,
            kind=LedgerEntry.Kind.CREDIT_ISSUED,
            actor_label=label,
            currency=invoice.currency,
            credit_delta=-invoice.total,
            invoice=invoice,
            memo=invoice.reason,
        )
    else:
        _ledger(
            account=account,
            kind=LedgerEntry.Kind.INVOICE_ISSUED,
            actor_label=label,
            currency=invoice.currency,
            balance_delta=invoice.total,
            invoice=invoice,
        )
        if invoice.apply_credit_on_issue and account.credit_balance > 0:
            _apply_credit_locked(invoice, account, min(account.credit_balance, invoice.balance), label)
        _settle_status(invoice)
    _audit(invoice, actor, system, "invoice.issued", {"number": invoice.number, "total": str(invoice.total)})


def _settle_status(invoice: Invoice) -> None:
    if invoice.kind == Invoice.Kind.INVOICE and invoice.status == Invoice.Status.OPEN and invoice.balance == 0:
        invoice.status = Invoice.Status.PAID
        invoice.paid_at = timezone.now()
    elif invoice.status == Invoice.Status.PAID and invoice.balance > 0:
        invoice.status = Invoice.Status.OPEN
        invoice.paid_at = None
    invoice.save()


def invoice_issue(*, invoice: Invoice, actor: User | None, system: str | None = None) -> Invoice:
    with transaction.atomic():
        account = locks.lock_client(invoice.client)
        locked = _lock_invoice(invoice)
        _issue_locked(locked, account, actor, system)
    return locked


def invoice_update(
    *,
    invoice: Invoice,
    actor: User,
    line_changes: dict[int, ItemAdjustment] | None = None,
    remove_line_ids: list[int] | None = None,
    add_item_ids: list[int] | None = None,
    add_lines: list[LineInput] | None = None,
) -> Invoice:
    """Edit a draft freely, or an open invoice with no payment (audited, with the change
    to its total written to the ledger)."""
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
            label = _label(actor)
            if locked.is_credit:
                if account.credit_balance + (-delta) < 0:
                    raise ValidationError(VOID_CREDIT_USED)
                _ledger(
                    account=account,
                    kind=LedgerEntry.Kind.INVOICE_ADJUSTED,
                    actor_label=label,
                    currency=locked.currency,
                    credit_delta=-delta,
                    invoice=locked,
                )
            else:
                _ledger(
                    account=account,
                    kind=LedgerEntry.Kind.INVOICE_ADJUSTED,
                    actor_label=label,
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
            _audit(locked, actor, None, "invoice.edited", changes)
    return locked


def _plain(value: Decimal) -> str:
    """A figure for the audit log without its storage zeros: 100.000 -> "100", 1.50 -> "1.5"."""
    return format(value.normalize(), "f")


def invoice_delete_draft(*, invoice: Invoice, actor: User) -> None:
    with transaction.atomic():
        locks.lock_client(invoice.client)
        locked = _lock_invoice(invoice)
        if locked.status != Invoice.Status.DRAFT:
            raise ValidationError(DRAFT_ONLY_DELETE)
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


def invoice_void(*, invoice: Invoice, actor: User, reason: str) -> Invoice:
    """Void an open invoice with no payment: its items return to uninvoiced and its
    ledger entries are reversed (credit applied to it goes back to the client)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": REASON_REQUIRED})
    with transaction.atomic():
        account = locks.lock_client(invoice.client)
        locked = locks.lock_invoices([invoice.pk])[invoice.pk]
        if locked.amount_paid > 0:
            raise ValidationError(VOID_PAID)
        if locked.status not in (Invoice.Status.OPEN, Invoice.Status.PAID):
            raise ValidationError(VOID_NOT_OPEN)
        # A package's invoice pays for sessions: once one has been drawn or refunded,
        # voiding it would give those back for nothing (the purchase is locked after its
        # invoice, the order of billing.locks, so a draw cannot slip in meanwhile).
        purchases = locks.lock_purchases(PackagePurchase.objects.filter(invoice=locked))
        if any(p.sessions_used > 0 or p.sessions_refunded > 0 for p in purchases):
            raise ValidationError(VOID_PACKAGE_USED, code="package_used")
        label = _label(actor)
        sessions_back = 0
        if locked.is_credit:
            if account.credit_balance < -locked.total:
                raise ValidationError(VOID_CREDIT_USED)
            sessions_back = _undo_package_refund(locked)
            _ledger(
                account=account,
                kind=LedgerEntry.Kind.INVOICE_VOIDED,
                actor_label=label,
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
                    actor_label=label,
                    currency=locked.currency,
                    balance_delta=locked.written_off,
                    invoice=locked,
                    memo="Write-off reversed: invoice voided",
                )
                locked.written_off = ZERO
            if locked.credit_applied:
                _ledger(
                    account=account,
                    kind=LedgerEntry.Kind.CREDIT_RETURNED,
                    actor_label=label,
                    currency=locked.currency,
                    balance_delta=locked.credit_applied,
                    credit_delta=locked.credit_applied,
                    invoice=locked,
                )
            _ledger(
                account=account,
                kind=LedgerEntry.Kind.INVOICE_VOIDED,
                actor_label=label,
                currency=locked.currency,
                balance_delta=-locked.total,
                invoice=locked,
                memo=reason,
            )
        InvoiceLine.objects.filter(invoice=locked).update(active=False)
        BillingItem.objects.filter(invoice=locked).update(invoice=None)
        locked.status = Invoice.Status.VOID
        locked.void_reason = reason.strip()[:255]
        locked.voided_at = timezone.now()
        locked.credit_applied = ZERO
        locked.balance = ZERO
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


# --- credit -------------------------------------------------------------------------------


def credit_invoice_create(
    *, practice: Practice, client: Client, actor: User, lines: list[LineInput], reason: str, issue: bool = True
) -> Invoice:
    """A credit invoice: lines entered as positive amounts, stored negative. Issuing it
    adds its total to the client's credit balance."""
    if not (reason or "").strip():
        raise ValidationError({"reason": REASON_REQUIRED})
    if not lines:
        raise ValidationError(NOTHING_TO_INVOICE)
    if client.practice_id != practice.pk:
        raise ValidationError("That client does not belong to this practice.")
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
            created_by=actor,
        )
        InvoiceLine.objects.bulk_create([_line_from_input(invoice, line, i, sign=-1) for i, line in enumerate(lines)])
        _recompute_totals(invoice)
        _check_not_empty_total(invoice)
        invoice.save()
        _audit(invoice, actor, None, "credit_invoice.created", {"reason": invoice.reason, "total": str(invoice.total)})
        if issue:
            _issue_locked(invoice, account, actor, None, fresh=True)
    return invoice


def _apply_credit_locked(invoice: Invoice, account: ClientAccount, amount: Decimal, label: str) -> None:
    if amount <= 0:
        return
    _ledger(
        account=account,
        kind=LedgerEntry.Kind.CREDIT_APPLIED,
        actor_label=label,
        currency=invoice.currency,
        balance_delta=-amount,
        credit_delta=-amount,
        invoice=invoice,
    )
    invoice.credit_applied += amount
    invoice.balance -= amount
    invoice.save()


def credit_apply(*, invoice: Invoice, actor: User, amount: Decimal | None = None) -> Invoice:
    """Apply the client's credit to an open invoice (all that fits, or ``amount``)."""
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
        _apply_credit_locked(locked, account, amount, _label(actor))
        _settle_status(locked)
        _audit(locked, actor, None, "credit.applied", {"amount": str(amount)})
    return locked


# --- payments -----------------------------------------------------------------------------


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
    actor: User,
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
            actor=actor,
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
    actor: User | None,
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
        created_by=actor,
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
        actor_label=_label(actor, SETTLED_SYSTEM),
        currency=practice.currency,
        balance_delta=-allocated,
        credit_delta=credited,
        payment=payment,
        memo=f"{payment.get_method_display()} {reference}".strip(),
    )
    audit_write(
        practice=practice,
        actor=actor,
        system=None if actor is not None else SETTLED_SYSTEM,
        action="payment.recorded",
        obj=payment,
        changes={"amount": str(amount), "method": method, "allocated": str(allocated), "credited": str(credited)},
    )
    return PaymentResult(payment=payment, allocations=rows)


def invoice_mark_paid(
    *,
    invoice: Invoice,
    actor: User,
    method: str = Payment.Method.OTHER,
    received_on: date | None = None,
    reference: str = "",
) -> PaymentResult:
    """ "Mark as paid": a payment of the invoice's balance, allocated to it."""
    if invoice.status != Invoice.Status.OPEN or invoice.balance <= 0:
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


def payment_reverse(*, payment: Payment, actor: User, reason: str) -> Payment:
    """Delete a hand payment the only way money is deleted: a reversing ledger entry."""
    if not (reason or "").strip():
        raise ValidationError({"reason": REASON_REQUIRED})
    with transaction.atomic():
        account = locks.lock_client(payment.client)
        allocations = list(PaymentAllocation.objects.filter(payment=payment))
        invoices = locks.lock_invoices([a.invoice_id for a in allocations])
        locked = locks.lock_payment(payment.pk)
        if locked.status == Payment.Status.REVERSED:
            raise ValidationError(PAYMENT_ALREADY_REVERSED)
        if locked.refunded > 0:
            raise ValidationError(PAYMENT_HAS_REFUNDS)
        if locked.method in (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE):
            raise ValidationError("A card payment is refunded, not deleted.")
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
            actor_label=_label(actor),
            currency=locked.currency,
            balance_delta=locked.allocated,
            credit_delta=-locked.credited,
            payment=locked,
            memo=reason.strip()[:255],
        )
        locked.status = Payment.Status.REVERSED
        locked.reversal_reason = reason.strip()[:255]
        locked.reversed_at = timezone.now()
        locked.save(update_fields=["status", "reversal_reason", "reversed_at"])
        audit_write(
            practice=locked.practice,
            actor=actor,
            action="payment.reversed",
            obj=locked,
            changes={"reason": locked.reversal_reason, "amount": str(locked.amount)},
        )
    return locked


# --- packages -----------------------------------------------------------------------------


def package_sell(
    *, practice: Practice, client: Client, package: Package, actor: User, issue: bool = True
) -> PackagePurchase:
    """ "Sell package": its invoice, and the sessions it prepays."""
    if package.practice_id != practice.pk or client.practice_id != practice.pk:
        raise ValidationError("That package or client does not belong to this practice.")
    with transaction.atomic():
        tax = package.service.tax_rate.percent if package.service.tax_rate else ZERO
        invoice = invoice_create(
            practice=practice,
            client=client,
            actor=actor,
            lines=[
                LineInput(
                    description=f"Package: {package.name} ({package.sessions} sessions)",
                    unit_price=package.price,
                    tax_percent=tax,
                    date=practice.local_today(),
                    service=package.service,
                )
            ],
            issue=issue,
        )
        expires = practice.local_today() + timedelta(days=package.valid_days) if package.valid_days else None
        purchase = PackagePurchase.objects.create(
            practice=practice,
            client=client,
            package=package,
            service=package.service,
            invoice=invoice,
            sessions_total=package.sessions,
            expires_on=expires,
        )
        audit_write(
            practice=practice,
            actor=actor,
            action="package.sold",
            obj=purchase,
            changes={"package": package.name, "invoice": invoice.pk},
        )
    return purchase


def package_usable(client_id: int, service_id: int, on: date) -> PackagePurchase | None:
    """The oldest live purchase that can pay for a session of ``service_id`` on ``on``."""
    return (
        PackagePurchase.objects.select_for_update(of=("self",))
        .filter(
            client_id=client_id, service_id=service_id, sessions_used__lt=F("sessions_total") - F("sessions_refunded")
        )
        .exclude(invoice__status__in=[Invoice.Status.VOID, Invoice.Status.DRAFT])
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on))
        .order_by("created_at", "pk")
        .first()
    )


def package_refund_amount(
    *, price: Decimal, sessions_total: int, sessions_before: int, sessions: int, currency: str
) -> Decimal:
    """What ``sessions`` more sessions of a package are worth, given ``sessions_before``
    already refunded or used: the difference of the rounded cumulative shares, so the
    shares of all a package's sessions add up exactly to its price (3 of a 100.00 package
    of 3 are 100.00, not 3 x 33.33)."""
    before = quantize(price * sessions_before / sessions_total, currency)
    after = quantize(price * (sessions_before + sessions) / sessions_total, currency)
    return after - before


def package_refund_unused(*, purchase: PackagePurchase, actor: User, sessions: int, reason: str) -> Invoice:
    """Refund unused sessions of a fully paid package through a credit invoice, at the
    price and tax it was sold for. An unpaid package is voided instead."""
    with transaction.atomic():
        # The order of billing.locks: practice, client, the package's invoice, the purchase.
        practice = locks.lock_practice(purchase.practice)
        locks.lock_client(purchase.client)
        sold_invoice = locks.lock_invoices([purchase.invoice_id])[purchase.invoice_id]
        (locked,) = locks.lock_purchases(
            PackagePurchase.objects.select_related("package", "client").filter(pk=purchase.pk)
        )
        if sold_invoice.status != Invoice.Status.PAID:
            raise ValidationError(PACKAGE_REFUND_NOT_PAID, code="package_not_paid")
        if sessions <= 0 or sessions > locked.sessions_left:
            raise ValidationError({"sessions": PACKAGE_REFUND_TOO_MANY})
        # Refund at the price and tax the package was sold for (its invoice line), not the
        # package's current price, which may have been edited since.
        sold = InvoiceLine.objects.filter(invoice_id=locked.invoice_id).order_by("position", "pk").first()
        price = sold.unit_price * sold.units if sold is not None else locked.package.price
        tax_percent = sold.tax_percent if sold is not None else ZERO
        amount = package_refund_amount(
            price=price,
            sessions_total=locked.sessions_total,
            sessions_before=locked.sessions_refunded + locked.sessions_used,
            sessions=sessions,
            currency=practice.currency,
        )
        credit = credit_invoice_create(
            practice=practice,
            client=locked.client,
            actor=actor,
            reason=reason or "Unused package sessions",
            lines=[
                LineInput(
                    description=f"Refund of {sessions} unused session{'s' if sessions != 1 else ''}: "
                    f"{locked.package.name}",
                    unit_price=amount,
                    units=Decimal("1"),
                    tax_percent=tax_percent,
                )
            ],
        )
        locked.sessions_refunded += sessions
        locked.save(update_fields=["sessions_refunded"])
        # The link that lets a void of this credit invoice give the sessions back.
        PackageRefund.objects.create(practice=practice, purchase=locked, credit_invoice=credit, sessions=sessions)
        audit_write(
            practice=practice,
            actor=actor,
            action="package.refunded",
            obj=locked,
            changes={"sessions": sessions, "amount": str(amount), "credit_invoice": credit.pk},
        )
    return credit


# --- bulk invoicing -----------------------------------------------------------------------


def invoice_all_uninvoiced(
    *,
    practice: Practice,
    actor: User | None,
    date_from: date,
    date_to: date,
    issue: bool = True,
    apply_credit: bool = True,
    system: str | None = None,
) -> list[Invoice]:
    """One invoice per client for their uninvoiced items in the range, one transaction
    per client: a client whose items were taken meanwhile is skipped, not half-done.

    Each client's credit balance goes onto their new invoice unless ``apply_credit`` is
    False (on a draft it is applied when the draft is issued): a client with credit is not
    sent a bill for the full amount."""
    created = []
    ids_by_client: dict[int, list[int]] = {}
    for client_id, item_id in BillingItem.objects.filter(
        practice=practice, invoice__isnull=True, date__gte=date_from, date__lte=date_to
    ).values_list("client_id", "pk"):
        ids_by_client.setdefault(client_id, []).append(item_id)
    for row in uninvoiced_by_client(practice, date_from, date_to):
        ids = ids_by_client.get(row.client.pk, [])
        if not ids:
            continue
        try:
            created.append(
                invoice_create(
                    practice=practice,
                    client=row.client,
                    actor=actor,
                    item_ids=ids,
                    apply_credit=apply_credit,
                    issue=issue,
                    system=system,
                )
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) != "items_taken":
                raise
    return created


# --- verification -------------------------------------------------------------------------


def ledger_verify(practice: Practice | None = None) -> list[str]:
    """Problems found: stored invoice totals that differ from their lines, and client
    balances that differ from the ledger. An empty list means the books agree."""
    problems = []
    invoices = Invoice.objects.all() if practice is None else Invoice.objects.filter(practice=practice)
    line_sums = {
        row["invoice"]: row
        for row in InvoiceLine.objects.filter(invoice__in=invoices)
        .values("invoice")
        .annotate(net=Sum("net"), tax=Sum("tax"))
    }
    for invoice in invoices.only(
        "pk", "number", "subtotal", "tax", "total", "credit_applied", "amount_paid", "balance", "kind", "status"
    ):
        lines = line_sums.get(invoice.pk, {"net": ZERO, "tax": ZERO})
        if (lines["net"] or ZERO) != invoice.subtotal or (lines["tax"] or ZERO) != invoice.tax:
            problems.append(
                f"Invoice {invoice} totals {invoice.subtotal}+{invoice.tax} differ from its lines "
                f"{lines['net']}+{lines['tax']}"
            )
    # What an invoice counts as paid: its allocations less what refunds took back of them.
    paid = {
        row["invoice"]: row["paid"]
        for row in PaymentAllocation.objects.filter(invoice__in=invoices)
        .exclude(payment__status=Payment.Status.REVERSED)
        .values("invoice")
        .annotate(paid=Sum(F("amount") - F("refunded")))
    }
    for invoice in invoices.exclude(status=Invoice.Status.VOID).filter(kind=Invoice.Kind.INVOICE):
        if paid.get(invoice.pk, ZERO) != invoice.amount_paid:
            problems.append(
                f"Invoice {invoice} amount paid {invoice.amount_paid} differs from its payments "
                f"{paid.get(invoice.pk, ZERO)}"
            )
    problems += _refunds_and_write_offs_verify(practice, invoices)
    accounts = ClientAccount.objects.all() if practice is None else ClientAccount.objects.filter(practice=practice)
    ledger_sums: dict[int, dict[str, Any]] = {
        row["client"]: row
        for row in LedgerEntry.objects.filter(client__in=accounts.values("client"))
        .values("client")
        .annotate(balance=Sum("balance_delta"), credit=Sum("credit_delta"))
    }
    for account in accounts:
        row = ledger_sums.get(account.client_id, {"balance": ZERO, "credit": ZERO})
        if (row["balance"] or ZERO) != account.balance or (row["credit"] or ZERO) != account.credit_balance:
            problems.append(
                f"Client {account.client_id} balance {account.balance}/{account.credit_balance} differs "
                f"from the ledger {row['balance']}/{row['credit']}"
            )
    open_sums = {
        row["client"]: row["owed"]
        for row in invoices.filter(kind=Invoice.Kind.INVOICE, status__in=[Invoice.Status.OPEN, Invoice.Status.PAID])
        .values("client")
        .annotate(owed=Sum("balance"))
    }
    for account in accounts:
        if open_sums.get(account.client_id, ZERO) != account.balance:
            problems.append(
                f"Client {account.client_id} balance {account.balance} differs from open invoices "
                f"{open_sums.get(account.client_id, ZERO)}"
            )
    return problems


# --- drafts deleted meanwhile -----------------------------------------------------------------

DRAFT_GONE = "This draft was deleted meanwhile."


def _lock_invoice(invoice: Invoice) -> Invoice:
    """``invoice`` locked; refused (code "gone") when its row is gone: a draft deleted in
    another tab while this request waited for the lock."""
    locked = locks.lock_invoices([invoice.pk]).get(invoice.pk)
    if locked is None:
        raise ValidationError(DRAFT_GONE, code="gone")
    return locked


def payment_date_problem(practice: Practice, value: date) -> str | None:
    """A payment's date: from 2000-01-01 to the practice's allowance after its today
    (none by default: money is recorded once received)."""
    return record_date_problem(
        value, today=practice.local_today(), max_future_days=practice.payment_date_max_future_days
    )


def invoice_date_problem(practice: Practice, value: date) -> str | None:
    """An invoice line's date: from 2000-01-01 to the practice's allowance (365 days by
    default) after its today."""
    return record_date_problem(
        value, today=practice.local_today(), max_future_days=practice.invoice_date_max_future_days
    )


def _refunds_and_write_offs_verify(practice: Practice | None, invoices: Any) -> list[str]:
    """Each payment's ``refunded`` is the sum of its refunds and of the parts they took
    from its allocations and its credit; each allocation's ``refunded`` is what refunds
    took from that invoice; each invoice's ``written_off`` is what its write-off entries
    took off the ledger."""
    from .models import Refund, RefundAllocation

    problems = []
    payments = Payment.objects.all() if practice is None else Payment.objects.filter(practice=practice)
    refund_sums = {
        row["payment"]: row
        for row in Refund.objects.filter(payment__in=payments)
        .values("payment")
        .annotate(total=Sum("amount"), credit=Sum("from_credit"))
    }
    taken = {
        (row["refund__payment"], row["invoice"]): row["total"]
        for row in RefundAllocation.objects.filter(refund__payment__in=payments)
        .values("refund__payment", "invoice")
        .annotate(total=Sum("amount"))
    }
    allocations = PaymentAllocation.objects.filter(payment__in=payments)
    from_allocations: dict[int, Decimal] = {}
    for allocation in allocations.filter(refunded__gt=0).only("payment_id", "invoice_id", "refunded"):
        from_allocations[allocation.payment_id] = (
            from_allocations.get(allocation.payment_id, ZERO) + allocation.refunded
        )
        if taken.get((allocation.payment_id, allocation.invoice_id), ZERO) != allocation.refunded:
            problems.append(
                f"Payment {allocation.payment_id} refunded {allocation.refunded} of invoice {allocation.invoice_id} "
                f"but its refunds took {taken.get((allocation.payment_id, allocation.invoice_id), ZERO)}"
            )
    for payment in payments.filter(Q(refunded__gt=0) | Q(pk__in=list(refund_sums))).only("pk", "refunded"):
        row = refund_sums.get(payment.pk, {"total": ZERO, "credit": ZERO})
        parts = from_allocations.get(payment.pk, ZERO) + (row["credit"] or ZERO)
        if (row["total"] or ZERO) != payment.refunded or parts != payment.refunded:
            problems.append(
                f"Payment {payment.pk} refunded {payment.refunded} differs from its refunds {row['total']} "
                f"(invoices and credit {parts})"
            )
    write_offs = {
        row["invoice"]: -(row["total"] or ZERO)
        for row in LedgerEntry.objects.filter(invoice__in=invoices, kind=LedgerEntry.Kind.WRITE_OFF)
        .values("invoice")
        .annotate(total=Sum("balance_delta"))
    }
    for invoice in invoices.filter(Q(written_off__gt=0) | Q(pk__in=list(write_offs))).only(
        "pk", "number", "written_off"
    ):
        if write_offs.get(invoice.pk, ZERO) != invoice.written_off:
            problems.append(
                f"Invoice {invoice} written off {invoice.written_off} differs from its write-off entries "
                f"{write_offs.get(invoice.pk, ZERO)}"
            )
    return problems


# --- payments settled by a processor (the seam the payments app uses) ---------------------

SETTLED_SYSTEM = "payments"
SETTLED_METHODS = (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE)
SETTLED_METHOD = "A settled payment is a card payment taken online or with a card on file."
EXTERNAL_ID_REQUIRED = "A settled payment needs the processor's id."
EXTERNAL_ID_REUSED = "That processor id was already recorded for a different payment."


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
    actor: User | None = None,
) -> PaymentResult:
    """Record money a processor has already taken (a Stripe charge), received today.

    The allocation, overpayment and ledger rules are payment_record_manual's (one core),
    except that money already taken cannot be refused: what the invoices do not owe
    (any more) becomes the client's credit. ``external_id`` (the processor's id) is
    unique per practice: a second call with it, from a webhook after the redirect or
    from the same webhook delivered twice, returns the first payment (``created`` False)
    and records nothing. ``actor`` is None for a system job (the webhook)."""
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
                actor=actor,
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
