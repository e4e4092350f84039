from __future__ import annotations

from decimal import Decimal

from django import template

from billing.money import format_money
from practice.models import Practice

register = template.Library()

STATUS_BADGES = {
    "active": "badge-ok",
    "archived": "",
    "scheduled": "badge-info",
    "completed": "badge-ok",
    "no_show": "badge-bad",
    "cancelled": "",
    "late_cancelled": "badge-warn",
}


@register.filter
def client_money(amount: Decimal | None, practice: Practice) -> str:
    """``{{ item.amount|client_money:request.practice }}``: in the practice's currency and locale."""
    if amount is None:
        return ""
    return format_money(amount, practice.currency, practice.locale)


@register.filter
def status_badge(status: str) -> str:
    """The badge class for a client or appointment status."""
    return STATUS_BADGES.get(status, "")
