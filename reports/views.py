"""The Reports page and its four reports. Every role opens them: owners, admins and billers
see the practice (optionally one clinician's share of it), a clinician sees their own
sessions' share only (reports.selectors.common). Each report takes From, To and Clinician
from the query string and answers bad filters with messages and no figures (status 400).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse

from practice import hooks
from practice.access import ALL_ROLES, require_role
from practice.charts import bar_chart
from practice.csv_export import wants_csv
from practice.models import User
from practice.types import PracticeRequest

from . import exports, selectors
from .forms import Period, ReportFilterForm, presets
from .selectors import Scope, SqlRows

PAGE_SIZE = 50


@require_role(*ALL_ROLES)
def reports_home(request: PracticeRequest) -> HttpResponse:
    """The reports this member may open (the registry, practice.hooks.register_report)."""
    slug = request.practice.slug
    reports = [
        {
            "slug": report.slug,
            "label": report.label,
            "description": report.description,
            "url": reverse(report.url_name, kwargs={"practice_slug": slug}),
        }
        for report in hooks.reports_for(request.membership.role)
    ]
    return render(request, "reports/index.html", {"reports": reports})


def _form(request: PracticeRequest, *, default: Period, needs_range: bool) -> ReportFilterForm:
    return ReportFilterForm(request.GET, membership=request.membership, default=default, needs_range=needs_range)


def _preset_links(request: PracticeRequest, form: ReportFilterForm, *, with_all: bool) -> list[dict[str, Any]]:
    """The quick ranges as links that keep the other filters; the one in force is marked."""
    current = form.period if form.is_valid() else None
    links = []
    for key, label, period in presets(request.practice.local_today(), with_all=with_all):
        query = request.GET.copy()
        for name in ("page", "format"):
            query.pop(name, None)
        query["date_from"] = period.start.isoformat() if period.start else ""
        query["date_to"] = period.end.isoformat() if period.end else ""
        links.append({"key": key, "label": label, "query": query.urlencode(), "current": period == current})
    return links


def _whose(request: PracticeRequest, scope: Scope) -> str:
    """Whose figures the page shows, in words."""
    if not request.membership.sees_all_clients:
        return "Your sessions' share of each invoice"
    if scope.clinician_id is None:
        return "The whole practice"
    user = User.objects.filter(pk=scope.clinician_id).only("first_name", "last_name").first()
    return f"{user.get_full_name() if user else 'This clinician'}'s sessions' share of each invoice"


def _page(
    request: PracticeRequest,
    template: str,
    form: ReportFilterForm,
    *,
    slug: str,
    with_all: bool,
    figures: Callable[[Scope, Period], dict[str, Any]],
    csv: Callable[[Scope, Period], StreamingHttpResponse] | None = None,
) -> HttpResponse | StreamingHttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "slug": slug,
        "presets": _preset_links(request, form, with_all=with_all),
        "report": None,
        "today": request.practice.local_today(),
    }
    if not form.is_valid():
        # Nothing is summed for filters that do not make sense.
        return render(request, template, context, status=400)
    scope = Scope(practice=request.practice, clinician_id=form.clinician_id())
    if csv is not None and wants_csv(request):
        return csv(scope, form.period)
    context.update(
        period=form.period,
        scope=scope,
        whose=_whose(request, scope),
        **figures(scope, form.period),
    )
    return render(request, template, context)


# --- Aging ----------------------------------------------------------------------------------


@require_role(*ALL_ROLES)
def aging(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    """Open balances per client by age (days since the invoice's issue date)."""
    form = _form(request, default=Period(None, None), needs_range=False)

    def figures(scope: Scope, period: Period) -> dict[str, Any]:
        totals = selectors.aging_totals(scope, period)
        rows = SqlRows(totals.clients, partial(selectors.aging_rows, scope, period))
        chart = bar_chart(
            request.practice,
            chart_id="aging",
            series=[("owed", "Owed")],
            groups=[
                (label, {"owed": amount})
                for (_key, label), amount in zip(selectors.BUCKETS, totals.row.buckets(), strict=True)
            ],
            value_labels=True,
        )
        return {
            "report": totals,
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "buckets": list(zip(selectors.BUCKETS, totals.row.buckets(), strict=True)),
            "chart": chart,
        }

    return _page(
        request, "reports/aging.html", form, slug="aging", with_all=True, figures=figures, csv=exports.aging_csv
    )


# --- Revenue --------------------------------------------------------------------------------


def _last_12_months(today: date) -> Period:
    return next(period for key, _label, period in presets(today, with_all=False) if key == "last_12_months")


@require_role(*ALL_ROLES)
def revenue(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    """Invoiced against collected by month, service and clinician."""
    form = _form(request, default=_last_12_months(request.practice.local_today()), needs_range=True)

    def figures(scope: Scope, period: Period) -> dict[str, Any]:
        report = selectors.revenue_report(scope, period)
        chart = bar_chart(
            request.practice,
            chart_id="revenue",
            series=[("invoiced", "Invoiced"), ("collected", "Collected")],
            groups=[
                (f"{row.key:%b %y}", {"invoiced": row.invoiced, "collected": row.collected}) for row in report.months
            ],
        )
        return {"report": report, "chart": chart}

    def csv(scope: Scope, period: Period) -> StreamingHttpResponse:
        return exports.revenue_csv(scope, period, selectors.revenue_report(scope, period))

    return _page(request, "reports/revenue.html", form, slug="revenue", with_all=False, figures=figures, csv=csv)


# --- Payments -------------------------------------------------------------------------------


def _this_month(today: date) -> Period:
    return next(period for key, _label, period in presets(today, with_all=False) if key == "this_month")


@require_role(*ALL_ROLES)
def payments(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    """Received and refunded by method and by day, with Stripe's fees."""
    form = _form(request, default=_this_month(request.practice.local_today()), needs_range=True)

    def figures(scope: Scope, period: Period) -> dict[str, Any]:
        report = selectors.payments_report(scope, period)
        chart = bar_chart(
            request.practice,
            chart_id="payments",
            series=[("received", "Received"), ("refunded", "Refunded")],
            groups=[(row.label, {"received": row.received, "refunded": row.refunded}) for row in report.by_method],
            value_labels=len(report.by_method) <= 4,
        )
        return {"report": report, "chart": chart if report.by_method else None}

    def csv(scope: Scope, period: Period) -> StreamingHttpResponse:
        return exports.payments_csv(scope, period, selectors.payments_report(scope, period))

    return _page(request, "reports/payments.html", form, slug="payments", with_all=False, figures=figures, csv=csv)


# --- Outstanding balances and credits -------------------------------------------------------


@require_role(*ALL_ROLES)
def balances(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    """What each client owes, how much is overdue, and their credit."""
    form = _form(request, default=Period(None, None), needs_range=False)

    def figures(scope: Scope, period: Period) -> dict[str, Any]:
        totals = selectors.balance_totals(scope, period)
        rows = SqlRows(totals.clients, partial(selectors.balance_rows, scope, period))
        return {"report": totals, "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))}

    return _page(
        request,
        "reports/balances.html",
        form,
        slug="balances",
        with_all=True,
        figures=figures,
        csv=exports.balances_csv,
    )
