"""Packages: the prepaid bundles a practice offers (Settings > Packages), selling one
through its invoice, drawing a session from it, and refunding unused sessions through a
credit invoice.

A package already sold keeps what it was sold with: each PackagePurchase copies the
service and the number of sessions, and its invoice line holds the price paid, so editing
a package changes future sales only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q

from appointments.models import Service
from clients.models import Client
from practice.actor import Actor
from practice.audit import audit_write
from practice.models import Practice, User

from .. import locks
from ..inputs import MAX_AMOUNT, LineInput, fits_currency
from ..models import Invoice, InvoiceLine, Package, PackagePurchase, PackageRefund
from ..money import ZERO, quantize
from .credits import credit_invoice_create
from .invoices import invoice_create

SERVICE_NOT_IN_PRACTICE = "Choose one of this practice's services."
PACKAGE_REFUND_TOO_MANY = "You cannot refund more sessions than are left."
PACKAGE_REFUND_NOT_PAID = (
    "Unused sessions can be refunded only once the package's invoice is paid in full. "
    "While it is unpaid, void the invoice instead."
)


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
    if data.price < 0 or abs(data.price) >= MAX_AMOUNT or not fits_currency(data.price, practice.currency):
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


def package_create(*, practice: Practice, actor: Actor | User, data: PackageData) -> Package:
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


def package_update(*, package: Package, actor: Actor | User, data: PackageData) -> Package:
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


def package_set_archived(*, package: Package, actor: Actor | User, archived: bool) -> Package:
    """Archive (no longer offered for sale; sold ones keep working) or restore a package."""
    with transaction.atomic():
        locked = Package.objects.select_for_update().get(pk=package.pk)
        if locked.is_archived != archived:
            locked.is_archived = archived
            locked.save(update_fields=["is_archived"])
            action = "package.archived" if archived else "package.restored"
            audit_write(practice=locked.practice, actor=actor, action=action, obj=locked)
    return locked


# --- selling, drawing and refunding -----------------------------------------------------


def package_sell(
    *, practice: Practice, client: Client, package: Package, actor: Actor | User, issue: bool = True
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


def package_refund_unused(*, purchase: PackagePurchase, actor: Actor | User, sessions: int, reason: str) -> Invoice:
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
