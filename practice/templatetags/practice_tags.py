from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django import template

from practice.clock import practice_clock
from practice.dates import day_label
from practice.links import practice_url
from practice.models import Practice
from practice.money import practice_money

register = template.Library()


@register.simple_tag(takes_context=True)
def purl(context: dict[str, Any], name: str, **kwargs: Any) -> str:
    """``{% purl "clients:detail" client_id=3 %}``: a URL inside the current practice."""
    return practice_url(name, context["request"].practice.slug, **kwargs)


@register.filter
def clock(moment: time | datetime | None, practice: Practice) -> str:
    """``moment`` as the practice writes a time of day, in its time zone: "14:30" or
    "2:30 PM" (its locale's convention)."""
    return practice_clock(practice, moment)


@register.filter
def change_display(change: Any) -> str:
    """An audit change: ``[old, new]`` as "old → new", anything else as itself."""
    if isinstance(change, list | tuple) and len(change) == 2 and not any(isinstance(v, list | dict) for v in change):
        old, new = ("—" if v in (None, "") else v for v in change)
        return f"{old} → {new}"
    if isinstance(change, dict):
        return "; ".join(f"{key}: {change_display(value)}" for key, value in change.items())
    if isinstance(change, list | tuple):
        parts = [change_display(value) for value in change]
        # A list of records (invoice.edited's lines) reads one per bracket; plain values by commas.
        if any(isinstance(value, dict) for value in change):
            return " | ".join(parts) if parts else "none"
        return ", ".join(parts) if parts else "none"
    return "—" if change in (None, "") else str(change)


@register.filter
def audit_changes(changes: Any) -> list[tuple[str, str]]:
    """An audit row's changes as (field, words) pairs, made in Python: a template's
    ``changes.items`` would pick a change *named* "items" (invoice.created writes one)."""
    if not isinstance(changes, dict):
        return [("", change_display(changes))] if changes else []
    return [(str(field), change_display(change)) for field, change in changes.items()]


@register.simple_tag(takes_context=True)
def page_query(context: dict[str, Any], param: str, number: int) -> str:
    """The current query string with ``param`` set to ``number``: for a page holding more
    than one paginated list, each with its own parameter (``{% querystring %}`` takes
    only literal names)."""
    params = context["request"].GET.copy()
    params[param] = str(number)
    return params.urlencode()


@register.filter
def money(amount: Decimal | None, practice: Practice) -> str:
    """``{{ invoice.total|money:request.practice }}``: in the practice's currency and locale."""
    return practice_money(practice, amount)


@register.filter
def day(value: date | None) -> str:
    """``{{ invoice.issue_date|day }}``: "3 Nov 2026" (the same as ``date:"j M Y"``, made
    once per day and language; a datetime is shown in the current time zone)."""
    return day_label(value)


@register.filter
def field_error_links(form: Any) -> list[dict[str, str]]:
    """Each error of a visible field, with the id its error summary link points at."""
    return [
        {"id": field.id_for_label, "label": str(field.label), "message": str(message)}
        for field in form.visible_fields()
        for message in field.errors
    ]
