from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def purl(context: dict[str, Any], name: str, **kwargs: Any) -> str:
    """``{% purl "clients:detail" client_id=3 %}``: a URL inside the current practice."""
    request = context["request"]
    return reverse(name, kwargs={"practice_slug": request.practice.slug, **kwargs})


@register.filter
def change_display(change: Any) -> str:
    """An audit change: ``[old, new]`` as "old → new", anything else as itself."""
    if isinstance(change, list | tuple) and len(change) == 2:
        old, new = ("—" if v in (None, "") else v for v in change)
        return f"{old} → {new}"
    return str(change)
