"""Tags of the Billing page and the package pages (amounts use billing_tags' ``money`` filter)."""

from __future__ import annotations

from django import template

register = template.Library()

# Derived status -> (label a biller reads, badge class).
STATUS_BADGES = {
    "draft": ("Draft", ""),
    "open": ("Open", "badge-info"),
    "issued": ("Issued", "badge-info"),
    "partially_paid": ("Partially paid", "badge-warn"),
    "overdue": ("Overdue", "badge-bad"),
    "paid": ("Paid", "badge-ok"),
    "written_off": ("Written off", ""),
    "void": ("Void", ""),
    "succeeded": ("Succeeded", "badge-ok"),
    "pending": ("Pending", "badge-info"),
    "failed": ("Failed", "badge-bad"),
    "reversed": ("Reversed", ""),
    "refunded": ("Refunded", ""),
    "partially_refunded": ("Partially refunded", "badge-warn"),
}


@register.inclusion_tag("billing/billing_home_badge.html")
def derived_badge(status: str) -> dict[str, str]:
    label, css = STATUS_BADGES.get(status, (status.replace("_", " ").capitalize(), ""))
    return {"label": label, "css": css}
