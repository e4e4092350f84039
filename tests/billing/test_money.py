"""Money arithmetic: Decimal only, per-currency minor units, half-up, tax per line, Stripe units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.money import (
    LineAmounts,
    format_money,
    from_stripe_amount,
    line_amounts,
    minor_units,
    quantize,
    stripe_minor_units,
    to_stripe_amount,
)
from tests.billing.helpers import sum_lines

D = Decimal


@pytest.mark.parametrize(("currency", "places"), [("USD", 2), ("NZD", 2), ("JPY", 0), ("KWD", 3), ("ISK", 0)])
def test_minor_units_come_from_babel(currency, places):
    assert minor_units(currency) == places
    assert minor_units(currency.lower()) == places


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("12.345", "USD", "12.35"),
        ("2.675", "USD", "2.68"),  # a binary float would give 2.67
        ("0.005", "USD", "0.01"),
        ("0.004999", "USD", "0.00"),
        ("-0.125", "USD", "-0.13"),  # half away from zero
        ("0.5", "JPY", "1"),
        ("2.5", "JPY", "3"),  # not banker's rounding (which gives 2)
        ("1499.4", "JPY", "1499"),
        ("1.0005", "KWD", "1.001"),
        ("1.0004", "KWD", "1.000"),
        (7, "USD", "7.00"),
    ],
)
def test_quantize_rounds_half_up_to_the_currency(value, currency, expected):
    result = quantize(value, currency)
    assert result == D(expected)
    assert result.as_tuple().exponent == D(expected).as_tuple().exponent


@pytest.mark.parametrize(
    "call",
    [
        lambda: quantize(1.10, "USD"),
        lambda: line_amounts(units=1, unit_price=9.99, tax_percent=0, currency="USD"),
        lambda: line_amounts(units=1.5, unit_price="9.99", tax_percent=0, currency="USD"),
        lambda: line_amounts(units=1, unit_price="9.99", tax_percent=7.5, currency="USD"),
        lambda: to_stripe_amount(12.34, "USD"),
        lambda: from_stripe_amount(1234.0, "USD"),
    ],
)
def test_floats_are_refused(call):
    with pytest.raises(TypeError):
        call()


def test_tax_added_on_top_is_rounded_on_the_line():
    line = line_amounts(units=D("1"), unit_price=D("99.99"), tax_percent=D("8.25"), currency="USD")
    assert line == LineAmounts(net=D("99.99"), tax=D("8.25"), gross=D("108.24"))


def test_units_times_price_is_rounded_before_tax():
    line = line_amounts(units=D("1.5"), unit_price=D("33.333"), tax_percent=D("10"), currency="USD")
    # 1.5 x 33.333 = 49.9995 -> 50.00; tax 5.00
    assert line == LineAmounts(net=D("50.00"), tax=D("5.00"), gross=D("55.00"))


def test_gst_inclusive_price_has_its_tax_extracted():
    line = line_amounts(units=1, unit_price=D("115.00"), tax_percent=D("15"), currency="NZD", prices_include_tax=True)
    assert line == LineAmounts(net=D("100.00"), tax=D("15.00"), gross=D("115.00"))


def test_gst_extraction_rounds_half_up_per_line():
    line = line_amounts(units=1, unit_price=D("100.00"), tax_percent=D("15"), currency="NZD", prices_include_tax=True)
    # 100 x 15 / 115 = 13.0434... -> 13.04
    assert line == LineAmounts(net=D("86.96"), tax=D("13.04"), gross=D("100.00"))


def test_zero_tax_and_zero_price():
    assert line_amounts(units=2, unit_price="0", tax_percent="15", currency="USD") == LineAmounts(
        net=D("0.00"), tax=D("0.00"), gross=D("0.00")
    )
    assert line_amounts(units=2, unit_price="10", tax_percent="0", currency="JPY") == LineAmounts(
        net=D("20"), tax=D("0"), gross=D("20")
    )


def test_totals_are_sums_of_rounded_lines_not_tax_on_the_total():
    # Three lines of 1.10 at 7.5%: each line's tax is 0.0825 -> 0.08.
    lines = [line_amounts(units=1, unit_price="1.10", tax_percent="7.5", currency="USD") for _ in range(3)]

    total = sum_lines(lines)

    assert total == LineAmounts(net=D("3.30"), tax=D("0.24"), gross=D("3.54"))
    # Tax computed once on the total would have been 0.2475 -> 0.25: not what invoices show.
    assert quantize(D("3.30") * D("7.5") / 100, "USD") == D("0.25")


def test_sum_of_no_lines_is_zero():
    assert sum_lines([]) == LineAmounts(net=D("0"), tax=D("0"), gross=D("0"))


@pytest.mark.parametrize("include", [False, True])
@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD"])
def test_net_plus_tax_is_gross_for_awkward_figures(currency, include):
    for price, rate in [("0.01", "33.3333"), ("19.99", "12.5"), ("1234.567", "7.25"), ("3", "100")]:
        line = line_amounts(
            units="1.25", unit_price=price, tax_percent=rate, currency=currency, prices_include_tax=include
        )
        assert line.net + line.tax == line.gross
        assert line.gross == quantize(line.gross, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (D("12.34"), "USD", 1234),
        (D("12.340"), "USD", 1234),  # stored with three places
        (D("0.50"), "USD", 50),
        (D("500"), "JPY", 500),
        (D("1.230"), "KWD", 1230),
        (D("500"), "ISK", 50000),  # Stripe keeps ISK two-decimal, whole krónur only
        (D("115.00"), "NZD", 11500),
    ],
)
def test_to_and_from_stripe_amount(amount, currency, minor):
    assert to_stripe_amount(amount, currency) == minor
    assert to_stripe_amount(amount, currency.lower()) == minor
    assert from_stripe_amount(minor, currency) == quantize(amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (D("12.345"), "USD"),  # finer than a cent: never rounded silently into a charge
        (D("500.5"), "JPY"),
        (D("1.234"), "KWD"),  # Stripe wants three-decimal amounts to end in 0
        (D("500.50"), "ISK"),  # no fractional krónur
    ],
)
def test_to_stripe_amount_refuses_amounts_it_cannot_charge_exactly(amount, currency):
    with pytest.raises(ValueError):
        to_stripe_amount(amount, currency)


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        # CLDR (Babel) says 0 for these; Stripe treats them as two-decimal currencies.
        ("ALL", 2),
        ("RSD", 2),
        ("LAK", 2),
        ("LBP", 2),
        ("MMK", 2),
        ("AFN", 2),
        ("SOS", 2),
        ("YER", 2),
        ("USD", 2),
        # Stripe's zero-decimal list
        ("JPY", 0),
        ("KRW", 0),
        ("CLP", 0),
        ("VND", 0),
        ("XOF", 0),
        # Stripe's three-decimal list
        ("KWD", 3),
        ("BHD", 3),
        ("TND", 3),
        # Stripe's special cases: two-decimal amounts divisible by 100
        ("ISK", 2),
        ("UGX", 2),
    ],
)
def test_stripe_minor_units_follow_stripes_tables_not_cldr(currency, places):
    assert stripe_minor_units(currency) == places
    assert stripe_minor_units(currency.lower()) == places


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (D("1500"), "ALL", 150000),  # Babel gives ALL 0 places; Stripe wants 2
        (D("2500"), "RSD", 250000),
        (D("1500"), "JPY", 1500),
        (D("1.230"), "KWD", 1230),
        (D("1500"), "ISK", 150000),
        (D("20000"), "UGX", 2000000),
        (D("12.34"), "USD", 1234),
    ],
)
def test_given_a_currency_stripe_counts_differently_when_converted_then_stripe_gets_its_units(amount, currency, minor):
    assert to_stripe_amount(amount, currency) == minor
    assert from_stripe_amount(minor, currency) == quantize(amount, currency)


def test_ugx_from_stripe_must_be_whole_shillings():
    assert from_stripe_amount(2000000, "UGX") == D("20000")
    with pytest.raises(ValueError):
        from_stripe_amount(2000050, "UGX")


def test_from_stripe_amount_refuses_fractional_isk():
    assert from_stripe_amount(50000, "ISK") == D("500")
    with pytest.raises(ValueError):
        from_stripe_amount(50050, "ISK")


def test_from_stripe_amount_reads_three_decimal_currencies():
    assert from_stripe_amount(1230, "KWD") == D("1.230")
    assert from_stripe_amount(1234, "KWD") == D("1.234")


def test_from_stripe_amount_refuses_non_integers():
    with pytest.raises(TypeError):
        from_stripe_amount(True, "USD")
    with pytest.raises(TypeError):
        from_stripe_amount(D("1234"), "USD")


def test_format_money_uses_the_currency():
    assert format_money(D("1234.5"), "USD") == "$1,234.50"
    assert format_money(D("1234.5"), "JPY", locale="ja_JP") == "￥1,235"
    assert format_money(D("115"), "NZD", locale="en_NZ") == "$115.00"
