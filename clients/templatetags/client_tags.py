from __future__ import annotations

from typing import Any

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


@register.inclusion_tag("clients/_sort_header.html", takes_context=True)
def sort_header(context: dict[str, Any], key: str, label: str, css: str = "") -> dict[str, Any]:
    """A sortable column's header: a link that sorts by ``key`` (A to Z, or largest first
    for an amount), or the other way when the list is sorted by it already; and the
    ``aria-sort`` a screen reader announces. The link keeps the filters, drops the page."""
    current = context.get("sort", "name")
    ascending_first = key == "name"
    if current == key:
        state, next_sort = "ascending", f"-{key}"
    elif current == f"-{key}":
        state, next_sort = "descending", key
    else:
        state, next_sort = "", key if ascending_first else f"-{key}"
    params = context["request"].GET.copy()
    params.pop("page", None)
    params["sort"] = next_sort
    return {"label": label, "state": state, "href": f"?{params.urlencode()}", "css": css}


@register.filter
def column_value(client: Any, key: str) -> Any:
    """The value of a list column an app above clients annotated onto ``client``."""
    return getattr(client, key, None)
