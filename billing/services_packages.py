"""Settings > Packages: the prepaid bundles a practice offers. Selling and refunding them is
billing.services (package_sell, package_refund_unused); this module only keeps the list.

A package already sold keeps what it was sold with: each PackagePurchase copies the
service and the number of sessions, and its invoice line holds the price paid, so editing
a package changes future sales only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from appointments.models import Service
from practice.audit import audit_write
from practice.models import Practice, User

from .models import Package
from .money import quantize

SERVICE_NOT_IN_PRACTICE = "Choose one of this practice's services."


@dataclass(frozen=True)
class PackageData:
    name: str
    service: Service
    sessions: int
    price: Decimal
    valid_days: int | None = None


def _validate(practice: Practice, data: PackageData) -> None:
    if data.service.practice_id != practice.pk:
        raise ValidationError({"service": SERVICE_NOT_IN_PRACTICE})
    if not data.name.strip():
        raise ValidationError({"name": "Give the package a name."})
    if data.sessions <= 0:
        raise ValidationError({"sessions": "A package has at least one session."})
    if data.price < 0 or abs(data.price) >= Decimal(10) ** 9 or quantize(data.price, practice.currency) != data.price:
        raise ValidationError({"price": "Enter a price such as 1200.00."})
    if data.valid_days is not None and data.valid_days <= 0:
        raise ValidationError({"valid_days": "Leave empty, or give a number of days."})


def _changes(package: Package) -> dict[str, str]:
    return {
        "name": package.name,
        "service": str(package.service_id),
        "sessions": str(package.sessions),
        "price": str(package.price),
        "valid_days": "" if package.valid_days is None else str(package.valid_days),
    }


def package_create(*, practice: Practice, actor: User, data: PackageData) -> Package:
    _validate(practice, data)
    with transaction.atomic():
        package = Package.objects.create(
            practice=practice,
            name=data.name.strip(),
            service=data.service,
            sessions=data.sessions,
            price=data.price,
            valid_days=data.valid_days,
        )
        audit_write(practice=practice, actor=actor, action="package.created", obj=package, changes=_changes(package))
    return package


def package_update(*, package: Package, actor: User, data: PackageData) -> Package:
    _validate(package.practice, data)
    with transaction.atomic():
        locked = Package.objects.select_for_update().get(pk=package.pk)
        before = _changes(locked)
        locked.name = data.name.strip()
        locked.service = data.service
        locked.sessions = data.sessions
        locked.price = data.price
        locked.valid_days = data.valid_days
        locked.save()
        # Read back as stored, so a price typed "900.00" compares equal to the stored 900.000.
        locked.refresh_from_db()
        after = _changes(locked)
        changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        if changed:
            audit_write(practice=locked.practice, actor=actor, action="package.edited", obj=locked, changes=changed)
    return locked


def package_set_archived(*, package: Package, actor: User, archived: bool) -> Package:
    """Archive (no longer offered for sale; sold ones keep working) or restore a package."""
    with transaction.atomic():
        locked = Package.objects.select_for_update().get(pk=package.pk)
        if locked.is_archived != archived:
            locked.is_archived = archived
            locked.save(update_fields=["is_archived"])
            action = "package.archived" if archived else "package.restored"
            audit_write(practice=locked.practice, actor=actor, action=action, obj=locked)
    return locked
