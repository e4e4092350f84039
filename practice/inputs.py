"""The limits of the money and figure columns every app writes, and the one check of each.

Amounts and prices are NUMERIC(12..14, 3), units NUMERIC(8, 2), tax and co-pay percents
NUMERIC(7, 4) (billing.models, appointments.models). A value they cannot hold exactly is
refused with a field error, never rounded by the database. The lowest layer holds these
so that appointments (billing details) and billing (invoice lines, items, packages) apply
the same rule with the same words; billing.inputs re-exports them and adds its own.
"""

from __future__ import annotations

from decimal import Decimal

from .money import minor_units, to_decimal

# Every amount, price and line stays below 10**9 (the columns hold 10**11, and an
# invoice's totals are sums of up to 50 lines); units below 10**6.
MAX_AMOUNT = Decimal(10) ** 9
MAX_UNITS = Decimal(10) ** 6
STORED_PLACES = 3
UNITS_PLACES = 2
TAX_PLACES = 4

PRICE_NEGATIVE = "The price cannot be negative."
UNITS_POSITIVE = "Units must be more than 0."
UNITS_TOO_LARGE = "Units must be less than 1,000,000."
UNITS_TOO_FINE = "Units can have at most 2 decimal places."
TAX_RANGE = "Tax must be between 0 and 100 percent."
TAX_TOO_FINE = "Tax can have at most 4 decimal places."
LINE_TOO_LARGE = "Units x price comes to 1,000,000,000 or more, more than one line can hold. Split it."


def has_places(value: Decimal, places: int) -> bool:
    """``value`` needs no more than ``places`` decimals (call once its size is checked:
    quantizing a huge number raises)."""
    return value == value.quantize(Decimal(1).scaleb(-places))


def currency_places(currency: str) -> int:
    """The decimals an amount of ``currency`` may have: its minor unit, as far as the
    columns' three places go."""
    return min(minor_units(currency), STORED_PLACES)


def fits_currency(value: Decimal, currency: str) -> bool:
    """``value`` is a whole number of ``currency``'s minor units (as stored): the rule for
    every amount, and for a price a client is billed in whole minor units."""
    return has_places(to_decimal(value), currency_places(currency))


def units_problem(value: Decimal) -> str | None:
    """Units are more than 0, less than 10**6, with at most 2 decimals (the column's)."""
    value = to_decimal(value)
    if not value.is_finite() or value <= 0:
        return UNITS_POSITIVE
    if value >= MAX_UNITS:
        return UNITS_TOO_LARGE
    if not has_places(value, UNITS_PLACES):
        return UNITS_TOO_FINE
    return None


def tax_problem(value: Decimal) -> str | None:
    """A tax rate is 0 to 100 percent with at most 4 decimals (the column's)."""
    value = to_decimal(value)
    if not value.is_finite() or not (0 <= value <= 100):
        return TAX_RANGE
    if not has_places(value, TAX_PLACES):
        return TAX_TOO_FINE
    return None


def line_problem(units: Decimal, unit_price: Decimal, tax_percent: Decimal) -> str | None:
    """Why a line of valid units, price and tax cannot be stored (None when it can): its
    amount, tax included, must stay below 10**9 like every amount."""
    gross = abs(to_decimal(units) * to_decimal(unit_price)) * (1 + to_decimal(tax_percent) / 100)
    return LINE_TOO_LARGE if gross >= MAX_AMOUNT else None


PRICE_TOO_LARGE = "Enter a price less than 1,000,000,000."
PRICE_TOO_PRECISE = "Enter a price with at most {places} decimal places ({currency})."


def billed_price_problem(value: Decimal, currency: str) -> str | None:
    """Why ``value`` cannot be the price a client is billed per unit for a session (a
    billing detail, and so its item), None when it can: not negative, less than 10**9, in
    whole minor units of ``currency`` (a finer price would be rounded silently when billed)."""
    value = to_decimal(value)
    if value < 0:
        return PRICE_NEGATIVE
    if not value.is_finite() or value >= MAX_AMOUNT:
        return PRICE_TOO_LARGE
    if not fits_currency(value, currency):
        return PRICE_TOO_PRECISE.format(places=currency_places(currency), currency=currency)
    return None
