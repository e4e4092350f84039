"""The client portal's payment pages: Payment methods, AutoPay and paying online."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clients.portal import PortalRequest, portal_required


@require_GET
@portal_required
def payment_methods(request: PortalRequest) -> HttpResponse:
    return render(request, "portal/placeholder.html", {"title": "Payment methods", "nav_active": "payment_methods"})


@require_GET
@portal_required
def autopay(request: PortalRequest) -> HttpResponse:
    return render(request, "portal/placeholder.html", {"title": "AutoPay", "nav_active": "autopay"})
