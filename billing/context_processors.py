"""The client portal's navigation: the red number of unpaid invoices next to Billing, on
every portal page (templates/portal/base.html), whichever app renders it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def portal_nav(request: HttpRequest) -> dict[str, Any]:
    if getattr(request, "portal", None) is None:
        return {}
    from .selectors.portal import portal_unpaid_count

    # request.portal is set only by clients.portal.portal_required: this is a PortalRequest.
    return {"portal_unpaid_count": portal_unpaid_count(request)}  # type: ignore[arg-type]
