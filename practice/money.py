"""Amounts of money as every app shows them: rounded to the currency's minor unit and
written in the practice's currency and locale.

The lowest layer holds this so that clients and appointments format money the same way
billing does without importing billing; billing.money re-exports these names and adds
line arithmetic and Stripe's units on top.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from babel.numbers import format_currency, get_currency_precision

from .numbers import normal_locale

if TYPE_CHECKING:
    from .models import Practice


@lru_cache(maxsize=256)
def minor_units(currency: str) -> int:
    """Decimal places of ``currency`` from Babel's CLDR data (USD 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency.upper()))


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass a Decimal, an int or a string.")
    return value if isinstance(value, Decimal) else Decimal(value)


def quantize(value: Decimal | int | str, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    return to_decimal(value).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str, locale: str = "en_US") -> str:
    return format_currency(quantize(amount, currency), currency, locale=locale)


def practice_money(practice: Practice, amount: Decimal | None, *, currency: str | None = None) -> str:
    """``amount`` in ``practice``'s currency (or ``currency``, a row's own) and locale, "" for no
    amount: the one way a page, a message or an error shows a practice's money."""
    if amount is None:
        return ""
    return format_money(amount, currency or practice.currency, normal_locale(practice.locale))
