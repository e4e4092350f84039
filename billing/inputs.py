"""What billing reads from a form, and the limits of the columns it goes into.

Every billing form and service checks input here, so one rule decides each figure: an
amount, a unit price, units or a tax rate the columns could not hold exactly is refused
with the same message on every page and in every service (never rounded). Dates on
payments and invoice lines are held to the practice's window here too. The shapes a form
hands a service (LineInput, ItemAdjustment) live here as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

from appointments.models import Service
from practice.dates import record_date_problem
from practice.inputs import (
    LINE_TOO_LARGE,
    MAX_AMOUNT,
    MAX_UNITS,
    PRICE_NEGATIVE,
    STORED_PLACES,
    TAX_PLACES,
    TAX_RANGE,
    TAX_TOO_FINE,
    UNITS_PLACES,
    UNITS_POSITIVE,
    UNITS_TOO_FINE,
    UNITS_TOO_LARGE,
    currency_places,
    fits_currency,
    has_places,
    line_problem,
    tax_problem,
    units_problem,
)
from practice.models import Practice
from practice.numbers import DEFAULT_LOCALE, NumberError, parse_number

from .money import to_decimal

# The columns' limits and the checks every app shares (units, tax, a line's size, an
# amount's places) are practice.inputs'; billing's forms and services read them here.
__all__ = [
    "AMOUNT_POSITIVE",
    "AMOUNT_TOO_FINE",
    "AMOUNT_TOO_LARGE",
    "ENTER_AMOUNT",
    "LINE_TOO_LARGE",
    "MAX_AMOUNT",
    "MAX_UNITS",
    "PRICE_NEGATIVE",
    "PRICE_TOO_FINE",
    "REASON_REQUIRED",
    "STORED_PLACES",
    "TAX_PLACES",
    "TAX_RANGE",
    "TAX_TOO_FINE",
    "UNITS_PLACES",
    "UNITS_POSITIVE",
    "UNITS_TOO_FINE",
    "UNITS_TOO_LARGE",
    "ItemAdjustment",
    "LineInput",
    "check_figures",
    "currency_places",
    "fits_currency",
    "has_places",
    "invoice_date_problem",
    "line_problem",
    "money_problem",
    "parse_amount",
    "payment_date_problem",
    "price_problem",
    "tax_problem",
    "units_problem",
]

REASON_REQUIRED = "Give a reason."
AMOUNT_POSITIVE = "Enter an amount greater than zero."
ENTER_AMOUNT = "Enter an amount such as 120.00."
AMOUNT_TOO_LARGE = "Enter an amount less than 1,000,000,000."
AMOUNT_TOO_FINE = "Use at most {places} decimal places for {currency}."
PRICE_TOO_FINE = "A price can have at most 3 decimal places."


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


def parse_amount(raw: object, field_name: str = "amount", *, locale: str | None = DEFAULT_LOCALE) -> Decimal:
    """A Decimal from user input read in the practice's ``locale`` (practice.numbers.parse_number:
    "1,200.50" in en_US, "1.200,50" in de_DE), or a ValidationError naming the field.

    A misplaced group separator ("1,00", "1,5" in en_US), digits other than ASCII,
    exponent notation ("1e15"), infinities and NaN are refused, never guessed at."""
    try:
        return parse_number("" if raw is None else raw, locale)
    except NumberError:
        raise ValidationError({field_name: ENTER_AMOUNT}) from None


def money_problem(value: Decimal, currency: str) -> str | None:
    """Why ``value`` cannot be an amount of ``currency`` (None when it can): the columns
    hold less than 10**9, to the currency's minor unit."""
    value = to_decimal(value)
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        return AMOUNT_TOO_LARGE
    if not fits_currency(value, currency):
        return AMOUNT_TOO_FINE.format(currency=currency.upper(), places=currency_places(currency))
    return None


def price_problem(value: Decimal) -> str | None:
    """A unit price may be finer than the currency (33.335 x 3 is rounded as a line) but
    not than its column: at most 3 decimals, less than 10**9."""
    value = to_decimal(value)
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        return AMOUNT_TOO_LARGE
    if not has_places(value, STORED_PLACES):
        return PRICE_TOO_FINE
    return None


def check_figures(
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
