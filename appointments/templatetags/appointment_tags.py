from __future__ import annotations

from decimal import Decimal

from django import template

from billing.money import format_money

register = template.Library()


@register.simple_tag(takes_context=True)
def money(context: dict, amount: Decimal | None) -> str:
    """``{% money item.amount %}``: an amount in the current practice's currency."""
    practice = context["request"].practice
    if amount is None:
        return ""
    return format_money(amount, practice.currency, practice.locale.replace("-", "_") or "en_US")
