"""Settings > Billing details > Tax rates: each practice's named rates, one the default.

Each function validates, runs in one transaction and writes its audit row there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from appointments.services.price_list import PERCENT_PLACES, too_fine
from practice.actor import Actor
from practice.audit import audit_write, diff_fields, snapshot
from practice.models import Practice, TaxRate, User

TAX_RATE_FIELDS = ("name", "percent", "is_default")

# Error messages a user sees (tests assert on them).
TAX_RATE_NAME_TAKEN = "Another tax rate already has this name."
TAX_PERCENT_RANGE = "A tax rate is between 0 and 100 percent."
TAX_PERCENT_TOO_FINE = "A tax rate can have at most 4 decimal places."


def _validate_tax_rate(practice: Practice, data: dict[str, Any], *, exclude_id: int | None = None) -> None:
    errors: dict[str, str] = {}
    percent = data.get("percent")
    if percent is None or not Decimal("0") <= percent <= Decimal("100"):
        errors["percent"] = TAX_PERCENT_RANGE
    elif too_fine(percent, PERCENT_PLACES):
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


def tax_rate_create(
    *, practice: Practice, actor: Actor | User, name: str, percent: Decimal, is_default: bool
) -> TaxRate:
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
    *, tax_rate: TaxRate, actor: Actor | User, name: str, percent: Decimal, is_default: bool, is_archived: bool
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
