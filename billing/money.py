"""Amounts of money: Decimal only, quantized to the currency's minor unit.

Rules (DESIGN.md, Money): tax is computed and rounded per line, half-up; totals are sums
of rounded lines; prices that include tax have the tax extracted per line the same way.
Amounts are stored with three decimal places so three-decimal currencies (KWD, BHD) fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The columns' places (NUMERIC(.., 3)): practice.inputs holds every column limit.
from practice.inputs import STORED_PLACES as STORED_PLACES

# Rounding and formatting live with the practice, the lowest layer, so every app shares them.
from practice.money import format_money as format_money
from practice.money import minor_units as minor_units
from practice.money import quantize as quantize
from practice.money import quantum as quantum
from practice.money import to_decimal as to_decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")

# Stripe's own minor units, which are not ISO 4217's (nor CLDR's, which says 0 for ALL,
# RSD, LAK, LBP, MMK, AFN, SOS, YER...): every currency is two-decimal in Stripe unless it
# is in Stripe's zero-decimal or three-decimal list
# (https://docs.stripe.com/currencies#zero-decimal, #three-decimal). ISK and UGX are
# Stripe's special cases: zero-decimal in ISO, sent as two-decimal amounts that must be
# divisible by 100. stripe_minor_units below is the only place that knows this.
STRIPE_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF", "XOF", "XPF"}
)
STRIPE_TWO_DECIMAL_ZERO_ISO = frozenset({"ISK", "UGX"})
STRIPE_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


@dataclass(frozen=True)
class LineAmounts:
    """One line's rounded figures. ``net + tax == gross`` always holds."""

    net: Decimal
    tax: Decimal
    gross: Decimal


def line_amounts(
    *,
    units: Decimal | int | str,
    unit_price: Decimal | int | str,
    tax_percent: Decimal | int | str,
    currency: str,
    prices_include_tax: bool = False,
) -> LineAmounts:
    """Figures of one line: units x price, then tax rounded on this line alone."""
    extended = quantize(to_decimal(units) * to_decimal(unit_price), currency)
    rate = to_decimal(tax_percent)
    if prices_include_tax:
        gross = extended
        tax = quantize(gross * rate / (HUNDRED + rate), currency)
        return LineAmounts(net=gross - tax, tax=tax, gross=gross)
    tax = quantize(extended * rate / HUNDRED, currency)
    return LineAmounts(net=extended, tax=tax, gross=extended + tax)


def stripe_minor_units(currency: str) -> int:
    """Decimal places of ``currency`` in Stripe's integer amounts, from Stripe's own tables
    (not Babel's): 0 for its zero-decimal list, 3 for its three-decimal list, else 2."""
    currency = currency.upper()
    if currency in STRIPE_ZERO_DECIMAL:
        return 0
    if currency in STRIPE_THREE_DECIMAL:
        return 3
    return 2


def to_stripe_amount(amount: Decimal, currency: str) -> int:
    """An amount in Stripe's integer minor units (USD 12.34 -> 1234, JPY 500 -> 500)."""
    places = stripe_minor_units(currency)
    exact = to_decimal(amount)
    # Refuse rather than round: a charge must be exactly the invoiced amount, and an
    # amount finer than the currency's minor unit means a total was not rounded per line.
    if exact != quantize(exact, currency):
        raise ValueError(f"{amount} {currency} has more precision than the currency allows")
    scaled = exact.scaleb(places)
    if scaled != scaled.to_integral_value():
        # Finer than Stripe's unit for this currency (where CLDR allows more places).
        raise ValueError(f"{amount} {currency} has more precision than Stripe allows")
    value = int(scaled)
    if currency.upper() in STRIPE_TWO_DECIMAL_ZERO_ISO and value % 100:
        # Stripe sends ISK and UGX as two-decimal amounts that must be whole units.
        raise ValueError(f"{amount} {currency} must be a whole number for Stripe")
    if currency.upper() in STRIPE_THREE_DECIMAL and value % 10:
        # Stripe requires three-decimal amounts to end in 0 (whole hundredths).
        raise ValueError(f"{amount} {currency} must be a whole number of hundredths for Stripe")
    return value


def from_stripe_amount(value: int, currency: str) -> Decimal:
    """An amount from Stripe's integer minor units (1234 USD -> 12.34, 50000 ISK -> 500)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("Stripe amounts are integers of minor units.")
    amount = Decimal(value).scaleb(-stripe_minor_units(currency))
    if amount != quantize(amount, currency):
        # e.g. an ISK amount not divisible by 100: never round money silently.
        raise ValueError(f"{value} is not a whole amount of {currency}")
    return quantize(amount, currency)
