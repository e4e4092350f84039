"""What one attendee of a session is billed: the edit of a BillingDetail row (units, price,
tax), which reaches that attendee's uninvoiced item only."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from practice.audit import audit_write

# The billing detail's figures obey the columns' rules, in the words billing uses; the
# messages stay importable from here (``X as X``: re-exported).
from practice.inputs import LINE_TOO_LARGE as LINE_TOO_LARGE
from practice.inputs import PRICE_NEGATIVE as PRICE_NEGATIVE
from practice.inputs import PRICE_TOO_LARGE as PRICE_TOO_LARGE
from practice.inputs import PRICE_TOO_PRECISE as PRICE_TOO_PRECISE
from practice.inputs import TAX_RANGE as TAX_RANGE
from practice.inputs import TAX_TOO_FINE as TAX_TOO_FINE
from practice.inputs import UNITS_POSITIVE as UNITS_POSITIVE
from practice.inputs import UNITS_TOO_FINE as UNITS_TOO_FINE
from practice.inputs import UNITS_TOO_LARGE as UNITS_TOO_LARGE
from practice.inputs import billed_price_problem, line_problem, tax_problem, units_problem
from practice.models import User

from .. import hooks
from ..models import BillingDetail
from .appointments import lock_appointment

DETAIL_INVOICED_NOTE = "The invoiced item keeps its amounts; change the invoice instead."
PRICE_NOT_NEGATIVE = PRICE_NEGATIVE


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
    actor: User,
    units: Decimal,
    unit_price: Decimal,
    tax_percent: Decimal,
) -> BillingDetail:
    """Change what one attendee is billed; the change reaches their uninvoiced item only.

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
        hooks.billing_detail_changed(appointment=appointment, detail=locked, actor=actor)
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
