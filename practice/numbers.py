"""Numbers as people type them: the one parser for every amount, price, units and tax field.

It lives in practice/ (the lowest layer) because Settings forms in appointments/ need it as
much as billing does. A number is read in the practice's locale with Babel in strict mode,
so grouping is accepted only where the locale puts it ("1,000.00" in en_US, "1.000,50" in
de_DE) and a misplaced separator is refused rather than guessed at ("1,00" is not 100.00
in en_US). Only ASCII digits are taken: Babel would read Arabic-Indic or full-width digits,
which a biller did not mean to type and a reviewer cannot read back. Exponents, infinities
and NaN are refused too: they slip past digit counts and reach the columns as numbers far
wider than they hold.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    parse_decimal,
)
from django import forms
from django.core.exceptions import ValidationError

DEFAULT_LOCALE = "en_US"
ENTER_NUMBER = "Enter a number such as {example}."
# Spaces people type for a space-grouping locale (fr_FR groups with a narrow no-break space).
SPACES = (" ", "\u00a0", "\u202f")


class NumberError(ValueError):
    """The text is not a number in the locale."""


@lru_cache(maxsize=64)
def normal_locale(locale: str | None) -> str:
    """``locale`` as Babel names it ("en-NZ" -> "en_NZ"); an unknown or empty one is en_US."""
    name = (locale or DEFAULT_LOCALE).replace("-", "_")
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return DEFAULT_LOCALE
    return name


@lru_cache(maxsize=64)
def _symbols(locale: str) -> tuple[str, str, str]:
    return get_decimal_symbol(locale), get_group_symbol(locale), get_minus_sign_symbol(locale)


def parse_number(raw: object, locale: str | None) -> Decimal:
    """A Decimal from what was typed, read in ``locale``; NumberError when it is not one."""
    name = normal_locale(locale)
    decimal_symbol, group_symbol, minus_symbol = _symbols(name)
    text = str(raw).strip()
    if group_symbol in SPACES:
        for space in SPACES:
            text = text.replace(space, group_symbol)
    negative = False
    if text[:1] in ("-", minus_symbol):
        negative, text = True, text[1:]
    elif text[:1] == "+":
        text = text[1:]
    allowed = set("0123456789") | {decimal_symbol, group_symbol}
    if not text or not any(c in "0123456789" for c in text) or any(c not in allowed for c in text):
        raise NumberError(raw)
    try:
        value = parse_decimal(text, locale=name, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise NumberError(raw) from None
    if not value.is_finite():
        raise NumberError(raw)
    return -value if negative else value


def format_number_input(value: Decimal, locale: str | None) -> str:
    """``value`` as an input shows it: the locale's decimal sign, no grouping, no trailing
    zeros beyond what it has ("1000.5" in en_US, "1000,5" in de_DE). parse_number reads it back."""
    decimal_symbol, _, _ = _symbols(normal_locale(locale))
    text = format(value, "f")
    return text.replace(".", decimal_symbol)


def number_signs(locale: str | None) -> tuple[str, str]:
    """The decimal and group signs of ``locale`` ("." and "," in en_US), for scripts that
    fill inputs the server then reads with parse_number."""
    decimal_symbol, group_symbol, _ = _symbols(normal_locale(locale))
    return decimal_symbol, group_symbol


def number_example(locale: str | None) -> str:
    return format_number_input(Decimal("120.00"), locale)


class LocalDecimalField(forms.DecimalField):
    """A DecimalField that reads and prints numbers in the practice's locale with
    parse_number. max_digits and decimal_places still apply as field errors: a value the
    column cannot hold exactly is refused, never rounded."""

    def __init__(
        self, *args: Any, locale: str | None = DEFAULT_LOCALE, invalid_message: str | None = None, **kwargs: Any
    ) -> None:
        self.locale = normal_locale(locale)
        self.invalid_message = invalid_message
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # No min/max/step: the input is text, and the browser must not reject "1.000,50".
        return {}

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # stubs type DecimalField as IntegerField's
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return parse_number(value, self.locale)
        except NumberError:
            message = self.invalid_message or ENTER_NUMBER.format(example=number_example(self.locale))
            raise ValidationError(message, code="invalid") from None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return format_number_input(value, self.locale)
        return value


def localise_decimal_fields(
    form: forms.BaseForm, names: tuple[str, ...] | list[str], locale: str | None, invalid_message: str | None = None
) -> None:
    """Swap ``names`` (Django DecimalFields, for instance from a ModelForm) for
    LocalDecimalFields that keep their label, help text, requirement, sizes and validators."""
    for name in names:
        old = form.fields.get(name)
        if old is None:
            continue
        new = LocalDecimalField(
            locale=locale,
            invalid_message=invalid_message,
            required=old.required,
            label=old.label,
            help_text=old.help_text,
            initial=old.initial,
            max_digits=getattr(old, "max_digits", None),
            decimal_places=getattr(old, "decimal_places", None),
        )
        new.validators = list(old.validators)
        new.disabled = old.disabled
        form.fields[name] = new


def set_form_locale(form: forms.BaseForm, locale: str | None) -> None:
    """Read and print every LocalDecimalField of ``form`` in ``locale`` (fields declared on
    the class are made before the practice is known)."""
    for field in form.fields.values():
        if isinstance(field, LocalDecimalField):
            field.locale = normal_locale(locale)
