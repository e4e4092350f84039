"""Amounts of money as every app shows them: rounded to the currency's minor unit and
written in the practice's currency and locale.

The lowest layer holds this so that clients and appointments format money the same way
billing does without importing billing; billing.money re-exports these names and adds
line arithmetic and Stripe's units on top.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)

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
    value = quantize(amount, currency)
    fast = _fast_formatter(currency, locale)
    return fast(value) if fast is not None else format_currency(value, currency, locale=locale)


# A list page shows a few hundred amounts; Babel's format_currency parses the locale's
# pattern on every call (about 20 us each). For the common shape of pattern (a prefix or
# suffix around digits grouped in threes) the same text comes from Python's own number
# formatting with the locale's symbols swapped in. Each such formatter is checked against
# Babel on a set of probe amounts before it is used, so a locale whose output differs in
# any way keeps Babel.
_PROBES = ("0", "-0.001", "0.5", "1", "-1", "12.345", "999.995", "1000", "-1234567.891", "1000000000", "-0.5")


@lru_cache(maxsize=512)
def _fast_formatter(currency: str, locale: str) -> Callable[[Decimal], str] | None:
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    pattern = parsed.currency_formats.get("standard")
    if pattern is None or pattern.grouping != (3, 3) or "¤¤" in pattern.pattern:
        return None
    digits = minor_units(currency)
    symbol = get_currency_symbol(currency.upper(), parsed)
    separators = str.maketrans({",": get_group_symbol(parsed), ".": get_decimal_symbol(parsed)})
    (pos_prefix, neg_prefix), (pos_suffix, neg_suffix) = pattern.prefix, pattern.suffix
    pos = (pos_prefix.replace("¤", symbol), pos_suffix.replace("¤", symbol))
    # Babel writes the pattern's own "-", not the locale's minus sign, in a currency.
    neg = (neg_prefix.replace("¤", symbol), neg_suffix.replace("¤", symbol))
    spec = f",.{digits}f"

    def fast(value: Decimal) -> str:
        prefix, suffix = neg if value.is_signed() else pos
        return f"{prefix}{format(abs(value), spec).translate(separators)}{suffix}"

    for probe in _PROBES:
        value = quantize(probe, currency)
        if fast(value) != format_currency(value, currency, locale=locale):
            return None
    return fast


def practice_money(practice: Practice, amount: Decimal | None, *, currency: str | None = None) -> str:
    """``amount`` in ``practice``'s currency (or ``currency``, a row's own) and locale, "" for no
    amount: the one way a page, a message or an error shows a practice's money."""
    if amount is None:
        return ""
    return format_money(amount, currency or practice.currency, normal_locale(practice.locale))
