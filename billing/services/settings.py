"""Billing's settings of a practice: Settings > Billing details (currency, tax handling,
fee policies and date allowances) and Settings > Invoice numbering and terms.

Each function validates, runs in one transaction and writes its audit row there. The
fields are the practice's (practice.models.Practice); the rules about them are billing's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from appointments.services.price_list import check_precision
from practice.actor import Actor
from practice.audit import audit_write, diff_fields, snapshot
from practice.models import MAX_FUTURE_DAYS, FeePolicy, Practice, User
from practice.money import practice_money
from practice.services import practice_settings_update

from ..selectors import currency_in_use, invoice_numbering_started

BILLING_DETAILS_FIELDS = (
    "currency",
    "prices_include_tax",
    "billing_address",
    "tax_id",
    "no_show_policy",
    "no_show_fee",
    "late_cancel_policy",
    "late_cancel_fee",
    "late_cancel_window_hours",
    "clinicians_edit_billing_details",
    "payment_date_max_future_days",
    "invoice_date_max_future_days",
    "fee_tax_free",
)
INVOICE_NUMBERING_FIELDS = ("payment_terms_days", "invoice_prefix", "invoice_start_number")

# Error messages a user sees (tests assert on them).
CURRENCY_LOCKED = "The currency cannot change once the practice has billing items, invoices or payments."
FEE_REQUIRED = "Enter the fee charged under a flat-fee policy."
FEE_NEGATIVE = "A fee cannot be negative."
FEE_TOO_LARGE = "Enter a fee less than 1,000,000,000."
FUTURE_DAYS_RANGE = "Enter a number of days from 0 to 3650."
INVOICE_START_LOCKED = (
    "Invoices have already been numbered, so the first invoice number can no longer change: "
    "numbers continue from the last one issued, with no gaps."
)

MAX_FEE = Decimal(10) ** 9


def currency_is_locked(practice: Practice) -> bool:
    """Whether the currency may no longer change: the practice holds amounts in it."""
    return currency_in_use(practice)


def billing_details_update(*, practice: Practice, actor: Actor | User, data: dict[str, Any]) -> Practice:
    """Save Settings > Billing details. The currency is refused once any invoice exists."""
    errors: dict[str, str] = {}
    for policy, fee in (("no_show_policy", "no_show_fee"), ("late_cancel_policy", "late_cancel_fee")):
        amount = data.get(fee)
        if amount is not None and amount < 0:
            errors[fee] = FEE_NEGATIVE
        elif amount is not None and amount >= MAX_FEE:
            errors[fee] = FEE_TOO_LARGE
        elif data.get(policy) == FeePolicy.FLAT and not amount:
            errors[fee] = FEE_REQUIRED
    data = dict(data)
    for days in ("payment_date_max_future_days", "invoice_date_max_future_days"):
        # Left empty (or not posted): the practice keeps its current allowance.
        if data.get(days) is None:
            data[days] = getattr(practice, days)
        if not 0 <= data[days] <= MAX_FUTURE_DAYS:
            errors[days] = FUTURE_DAYS_RANGE
    with transaction.atomic():
        locked = Practice.objects.select_for_update().get(pk=practice.pk)
        # Checked under the practice row lock. An invoice created concurrently is only
        # excluded if invoice creation takes the same lock (it should: lock order starts
        # at the practice).
        if data.get("currency") != locked.currency and currency_is_locked(locked):
            errors["currency"] = CURRENCY_LOCKED
        for fee in ("no_show_fee", "late_cancel_fee"):
            if fee not in errors:
                check_precision(errors, fee, data.get(fee), data.get("currency") or locked.currency)
        if errors:
            raise ValidationError(errors)
        before = snapshot(locked, BILLING_DETAILS_FIELDS)
        for field in BILLING_DETAILS_FIELDS:
            value = data.get(field)
            if field in ("no_show_fee", "late_cancel_fee") and value is None:
                value = Decimal("0")
            if field in ("clinicians_edit_billing_details", "fee_tax_free") and value is None:
                # A caller that does not know the setting leaves it as it is.
                value = getattr(locked, field)
            setattr(locked, field, value)
        locked.full_clean()
        locked.save(update_fields=list(BILLING_DETAILS_FIELDS))
        changes = diff_fields(before, snapshot(locked, BILLING_DETAILS_FIELDS))
        for fee in ("no_show_fee", "late_cancel_fee"):
            if fee in changes:
                # The audit log shows the fee as money ("$50.00"), not as the column's
                # three places ("50.000"); each side in the currency it was set in.
                changes[fee] = [
                    practice_money(locked, before[fee], currency=before["currency"]),
                    practice_money(locked, getattr(locked, fee)),
                ]
        if changes:
            audit_write(
                practice=locked,
                actor=actor,
                action="practice.billing_details_changed",
                obj=locked,
                changes=changes,
            )
    return locked


def invoice_numbering_update(*, practice: Practice, actor: Actor | User, data: dict[str, Any]) -> Practice:
    """Save Settings > Invoice numbering and terms (payment terms, number prefix, first
    number). The first number is refused once an invoice has been numbered: from then on
    the counter alone numbers invoices (billing.locks.take_invoice_number), with no gaps."""
    with transaction.atomic():
        # The practice row is locked, and invoice_create locks it too before issuing.
        locked = Practice.objects.select_for_update().get(pk=practice.pk)
        if data["invoice_start_number"] != locked.invoice_start_number and invoice_numbering_started(locked):
            raise ValidationError({"invoice_start_number": INVOICE_START_LOCKED})
        return practice_settings_update(practice=locked, actor=actor, data=data, fields=INVOICE_NUMBERING_FIELDS)
