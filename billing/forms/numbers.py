"""Numbers typed into billing's forms: read in the practice's locale by the one parser
(practice.numbers, through billing.inputs.parse_amount) and shown so they parse back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from practice.numbers import DEFAULT_LOCALE, LocalDecimalField, format_number_input

from ..inputs import ENTER_AMOUNT, parse_amount


def read_decimal(raw: str, name: str, locale: str | None = DEFAULT_LOCALE) -> Decimal:
    """billing.inputs.parse_amount, with its error as a plain field error (forms attach it to the field)."""
    try:
        return parse_amount(raw, name, locale=locale)
    except ValidationError:
        raise ValidationError(ENTER_AMOUNT) from None


class PlainDecimalField(LocalDecimalField):
    """A number field read in the practice's locale by the one parser (practice.numbers):
    "1e10" and a misplaced "1,00" are refused, as the service's parse_amount does. The
    form sets the locale (set_form_locale); sizes and places are checked against the
    practice's currency in the form's clean()."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_message", ENTER_AMOUNT)
        super().__init__(*args, **kwargs)


def plain(value: Decimal, locale: str | None = DEFAULT_LOCALE) -> str:
    """``value`` as an input shows it in ``locale``, so that it parses back unchanged."""
    return format_number_input(value.normalize(), locale)
