"""One money formatter for every app: the practice's currency, written in its locale."""

from __future__ import annotations

from decimal import Decimal
from decimal import Decimal as D

from babel.numbers import format_currency
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from practice.models import Practice
from practice.money import _fast_formatter, format_money, practice_money, quantize


def test_given_a_practice_when_money_is_shown_then_its_currency_and_locale_are_used():
    practice = Practice(currency="EUR", locale="de_DE")
    assert practice_money(practice, D("1234.5")) == "1.234,50\xa0€"


def test_given_a_locale_written_with_a_hyphen_or_none_then_it_reads_as_babel_names_it():
    assert practice_money(Practice(currency="NZD", locale="en-NZ"), D("115")) == "$115.00"
    assert practice_money(Practice(currency="USD", locale=""), D("5")) == "$5.00"


def test_given_no_amount_then_nothing_is_shown():
    assert practice_money(Practice(currency="USD", locale="en_US"), None) == ""


def test_given_a_rows_own_currency_then_it_is_written_in_the_practices_locale():
    practice = Practice(currency="USD", locale="en_US")
    assert practice_money(practice, D("500"), currency="JPY") == "¥500"


def test_the_money_filter_is_available_to_every_template_and_agrees_with_the_formatter():
    practice = Practice(currency="GBP", locale="en_GB")
    rendered = Template("{{ amount|money:practice }}").render(Context({"amount": D("12.345"), "practice": practice}))
    assert rendered == practice_money(practice, D("12.345")) == "£12.35"


# --- the fast formatter writes what Babel writes ----------------------------------------

FAST_LOCALES = ["en_US", "en_NZ", "de_DE", "fr_FR", "sv_SE", "de_CH", "nl_NL", "ar_EG", "ja_JP", "es_ES", "pt_BR"]
CURRENCIES = ["USD", "NZD", "EUR", "JPY", "KWD", "CHF", "GBP"]


@given(
    amount=st.decimals(min_value=-(10**11), max_value=10**11, places=3, allow_nan=False, allow_infinity=False),
    locale=st.sampled_from(FAST_LOCALES),
    currency=st.sampled_from(CURRENCIES),
)
def test_money_is_written_as_babel_writes_it(amount: Decimal, locale: str, currency: str) -> None:
    value = quantize(amount, currency)
    assert format_money(amount, currency, locale) == format_currency(value, currency, locale=locale)


def test_common_locales_take_the_fast_way_and_odd_patterns_keep_babel() -> None:
    for locale in FAST_LOCALES:
        assert _fast_formatter("USD", locale) is not None, locale
    # Indian grouping (12,34,567.00) is not Python's; Babel writes it.
    assert _fast_formatter("INR", "en_IN") is None
    assert format_money(Decimal("1234567"), "INR", "en_IN") == "₹12,34,567.00"
    assert _fast_formatter("USD", "xx_NOPE") is None
    assert format_money(Decimal("-0.001"), "USD", "en_US") == "-$0.00"
