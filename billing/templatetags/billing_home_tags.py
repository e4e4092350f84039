"""Tags of the Billing page and the package pages (amounts use practice_tags' ``money`` filter)."""

from __future__ import annotations

from django import template

from billing.statuses import status_badge

register = template.Library()


@register.inclusion_tag("billing/_billing_home_badge.html")
def derived_badge(status: str) -> dict[str, str]:
    label, css = status_badge(status)
    return {"label": label, "css": css}
