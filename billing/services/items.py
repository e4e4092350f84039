"""The billing items a session's status calls for: a completed session's items (or
package draws), a no-show's or late cancellation's fees; what one attendee of a session
is billed (its billing detail) and the re-pricing of their item when it changes; and an
insurance session billed to the client by hand.

billing owns these rows; appointments reaches the items of a status change only through
the hooks it offers (appointments.hooks), registered in BillingConfig.ready(). Lock
order: the appointment's row lock first, then items are written (see billing.locks).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from appointments.models import Appointment, Attendee, BillingDetail, Service
from appointments.services import CANCEL_INVOICED, lock_appointment
from clients.models import Client
from practice.actor import Actor
from practice.audit import audit_write
from practice.inputs import (
    PRICE_NEGATIVE,
    TAX_RANGE,
    UNITS_POSITIVE,
    billed_price_problem,
    line_problem,
    tax_problem,
    units_problem,
)
from practice.models import FeePolicy, TaxRate, User

from ..inputs import REASON_REQUIRED, check_figures, money_problem
from ..models import BillingItem, PackageDraw, PackagePurchase
from ..money import ZERO, line_amounts, quantize
from .packages import package_usable

INSURANCE_NOT_COMPLETED = "Only a completed appointment's session can be billed to the client."
INSURANCE_NOT_INSURANCE = "This service is not paid by insurance: change its billing details instead."
INSURANCE_NOT_ATTENDEE = "That client did not attend this appointment."
INSURANCE_ALREADY_BILLED = "This session already has a billing item for this client."
INSURANCE_PRICE_POSITIVE = "Enter the price the client pays, greater than zero."
DETAIL_INVOICED_NOTE = "The invoiced item keeps its amounts; change the invoice instead."


def _item_from_detail(appointment: Appointment, detail: BillingDetail, local_day: date) -> BillingItem:
    practice = appointment.practice
    figures = line_amounts(
        units=detail.units,
        unit_price=detail.unit_price,
        tax_percent=detail.tax_percent,
        currency=practice.currency,
        prices_include_tax=practice.prices_include_tax,
    )
    return BillingItem(
        practice=practice,
        client_id=detail.client_id,
        appointment=appointment,
        service_id=detail.service_id,
        kind=BillingItem.Kind.SESSION,
        date=local_day,
        description=detail.service.name,
        units=detail.units,
        unit_price=detail.unit_price,
        tax_percent=detail.tax_percent,
        net=figures.net,
        tax=figures.tax,
        amount=figures.gross,
        currency=practice.currency,
    )


def _fee_amount(appointment: Appointment, client_id: int, policy: str, flat_fee: Decimal) -> Decimal:
    """One attendee's fee. "Full service price" is the price list's price of every service
    of the appointment, whatever pays for the session: a missed session is not claimed
    from an insurer, so the client's co-pay (or nothing) is not what it cost."""
    if policy == FeePolicy.FLAT:
        return flat_fee
    if policy == FeePolicy.FULL:
        currency = appointment.practice.currency
        prices = Service.objects.filter(appointments=appointment).values_list("price", flat=True)
        return sum((quantize(price, currency) for price in prices), Decimal("0"))
    return Decimal("0")


def _fee_tax_percent(appointment: Appointment, policy: str) -> Decimal:
    """The tax rate of a fee: none when the practice's policy makes fees tax-free; for a
    full-price fee, the rate the appointment's services share (a tax-exempt service's fee
    is exempt too); otherwise (a flat fee, or services of different rates) the practice's
    default tax rate, the one new services get."""
    practice = appointment.practice
    if practice.fee_tax_free:
        return Decimal("0")
    if policy == FeePolicy.FULL:
        rates = {
            percent if percent is not None else Decimal("0")
            for percent in Service.objects.filter(appointments=appointment).values_list("tax_rate__percent", flat=True)
        }
        if len(rates) == 1:
            return rates.pop()
    default = TaxRate.objects.filter(practice=practice, is_default=True, is_archived=False).first()
    return default.percent if default is not None else Decimal("0")


def _fee_items(appointment: Appointment, kind: str, local_day: date) -> list[BillingItem]:
    practice = appointment.practice
    if kind == BillingItem.Kind.NO_SHOW_FEE:
        policy, flat = practice.no_show_policy, practice.no_show_fee
    else:
        policy, flat = practice.late_cancel_policy, practice.late_cancel_fee
    if policy == FeePolicy.NONE:
        return []
    tax_percent = _fee_tax_percent(appointment, policy)
    items = []
    for client_id in Attendee.objects.filter(appointment=appointment).values_list("client_id", flat=True):
        amount = quantize(_fee_amount(appointment, client_id, policy, flat), practice.currency)
        if amount <= 0:
            continue
        # A fee is priced like a session: with tax included (GST-style) or added, as the
        # practice's billing details say.
        figures = line_amounts(
            units=Decimal("1"),
            unit_price=amount,
            tax_percent=tax_percent,
            currency=practice.currency,
            prices_include_tax=practice.prices_include_tax,
        )
        items.append(
            BillingItem(
                practice=practice,
                client_id=client_id,
                appointment=appointment,
                kind=kind,
                date=local_day,
                description=BillingItem.Kind(kind).label,
                units=Decimal("1"),
                unit_price=amount,
                tax_percent=tax_percent,
                net=figures.net,
                tax=figures.tax,
                amount=figures.gross,
                currency=practice.currency,
            )
        )
    return items


def billing_items_sync_for_appointment(*, appointment: Appointment) -> list[BillingItem]:
    """Create whatever items (or package draws) the appointment's status calls for and are
    missing, and return the items created.

    appointments calls this (through appointments.hooks) inside its own transaction, with
    the appointment row locked. Never bills a session that has not happened.
    """
    local_day = timezone.localtime(appointment.start, appointment.practice.tzinfo).date()
    if appointment.status == Appointment.Status.COMPLETED:
        existing = set(
            BillingItem.objects.filter(appointment=appointment, kind=BillingItem.Kind.SESSION).values_list(
                "client_id", "service_id"
            )
        )
        existing |= set(PackageDraw.objects.filter(appointment=appointment).values_list("client_id", "service_id"))
        wanted = []
        for detail in BillingDetail.objects.filter(appointment=appointment).select_related("service"):
            if (detail.client_id, detail.service_id) in existing or detail.unit_price <= 0:
                # Billed already, or free for this client: nothing to bill or to draw.
                continue
            # A prepaid package of this service pays for the session instead of an item,
            # until it is used up or expired; then billing falls back to a normal item.
            purchase = package_usable(detail.client_id, detail.service_id, local_day)
            if purchase is not None:
                PackageDraw.objects.create(
                    purchase=purchase,
                    appointment=appointment,
                    client_id=detail.client_id,
                    service_id=detail.service_id,
                )
                PackagePurchase.objects.filter(pk=purchase.pk).update(sessions_used=F("sessions_used") + 1)
                continue
            wanted.append(_item_from_detail(appointment, detail, local_day))
    elif appointment.status == Appointment.Status.NO_SHOW:
        wanted = _fee_items(appointment, BillingItem.Kind.NO_SHOW_FEE, local_day)
    elif appointment.status == Appointment.Status.LATE_CANCELLED:
        wanted = _fee_items(appointment, BillingItem.Kind.LATE_CANCEL_FEE, local_day)
    else:
        return []
    if appointment.status != Appointment.Status.COMPLETED:
        existing_fees = set(BillingItem.objects.filter(appointment=appointment).values_list("client_id", "kind"))
        wanted = [i for i in wanted if (i.client_id, i.kind) not in existing_fees]
    # ignore_conflicts: the partial unique indexes are the final guard against a twin.
    BillingItem.objects.bulk_create(wanted, ignore_conflicts=True)
    return wanted


def billing_item_reprice_for_detail(*, appointment: Appointment, detail: BillingDetail, actor: Actor | User) -> None:
    """Carry a changed billing detail to its uninvoiced session item: re-price it, remove
    it at a price of 0 (audited), or create it when a completed session's price was 0.

    billing_detail_update calls this after saving the detail, in its transaction with the
    appointment and detail rows locked.
    """
    unit_price = detail.unit_price
    item = (
        BillingItem.objects.select_for_update()
        .filter(
            appointment=appointment,
            client_id=detail.client_id,
            service_id=detail.service_id,
            kind=BillingItem.Kind.SESSION,
            invoice__isnull=True,
        )
        .first()
    )
    if item is not None and unit_price == 0:
        audit_write(
            practice=appointment.practice,
            actor=actor,
            action="billing_item.removed",
            obj=item,
            changes={"amount": str(item.amount), "reason": "billing details set to a price of 0"},
        )
        item.delete()
    elif item is not None:
        local_day = item.date
        fresh = _item_from_detail(appointment, detail, local_day)
        for field in ("units", "unit_price", "tax_percent", "net", "tax", "amount"):
            setattr(item, field, getattr(fresh, field))
        item.save(update_fields=["units", "unit_price", "tax_percent", "net", "tax", "amount", "updated_at"])
    elif appointment.status == Appointment.Status.COMPLETED and unit_price > 0:
        # A detail raised from zero now bills, unless its item was already invoiced.
        billing_items_sync_for_appointment(appointment=appointment)


def _check_detail_figures(*, currency: str, units: Decimal, unit_price: Decimal, tax_percent: Decimal) -> None:
    # The columns (BillingDetail, BillingItem): units NUMERIC(8, 2), price NUMERIC(12, 3),
    # tax NUMERIC(7, 4), amounts NUMERIC(14, 3). A value they cannot hold exactly is refused
    # here (practice.inputs), never rounded by the database or left to fail the save.
    errors = {}
    if problem := UNITS_POSITIVE if units is None else units_problem(units):
        errors["units"] = problem
    if problem := PRICE_NEGATIVE if unit_price is None else billed_price_problem(unit_price, currency):
        errors["unit_price"] = problem
    if problem := TAX_RANGE if tax_percent is None else tax_problem(tax_percent):
        errors["tax_percent"] = problem
    if not errors and (problem := line_problem(units, unit_price, tax_percent)):
        errors["unit_price"] = problem
    if errors:
        raise ValidationError(errors)


def billing_detail_update(
    *,
    detail: BillingDetail,
    actor: Actor | User,
    units: Decimal,
    unit_price: Decimal,
    tax_percent: Decimal,
) -> BillingDetail:
    """Change what one attendee of a session is billed (its BillingDetail: units, price,
    tax); the change reaches their uninvoiced item only, an invoiced one keeps its amounts.

    A price of 0 bills nothing: the uninvoiced item goes (audited), as Generate items
    never creates a zero-price item, so both paths leave the same items."""
    currency = detail.appointment.practice.currency
    _check_detail_figures(currency=currency, units=units, unit_price=unit_price, tax_percent=tax_percent)
    with transaction.atomic():
        appointment = lock_appointment(detail.appointment)
        locked = BillingDetail.objects.select_for_update().get(pk=detail.pk)
        before = {"units": locked.units, "unit_price": locked.unit_price, "tax_percent": locked.tax_percent}
        if before == {"units": units, "unit_price": unit_price, "tax_percent": tax_percent}:
            # Saved as it was: nothing to change, nothing to audit.
            return locked
        locked.units, locked.unit_price, locked.tax_percent = units, unit_price, tax_percent
        locked.save(update_fields=["units", "unit_price", "tax_percent"])
        billing_item_reprice_for_detail(appointment=appointment, detail=locked, actor=actor)
        audit_write(
            practice=appointment.practice,
            actor=actor,
            action="billing_detail.changed",
            obj=appointment,
            changes={
                "client": locked.client_id,
                "service": locked.service_id,
                **{k: [str(v), str(getattr(locked, k))] for k, v in before.items() if v != getattr(locked, k)},
            },
        )
    return locked


def billing_items_release_for_appointment(*, appointment: Appointment, actor: Actor | User) -> None:
    """Before a cancel: refuse if any item is invoiced (a credit invoice undoes a billed
    session), else remove the uninvoiced items and give package sessions back, each audited.

    appointments calls this (through appointments.hooks) in its own transaction, with the
    appointment row locked.
    """
    items = list(BillingItem.objects.select_for_update().filter(appointment=appointment).order_by("pk"))
    if any(item.invoice_id for item in items):
        raise ValidationError(CANCEL_INVOICED)
    for item in items:
        audit_write(
            practice=appointment.practice,
            actor=actor,
            action="billing_item.removed",
            obj=item,
            changes={"amount": str(item.amount), "reason": "appointment cancelled"},
        )
    BillingItem.objects.filter(pk__in=[i.pk for i in items]).delete()
    # Sessions a package paid for go back to the package.
    for draw in PackageDraw.objects.select_related("purchase").filter(appointment=appointment).order_by("pk"):
        PackagePurchase.objects.filter(pk=draw.purchase_id).update(sessions_used=F("sessions_used") - 1)
        audit_write(
            practice=appointment.practice,
            actor=actor,
            action="package.session_returned",
            obj=draw.purchase,
            changes={"appointment": appointment.pk, "reason": "appointment cancelled"},
        )
        draw.delete()


# --- insurance sessions billed to the client ---------------------------------------------


def insurance_session_bill_client(
    *,
    appointment: Appointment,
    client: Client,
    service: Service,
    actor: Actor | User,
    unit_price: Decimal,
    reason: str,
    units: Decimal = Decimal("1"),
    tax_percent: Decimal | None = None,
) -> BillingItem:
    """Bill the client for an insurance session of a completed appointment (the insurer
    denied it, say). An insurance service makes no billing item, so this creates the
    session's item at the price entered; the item is the same one Generate items would
    make (one per appointment, client and service, a database constraint), so it is made
    at most once and Generate items never adds a twin."""
    practice = appointment.practice
    reason = (reason or "").strip()
    if client.practice_id != practice.pk or service.practice_id != practice.pk:
        raise ValidationError("That client or service does not belong to this practice.")
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    if unit_price is None or unit_price <= 0:
        raise ValidationError({"unit_price": INSURANCE_PRICE_POSITIVE})
    if tax_percent is None:
        tax_percent = service.tax_rate.percent if service.tax_rate_id and service.tax_rate else ZERO
    check_figures(units, unit_price, tax_percent, practice.currency)
    if problem := money_problem(unit_price, practice.currency):
        raise ValidationError({"unit_price": problem})
    with transaction.atomic():
        locked = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
        if locked.status != Appointment.Status.COMPLETED:
            raise ValidationError(INSURANCE_NOT_COMPLETED)
        if service.payment_type != Service.PaymentType.INSURANCE or not locked.services.filter(pk=service.pk).exists():
            raise ValidationError(INSURANCE_NOT_INSURANCE)
        if not locked.clients.filter(pk=client.pk).exists():
            raise ValidationError(INSURANCE_NOT_ATTENDEE)
        local_day = timezone.localtime(locked.start, practice.tzinfo).date()
        figures = line_amounts(
            units=units,
            unit_price=unit_price,
            tax_percent=tax_percent,
            currency=practice.currency,
            prices_include_tax=practice.prices_include_tax,
        )
        try:
            with transaction.atomic():
                item = BillingItem.objects.create(
                    practice=practice,
                    client=client,
                    appointment=locked,
                    service=service,
                    kind=BillingItem.Kind.SESSION,
                    date=local_day,
                    description=service.name,
                    units=units,
                    unit_price=unit_price,
                    tax_percent=tax_percent,
                    net=figures.net,
                    tax=figures.tax,
                    amount=figures.gross,
                    currency=practice.currency,
                )
        except IntegrityError as exc:
            raise ValidationError(INSURANCE_ALREADY_BILLED) from exc
        audit_write(
            practice=practice,
            actor=actor,
            action="billing_item.billed_to_client",
            obj=item,
            changes={
                "appointment": locked.pk,
                "client": client.pk,
                "service": service.name,
                "unit_price": str(unit_price),
                "amount": str(item.amount),
                "reason": reason[:255],
            },
        )
    return item
