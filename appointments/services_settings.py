"""Writes for the practice's price list (services), tax rates and billing details.

Each function validates, runs in one transaction and writes its audit row there. Views
turn the ``ValidationError`` (keyed by field) into form errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from practice import hooks as practice_hooks
from practice.audit import audit_write, diff_fields, snapshot
from practice.models import MAX_FUTURE_DAYS, FeePolicy, Practice, TaxRate, User
from practice.money import minor_units

from .models import AppointmentService, BillingDetail, Service

SERVICE_FIELDS = (
    "name",
    "code",
    "default_duration_minutes",
    "price",
    "tax_rate",
    "payment_type",
    "copay_kind",
    "copay_amount",
    "copay_percent",
)
TAX_RATE_FIELDS = ("name", "percent", "is_default")
BILLING_DETAILS_FIELDS = (
    "currency",
    "prices_include_tax",
    "billing_address",
    "tax_id",
    "timezone",
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

# Error messages a user sees (tests assert on them).
SERVICE_CODE_TAKEN = "Another service already uses this code."
SERVICE_DURATION_POSITIVE = "Enter a duration of at least 1 minute."
SERVICE_PRICE_NEGATIVE = "A price cannot be negative."
SERVICE_TOO_PRECISE = "{currency} amounts have at most {places} decimal places."
COPAY_KIND_REQUIRED = "Choose whether the co-pay is a fixed amount or a percentage."
COPAY_AMOUNT_REQUIRED = "Enter the co-pay amount the client pays."
COPAY_PERCENT_REQUIRED = "Enter the percentage of the price the client pays."
COPAY_PERCENT_RANGE = "A co-pay percentage is between 0 and 100."
COPAY_AMOUNT_ABOVE_PRICE = "A co-pay cannot be more than the price."
TAX_RATE_NOT_OURS = "Choose one of this practice's tax rates."
TAX_RATE_NAME_TAKEN = "Another tax rate already has this name."
TAX_PERCENT_RANGE = "A tax rate is between 0 and 100 percent."
CURRENCY_LOCKED = "The currency cannot change once the practice has billing items, invoices or payments."
FEE_REQUIRED = "Enter the fee charged under a flat-fee policy."
FEE_NEGATIVE = "A fee cannot be negative."
TAX_PERCENT_TOO_FINE = "A tax rate can have at most 4 decimal places."
COPAY_PERCENT_TOO_FINE = "A co-pay percentage can have at most 4 decimal places."
FEE_TOO_LARGE = "Enter a fee less than 1,000,000,000."
FUTURE_DAYS_RANGE = "Enter a number of days from 0 to 3650."

# The percent columns are NUMERIC(7, 4): a finer value would be rounded by the database
# while the page and the audit row say what was typed, so it is refused instead.
PERCENT_PLACES = 4
MAX_FEE = Decimal(10) ** 9


def _too_fine(value: Decimal, places: int) -> bool:
    exponent = value.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent > places


def _check_precision(errors: dict[str, str], field: str, value: Decimal | None, currency: str) -> None:
    if value is None:
        return
    places = minor_units(currency)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        errors[field] = SERVICE_TOO_PRECISE.format(currency=currency, places=places)


def _validate_service(practice: Practice, data: dict[str, Any], *, exclude_id: int | None = None) -> None:
    errors: dict[str, str] = {}
    duration = data.get("default_duration_minutes")
    if duration is None or duration < 1:
        errors["default_duration_minutes"] = SERVICE_DURATION_POSITIVE
    price = data.get("price")
    if price is not None and price < 0:
        errors["price"] = SERVICE_PRICE_NEGATIVE
    else:
        _check_precision(errors, "price", price, practice.currency)
    tax_rate = data.get("tax_rate")
    if tax_rate is not None and tax_rate.practice_id != practice.pk:
        errors["tax_rate"] = TAX_RATE_NOT_OURS
    if data.get("payment_type") == Service.PaymentType.COPAY:
        kind = data.get("copay_kind")
        if kind == Service.CopayKind.FIXED:
            amount = data.get("copay_amount")
            if amount is None:
                errors["copay_amount"] = COPAY_AMOUNT_REQUIRED
            elif amount < 0:
                errors["copay_amount"] = SERVICE_PRICE_NEGATIVE
            elif price is not None and amount > price:
                errors["copay_amount"] = COPAY_AMOUNT_ABOVE_PRICE
            else:
                _check_precision(errors, "copay_amount", amount, practice.currency)
        elif kind == Service.CopayKind.PERCENT:
            percent = data.get("copay_percent")
            if percent is None:
                errors["copay_percent"] = COPAY_PERCENT_REQUIRED
            elif not Decimal("0") <= percent <= Decimal("100"):
                errors["copay_percent"] = COPAY_PERCENT_RANGE
            elif _too_fine(percent, PERCENT_PLACES):
                errors["copay_percent"] = COPAY_PERCENT_TOO_FINE
        else:
            errors["copay_kind"] = COPAY_KIND_REQUIRED
    code = (data.get("code") or "").strip()
    if code:
        taken = Service.objects.filter(practice=practice, code__iexact=code)
        if exclude_id is not None:
            taken = taken.exclude(pk=exclude_id)
        if taken.exists():
            errors["code"] = SERVICE_CODE_TAKEN
    if errors:
        raise ValidationError(errors)


def _normalise_copay(data: dict[str, Any]) -> dict[str, Any]:
    """Keep only the co-pay figure that the payment type uses, so nothing stale lingers."""
    data = dict(data)
    if data.get("payment_type") != Service.PaymentType.COPAY:
        data.update(copay_kind="", copay_amount=None, copay_percent=None)
    elif data.get("copay_kind") == Service.CopayKind.FIXED:
        data["copay_percent"] = None
    else:
        data["copay_amount"] = None
    data["code"] = (data.get("code") or "").strip()
    return data


def service_create(*, practice: Practice, actor: User, data: dict[str, Any]) -> Service:
    data = _normalise_copay(data)
    _validate_service(practice, data)
    with transaction.atomic():
        service = Service(practice=practice, **{f: data.get(f) for f in SERVICE_FIELDS})
        service.full_clean()
        service.save()
        audit_write(
            practice=practice,
            actor=actor,
            action="service.created",
            obj=service,
            changes=diff_fields({}, snapshot(service, SERVICE_FIELDS)),
        )
    return service


def service_update(*, service: Service, actor: User, data: dict[str, Any]) -> Service:
    data = _normalise_copay(data)
    _validate_service(service.practice, data, exclude_id=service.pk)
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        before = snapshot(locked, SERVICE_FIELDS)
        for field in SERVICE_FIELDS:
            setattr(locked, field, data.get(field))
        locked.full_clean()
        locked.save()
        changes = diff_fields(before, snapshot(locked, SERVICE_FIELDS))
        if changes:
            audit_write(practice=locked.practice, actor=actor, action="service.updated", obj=locked, changes=changes)
    return locked


def service_is_used(service: Service) -> bool:
    return (
        AppointmentService.objects.filter(service=service).exists()
        or BillingDetail.objects.filter(service=service).exists()
        or service.practice.billing_items.filter(service=service).exists()
    )


def service_archive(*, service: Service, actor: User) -> str:
    """Archive a service that any appointment used; delete one that nothing refers to.

    Returns "archived" or "deleted". Appointments and billing items keep pointing at an
    archived service, so their history reads the same after the price list changes.
    """
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if service_is_used(locked):
            locked.is_archived = True
            locked.save(update_fields=["is_archived"])
            audit_write(practice=locked.practice, actor=actor, action="service.archived", obj=locked)
            return "archived"
        audit_write(practice=locked.practice, actor=actor, action="service.deleted", obj=locked)
        locked.delete()
        return "deleted"


def service_restore(*, service: Service, actor: User) -> Service:
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        locked.is_archived = False
        locked.save(update_fields=["is_archived"])
        audit_write(practice=locked.practice, actor=actor, action="service.restored", obj=locked)
    return locked


def _validate_tax_rate(practice: Practice, data: dict[str, Any], *, exclude_id: int | None = None) -> None:
    errors: dict[str, str] = {}
    percent = data.get("percent")
    if percent is None or not Decimal("0") <= percent <= Decimal("100"):
        errors["percent"] = TAX_PERCENT_RANGE
    elif _too_fine(percent, PERCENT_PLACES):
        errors["percent"] = TAX_PERCENT_TOO_FINE
    taken = TaxRate.objects.filter(practice=practice, name__iexact=(data.get("name") or "").strip())
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        errors["name"] = TAX_RATE_NAME_TAKEN
    if errors:
        raise ValidationError(errors)


def _clear_other_defaults(practice: Practice, keep_id: int | None) -> None:
    # One default per practice is a partial unique index: clear the old one first.
    others = TaxRate.objects.filter(practice=practice, is_default=True)
    if keep_id is not None:
        others = others.exclude(pk=keep_id)
    others.update(is_default=False)


def tax_rate_create(*, practice: Practice, actor: User, name: str, percent: Decimal, is_default: bool) -> TaxRate:
    data = {"name": name.strip(), "percent": percent, "is_default": is_default}
    _validate_tax_rate(practice, data)
    with transaction.atomic():
        Practice.objects.select_for_update().filter(pk=practice.pk).first()
        if is_default:
            _clear_other_defaults(practice, None)
        rate = TaxRate.objects.create(practice=practice, **data)
        audit_write(
            practice=practice,
            actor=actor,
            action="tax_rate.created",
            obj=rate,
            changes=diff_fields({}, snapshot(rate, TAX_RATE_FIELDS)),
        )
    return rate


def tax_rate_update(
    *, tax_rate: TaxRate, actor: User, name: str, percent: Decimal, is_default: bool, is_archived: bool
) -> TaxRate:
    """Change a tax rate. An archived rate is no longer offered and cannot be the default.

    Services and billing details copied the percent when they were saved, so changing a
    rate here changes what is billed from now on, never an item already made.
    """
    practice = tax_rate.practice
    data = {"name": name.strip(), "percent": percent, "is_default": is_default and not is_archived}
    _validate_tax_rate(practice, data, exclude_id=tax_rate.pk)
    with transaction.atomic():
        Practice.objects.select_for_update().filter(pk=practice.pk).first()
        locked = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
        fields = (*TAX_RATE_FIELDS, "is_archived")
        before = snapshot(locked, fields)
        if data["is_default"]:
            _clear_other_defaults(practice, locked.pk)
        for key, value in data.items():
            setattr(locked, key, value)
        locked.is_archived = is_archived
        locked.save()
        changes = diff_fields(before, snapshot(locked, fields))
        if changes:
            action = "tax_rate.archived" if is_archived and not before["is_archived"] else "tax_rate.updated"
            audit_write(practice=practice, actor=actor, action=action, obj=locked, changes=changes)
    return locked


def currency_is_locked(practice: Practice) -> bool:
    # billing decides (practice.hooks): the practice's amounts are in the current currency.
    return practice_hooks.currency_in_use(practice)


def billing_details_update(*, practice: Practice, actor: User, data: dict[str, Any]) -> Practice:
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
                _check_precision(errors, fee, data.get(fee), data.get("currency") or locked.currency)
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
        if changes:
            audit_write(
                practice=locked,
                actor=actor,
                action="practice.billing_details_changed",
                obj=locked,
                changes=changes,
            )
    return locked
