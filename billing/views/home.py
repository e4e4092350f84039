"""The Billing page (tabs Uninvoiced · Invoices · Payments · Credits) and "Invoice all
uninvoiced". Views parse, call a selector or a service, render. Owners, admins and billers
only: a clinician gets the 403 page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from practice.access import BILLING_ROLES, require_role
from practice.csv_export import wants_csv
from practice.forms import apply_service_errors
from practice.models import Practice
from practice.paging import CappedPaginator
from practice.types import PracticeRequest

from .. import hooks, selectors, submission
from ..forms import MANUAL_METHODS
from ..forms.home import BillingFilterForm, BulkInvoiceForm, InvoiceAllForm, last_month, last_week
from ..models import SubmissionKey
from ..money import ZERO
from ..selectors import uninvoiced_by_client, uninvoiced_client_count, uninvoiced_total
from ..selectors.sending import invoice_sends_failed
from ..services import BULK_ACTIONS, BulkOutcome, invoice_all_uninvoiced, invoices_act_in_bulk
from ..tasks import invoice_all_uninvoiced_task
from . import home_csv

PAGE_SIZE = 50
NOTHING_UNINVOICED = "There is nothing uninvoiced in that date range."
BULK_DONE = "{verb}: {count} invoice(s) ({numbers})."
BULK_REFUSED = "Not {verb}: {label}. {why}"
BULK_STILL_RUNNING = "The first click is still being recorded; the list shows each invoice as it is done."
# How long a repeated bulk submission waits for the first one's summary.
BULK_WAIT_SECONDS = 15.0
INVOICES_CREATED = "Created {count} invoice(s) for {clients} client(s)."
INVOICES_IN_BACKGROUND = (
    "The invoices are being created in the background. They will appear on the Invoices tab in a few minutes."
)
# Up to this many clients, Invoice all runs in the request (about 2 s per 100 clients);
# above it a Celery worker does it, well away from the web server's 30 s timeout.
INVOICE_ALL_INLINE_LIMIT = 100

TABS = [
    ("uninvoiced", "Uninvoiced", "billing:home"),
    ("invoices", "Invoices", "billing:invoices"),
    ("payments", "Payments", "billing:payments"),
    ("credits", "Credits", "billing:credits"),
]


def _tab(
    request: PracticeRequest,
    tab: str,
    *,
    rows: Any,
    form: BillingFilterForm,
    template: str,
    extra: dict[str, Any] | None = None,
    page_rows: Callable[[Page], list[Any]] | None = None,
    csv: Callable[[Practice, Any], StreamingHttpResponse] | None = None,
) -> HttpResponse | StreamingHttpResponse:
    practice = request.practice
    if csv is not None and wants_csv(request) and not form.errors:
        return csv(practice, rows)
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        # A tab whose rows need more than the page's objects (the Credits tab's trails).
        "page_rows": page_rows(page) if page_rows else None,
        "tab": tab,
        "tabs": TABS,
        "form": form,
        "page": page,
        "totals": selectors.billing_totals(practice),
        "tab_template": template,
        "filtered": any(v for k, v in form.data.items() if k != "page"),
        "failed_sends": invoice_sends_failed(practice),
        # What apps above billing need a biller to see (payments: card payments held for review).
        "billing_notices": hooks.billing_notices_for(request),
        **(extra or {}),
    }
    return render(request, "billing/billing_home.html", context, status=400 if form.errors else 200)


def _form(
    request: PracticeRequest, status_choices: list[tuple[str, str]] | None, search_label: str
) -> BillingFilterForm:
    return BillingFilterForm(
        request.GET,
        practice=request.practice,
        status_choices=status_choices,
        search_label=search_label,
    )


@require_role(*BILLING_ROLES)
def billing_home(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    """The Uninvoiced tab: clients with uninvoiced items, and the way to invoice them all."""
    practice = request.practice
    form = _form(request, None, "Client name")
    rows: QuerySet[Any] = selectors.uninvoiced_list(practice, **form.filters())
    extra = {"uninvoiced_total": uninvoiced_total(practice)}
    return _tab(
        request,
        "uninvoiced",
        rows=rows,
        form=form,
        template="billing/_billing_home_uninvoiced.html",
        extra=extra,
        csv=home_csv.uninvoiced_csv,
    )


# The Invoices tab's sortable columns (?sort=key, or -key for descending); ties newest first.
INVOICE_SORTS = {
    "number": ["sequence"],
    "client": ["client__last_name", "client__first_name"],
    "issued": ["issue_date"],
    "due": ["due_date"],
    "total": ["total"],
    "balance": ["balance"],
}


def _invoice_sort(raw: str) -> tuple[str, list[Any]]:
    key, descending = raw.removeprefix("-"), raw.startswith("-")
    if key not in INVOICE_SORTS:
        return "", []
    fields = [F(f).desc(nulls_last=True) if descending else F(f).asc(nulls_last=True) for f in INVOICE_SORTS[key]]
    return raw, [*fields, "-id"]


@require_role(*BILLING_ROLES)
def billing_invoices(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    practice = request.practice
    form = _form(request, selectors.INVOICE_STATUSES, "Invoice number or client")
    rows = selectors.invoice_list(practice, **form.filters())
    sort, order = _invoice_sort(request.GET.get("sort", ""))
    if order:
        rows = rows.order_by(*order)
    bulk = BulkInvoiceForm(practice=practice, limit=PAGE_SIZE, initial={"back": request.GET.urlencode()})
    extra = {"sort": sort, "bulk_form": bulk, "methods": MANUAL_METHODS}
    return _tab(
        request,
        "invoices",
        rows=rows,
        form=form,
        template="billing/_billing_home_invoices.html",
        extra=extra,
        csv=home_csv.invoices_csv,
    )


def _back_to_invoices(practice: Practice, raw: str) -> str:
    """The Invoices tab with the filters it was submitted from (re-encoded, so only a query
    string of our own ever reaches the redirect)."""
    query = QueryDict(raw[:2000]).copy()
    query.pop("page", None)
    base = _invoices_tab(practice)
    return f"{base}?{query.urlencode()}" if query else base


def _bulk_summary(request: PracticeRequest, outcome: BulkOutcome) -> None:
    verb = BULK_ACTIONS[outcome.action]
    if outcome.done:
        numbers = ", ".join(i.number or f"Draft {i.pk}" for i in outcome.done)
        messages.success(request, BULK_DONE.format(verb=verb, count=len(outcome.done), numbers=numbers))
    for label, why in outcome.refused:
        messages.error(request, BULK_REFUSED.format(verb=verb.lower(), label=label, why=why))


def _first_result(practice: Practice, key: str) -> tuple[str, str]:
    """The first submission's answer once it has one, waiting up to BULK_WAIT_SECONDS."""
    deadline = time.monotonic() + BULK_WAIT_SECONDS
    while True:
        row = SubmissionKey.objects.filter(practice=practice, key=key).values_list("result_url", "result_message")
        result_url, result_message = row.first() or ("", "")
        if result_url or time.monotonic() >= deadline:
            return result_url, result_message
        time.sleep(0.2)


@require_POST
@require_role(*BILLING_ROLES)
def billing_invoices_bulk(request: PracticeRequest) -> HttpResponse:
    """Issue, mark as paid or void the ticked invoices, each in its own transaction.

    The one-time key is claimed in a transaction of its own before any invoice is touched
    (not around the whole run, which would make every invoice wait for the last): a second
    click finds it and is told the first was recorded, and acts on nothing."""
    practice = request.practice
    form = BulkInvoiceForm(request.POST, practice=practice, limit=PAGE_SIZE)
    back = _back_to_invoices(practice, request.POST.get("back", ""))
    key = submission.submission_key_of(request)
    if key is None:
        messages.error(request, submission.PAGE_OUT_OF_DATE)
        return redirect(back)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            claim = submission.submission_claim(
                practice=practice, key=key, action=f"invoice.bulk_{data['action']}", actor=request.user
            )
    except submission.AlreadySubmitted as first:
        result_url, result_message = first.result_url, first.result_message
        if not result_url:
            # A double click: the first request claimed the key and is still working through
            # the invoices. Wait for its summary rather than answer with nothing.
            result_url, result_message = _first_result(practice, key)
        messages.info(request, submission.ALREADY_RECORDED)
        if result_url:
            submission.replay(request, result_message)
        else:
            messages.info(request, BULK_STILL_RUNNING)
        return redirect(result_url or back)
    outcome = invoices_act_in_bulk(
        practice=practice,
        membership=request.membership,
        actor=request.user,
        action=data["action"],
        invoice_ids=data["invoice"],
        method=data.get("method") or "",
        received_on=data.get("received_on"),
        reason=(data.get("reason") or "").strip(),
    )
    _bulk_summary(request, outcome)
    claim.result_url, claim.result_message = back[:500], submission.stored_messages(request)
    claim.save(update_fields=["result_url", "result_message"])
    return redirect(back)


@require_role(*BILLING_ROLES)
def billing_payments(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    practice = request.practice
    form = _form(request, selectors.PAYMENT_STATUSES, "Reference or client")
    rows = selectors.payment_list(practice, **form.filters())
    return _tab(
        request,
        "payments",
        rows=rows,
        form=form,
        template="billing/_billing_home_payments.html",
        # Online payments' processor details (ids, status, fee), for the whole page at once.
        page_rows=lambda page: hooks.payment_rows(practice, list(page.object_list)),
        csv=home_csv.payments_csv,
    )


@require_role(*BILLING_ROLES)
def billing_credits(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    """Every credit (credit invoices and overpayments) and the invoices it paid."""
    practice = request.practice
    form = _form(request, selectors.CREDIT_STATUSES, "Credit number, reference or client")
    rows = selectors.credit_rows(practice, **form.filters())
    return _tab(
        request,
        "credits",
        rows=rows,
        form=form,
        template="billing/_billing_home_credits.html",
        page_rows=lambda page: selectors.credits_page_rows(practice, page),
        csv=home_csv.credits_csv,
    )


# --- Invoice all uninvoiced -----------------------------------------------------------------


def _invoices_tab(practice: Practice) -> str:
    return reverse("billing:invoices", kwargs={"practice_slug": practice.slug})


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
@submission.once("invoice_all")
def invoice_all(request: PracticeRequest) -> HttpResponse:
    """Choose a range (GET shows the preview), confirm (POST creates one invoice per client).

    The preview is what the range holds now; the confirm invoices what it holds then, one
    transaction per client, so a client invoiced by someone else meanwhile is skipped and
    the summary lists what was really created.
    """
    practice = request.practice
    today = practice.local_today()
    picks = [("Last week", *last_week(today)), ("Last month", *last_month(today))]
    context: dict[str, Any] = {}
    if request.method == "POST":
        form = InvoiceAllForm(request.POST)
        if form.is_valid():
            start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
            if uninvoiced_client_count(practice, start, end) > INVOICE_ALL_INLINE_LIMIT:
                # Too many for one request (gunicorn's timeout): a worker does it, one
                # transaction per client as here, once this request has committed.
                apply_credit = form.cleaned_data["apply_credit"]
                args = (practice.pk, request.user.pk, start.isoformat(), end.isoformat(), form.issue, apply_credit)
                transaction.on_commit(lambda: invoice_all_uninvoiced_task.delay(*args))
                messages.info(request, INVOICES_IN_BACKGROUND)
                submission.keep(request, _invoices_tab(practice), INVOICES_IN_BACKGROUND, messages.INFO)
                context.update({"background": True, "date_from": start, "date_to": end})
                return render(request, "billing/billing_home_invoice_all_done.html", context)
            try:
                invoices = invoice_all_uninvoiced(
                    practice=practice,
                    actor=request.user,
                    date_from=start,
                    date_to=end,
                    issue=form.issue,
                    apply_credit=form.cleaned_data["apply_credit"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                done = INVOICES_CREATED.format(count=len(invoices), clients=len(invoices)) if invoices else ""
                if done:
                    messages.success(request, done)
                submission.keep(request, _invoices_tab(practice), done)
                context.update(
                    {
                        "invoices": invoices,
                        "grand_total": sum((i.total for i in invoices), ZERO),
                        "date_from": start,
                        "date_to": end,
                        "issued": form.issue,
                    }
                )
                return render(request, "billing/billing_home_invoice_all_done.html", context)
        context.update({"form": form, "rows": None, "picks": picks})
        return render(request, "billing/billing_home_invoice_all.html", context, status=400)

    bound = "date_from" in request.GET or "date_to" in request.GET
    if bound:
        # The preview's confirm form shows the mode radios: preselect Issue, as the form's
        # initial does (a bound form ignores initial, leaving neither option chosen).
        data = request.GET.copy()
        data.setdefault("mode", InvoiceAllForm.ISSUE)
        # Likewise the credit checkbox is ticked unless the biller unticks it on the confirm.
        data.setdefault("apply_credit", "on")
        form = InvoiceAllForm(data)
    else:
        start, end = last_week(today)
        form = InvoiceAllForm(initial={"date_from": start, "date_to": end, "mode": InvoiceAllForm.ISSUE})
    rows = None
    if bound and form.is_valid():
        rows = uninvoiced_by_client(practice, form.cleaned_data["date_from"], form.cleaned_data["date_to"])
        context.update(
            {
                "grand_total": sum((r.total for r in rows), ZERO),
                "item_total": sum(r.item_count for r in rows),
                "nothing": NOTHING_UNINVOICED,
            }
        )
    context.update({"form": form, "rows": rows, "picks": picks})
    return render(request, "billing/billing_home_invoice_all.html", context, status=400 if form.errors else 200)
