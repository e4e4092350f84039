"""Card charges: every charge of a saved card (Pay now, AutoPay, the portal's), filtered by
outcome or AutoPay night, and the card payments held for review. It is the list behind the
dashboard's AutoPay and "needing attention" figures. Owners, admins and billers only.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from billing.models import Invoice
from practice.access import BILLING_ROLES, require_role
from practice.paging import CappedPaginator
from practice.types import PracticeRequest

from . import selectors
from .forms import CardChargeFilterForm
from .models import CardChargeAttempt, CheckoutAttempt

PAGE_SIZE = 50
# How a charge was started, as the list words it.
SOURCE_AUTOPAY = "AutoPay"
SOURCE_PORTAL = "The client, in the portal"


def _source(attempt: CardChargeAttempt) -> str:
    if attempt.on_session:
        return SOURCE_PORTAL
    if selectors.is_autopay(attempt):
        return SOURCE_AUTOPAY
    return f"Pay now by {attempt.created_by.get_full_name()}" if attempt.created_by else "Pay now"


@require_role(*BILLING_ROLES)
def card_charges(request: PracticeRequest) -> HttpResponse:
    """Three lists in one page, as the filters ask: the card payments held for review, a
    night's AutoPay rows (with the card charge each made), or every card charge."""
    practice = request.practice
    form = CardChargeFilterForm(request.GET)
    filters = form.filters()
    status, night = filters["status"], filters["autopay_night"]
    shows = "held" if status == selectors.HELD else "autopay" if night is not None else "charges"
    rows: Any
    if shows == "held":
        rows = selectors.held_checkout_payments(practice).select_related("client")
    elif shows == "autopay":
        rows = selectors.autopay_night_list(practice, night, status=status)
    else:
        rows = selectors.card_charge_list(practice, status=status)
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    if shows == "held":
        # The held attempts keep billing's invoice id only: their numbers in one query.
        attempts: list[CheckoutAttempt] = list(page.object_list)
        numbers = dict(
            Invoice.objects.filter(practice=practice, pk__in={a.invoice_id for a in attempts}).values_list(
                "pk", "number"
            )
        )
        page_rows: list[Any] = [(a, numbers.get(a.invoice_id) or "") for a in attempts]
    elif shows == "autopay":
        page_rows = list(page.object_list)
    else:
        page_rows = [(a, _source(a)) for a in page.object_list]
    context = {
        "form": form,
        "page": page,
        "page_rows": page_rows,
        "shows": shows,
        "night": night,
        "filtered": any(v for k, v in form.data.items() if k != "page"),
    }
    return render(request, "payments/card_charges.html", context, status=400 if form.errors else 200)
