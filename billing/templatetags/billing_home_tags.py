"""Tags of the Billing page and the package pages (amounts use practice_tags' ``money`` filter)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from billing.statuses import status_badge

register = template.Library()


@register.simple_tag
def derived_badge(status: str) -> SafeString:
    """A status badge. Built in Python, not from a template: the Billing tabs show one on
    each of their 50 rows, and a template rendered per row was a fifth of the page's time."""
    label, css = status_badge(status)
    if css:
        return format_html('<span class="badge {}">{}</span>', css, label)
    return format_html('<span class="badge">{}</span>', label)
