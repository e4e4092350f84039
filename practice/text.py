"""Checks on text that people type into single-line fields.

A name ends up in places where a line break does harm: an e-mail subject (Django refuses
a header with a line break, so a practice name with one silently stopped every
invitation), an invoice's bill-to line, a CSV export. Such fields refuse line breaks with
a field error instead of storing them.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

SINGLE_LINE = "Use a single line here, without line breaks."
# Every character Python's str.splitlines() breaks on, so nothing slips past as a "line".
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# RFC 5321 caps an address at 254 characters; the e-mail columns are 254 wide.
EMAIL_MAX_LENGTH = 254


def validate_single_line(value: object) -> None:
    if isinstance(value, str) and any(char in LINE_BREAKS for char in value):
        raise ValidationError(SINGLE_LINE, code="line_break")


def single_line_fields(form: forms.BaseForm, names: tuple[str, ...]) -> None:
    """Make ``names`` of ``form`` refuse line breaks (fields the form has; others are skipped)."""
    for name in names:
        field = form.fields.get(name)
        if field is not None and validate_single_line not in field.validators:
            field.validators.append(validate_single_line)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (line breaks included) as one space: for a
    header or a label built from a value stored before line breaks were refused."""
    return " ".join(text.split())
