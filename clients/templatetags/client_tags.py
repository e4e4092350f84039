from __future__ import annotations

from django import template

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
def status_badge(status: str) -> str:
    """The badge class for a client or appointment status."""
    return STATUS_BADGES.get(status, "")
