"""Settings > Services: the practice's price list.

Each function validates, runs in one transaction and writes its audit row there. Views
turn the ``ValidationError`` (keyed by field) into form errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from practice.audit import audit_write, diff_fields, snapshot
from practice.models import Practice, User
from practice.money import minor_units

from ..models import AppointmentService, BillingDetail, Service

SERVICE_FIELDS = (
    "name",
    "code",
    "procedure_code",
    "default_duration_minutes",
    "price",
    "tax_rate",
    "payment_type",
    "copay_kind",
    "copay_amount",
    "copay_percent",
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
COPAY_PERCENT_TOO_FINE = "A co-pay percentage can have at most 4 decimal places."

# The percent columns are NUMERIC(7, 4): a finer value would be rounded by the database
# while the page and the audit row say what was typed, so it is refused instead.
PERCENT_PLACES = 4


def too_fine(value: Decimal, places: int) -> bool:
    """Whether ``value`` has more than ``places`` decimal places (trailing zeros aside)."""
    exponent = value.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent > places


def check_precision(errors: dict[str, str], field: str, value: Decimal | None, currency: str) -> None:
    """Add ``field``'s error to ``errors`` when ``value`` is finer than ``currency``'s minor unit."""
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
        check_precision(errors, "price", price, practice.currency)
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
                check_precision(errors, "copay_amount", amount, practice.currency)
        elif kind == Service.CopayKind.PERCENT:
            percent = data.get("copay_percent")
            if percent is None:
                errors["copay_percent"] = COPAY_PERCENT_REQUIRED
            elif not Decimal("0") <= percent <= Decimal("100"):
                errors["copay_percent"] = COPAY_PERCENT_RANGE
            elif too_fine(percent, PERCENT_PLACES):
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
    # Callers that predate the procedure code leave it out; it is optional.
    data["procedure_code"] = (data.get("procedure_code") or "").strip().upper()
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
