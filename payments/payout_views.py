"""The Payouts reconciliation report (reports/payouts/): Stripe's payouts in a date range
matched to the app's payments, refunds and disputes, with Refresh from Stripe and Export
CSV. Owners, admins and billers only; a clinician gets the 403 page.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing import submission
from billing.hooks import Panel
from practice.access import BILLING_ROLES, require_role
from practice.csv_export import csv_response, wants_csv
from practice.types import PracticeRequest

from .forms import PayoutRangeForm
from .payout_report import CSV_HEADER, payout_report, payout_report_csv_rows
from .payouts import PAYOUTS_READ, PayoutsUnavailable, charges_account_for_payouts, payouts_sync


def _page(request: PracticeRequest, **period: date) -> str:
    url = reverse("payments:payouts_reconciliation", kwargs={"practice_slug": request.practice.slug})
    return f"{url}?{urlencode({k: v.isoformat() for k, v in period.items()})}" if period else url


@require_role(*BILLING_ROLES)
def payouts_reconciliation(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    practice = request.practice
    form = PayoutRangeForm(request.GET)
    start, end = form.period(practice.local_today())
    report = payout_report(practice, start, end)
    if wants_csv(request) and not form.errors:
        filename = f"payouts-{start.isoformat()}-to-{end.isoformat()}.csv"
        return csv_response(filename, CSV_HEADER, payout_report_csv_rows(practice, report))
    context = {
        "form": form,
        "report": report,
        "account": charges_account_for_payouts(practice),
        "csv_query": urlencode({"date_from": start.isoformat(), "date_to": end.isoformat(), "format": "csv"}),
    }
    return render(request, "payments/payouts_reconciliation.html", context, status=400 if form.errors else 200)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("payouts.refresh", back="payments:payouts_reconciliation")
def payouts_refresh(request: PracticeRequest) -> HttpResponse:
    """Refresh from Stripe: read the payouts made since the range's start, and the lines of
    those not read yet. Safe to repeat: nothing is written twice."""
    practice = request.practice
    form = PayoutRangeForm(request.POST)
    start, end = form.period(practice.local_today())
    try:
        synced = payouts_sync(practice=practice, since=start)
    except PayoutsUnavailable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, PAYOUTS_READ.format(count=synced.payouts, s="" if synced.payouts == 1 else "s"))
    return redirect(_page(request, date_from=start, date_to=end))


def payments_tab_links(request: object) -> Panel | None:
    """billing.hooks' Billing page notice, on the Payments tab only: where card payments
    are followed further (their payouts to the bank, every card charge)."""
    req: PracticeRequest = request  # type: ignore[assignment]
    match = getattr(req, "resolver_match", None)
    if match is None or match.view_name != "billing:payments" or req.membership.role not in BILLING_ROLES:
        return None
    return Panel("payments/_payments_tab_links.html", {})
