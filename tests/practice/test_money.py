"""One money formatter for every app: the practice's currency, written in its locale."""

from __future__ import annotations

from decimal import Decimal as D

from django.template import Context, Template

from practice.models import Practice
from practice.money import practice_money


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
