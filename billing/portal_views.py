"""The client portal's billing pages: Billing (the portal's home) and Documents.

Every query goes through clients.portal.portal_scope: a signed-in client sees their own
invoices, a payer those of the clients they pay for; another client's id is a 404.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clients.portal import PortalRequest, portal_required


@require_GET
@portal_required
def billing_home(request: PortalRequest) -> HttpResponse:
    return render(request, "portal/placeholder.html", {"title": "Billing", "nav_active": "billing"})


@require_GET
@portal_required
def documents(request: PortalRequest) -> HttpResponse:
    return render(request, "portal/placeholder.html", {"title": "Documents", "nav_active": "documents"})
