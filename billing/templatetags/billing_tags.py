from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html

from billing.statuses import BADGE_BY_LABEL
from billing.submission import FIELD, submission_key_new

register = template.Library()


@register.filter
def negate(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else -amount


@register.filter
def status_badge(display_status: str) -> str:
    """The badge class for an invoice's display status or a payment's status label."""
    return BADGE_BY_LABEL.get(display_status, "")


@register.filter
def plain_decimal(value: Decimal | None) -> str:
    """A Decimal for an input's value: no exponent, no trailing zeros past the cents."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    if "." in text and len(text.split(".")[1]) < 2:
        text = f"{Decimal(text):.2f}"
    return text


@register.simple_tag
def submission_key() -> str:
    """``{% submission_key %}`` inside a money form: its one-time key (billing/submission.py),
    fresh each time the form is shown."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, submission_key_new())
