"""The client portal's Documents page: a receipt for each payment, a statement for a
chosen period and a superbill, each downloaded as a PDF.

Everything is read for the clients of the portal session (clients.portal): the signed-in
client, or every client a payer pays for. A receipt of anyone else's payment, in this
practice or another, is a 404 like one that does not exist; a statement or superbill of
anyone else is refused by the form, whose only choices are the session's clients. Periods
are the practice's local days, checked as the staff pages check them.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clients.portal import PortalRequest, portal_client_ids, portal_required
from practice import selectors as practice_selectors

from .. import selectors
from ..documents.receipt import payment_receipt
from ..documents.statement import client_statement
from ..documents.superbill import client_superbill
from ..forms.statements import PortalPeriodForm
from .statements import _pdf_response

KINDS = ("statement", "superbill")


def _period_form(request: PortalRequest, kind: str, data: Any = None) -> PortalPeriodForm:
    clients = [(c.pk, c.display_name) for c in request.portal_clients]
    return PortalPeriodForm(data, today=request.practice.local_today(), clients=clients, auto_id=f"{kind}-%s")


def _page(request: PortalRequest, forms: dict[str, PortalPeriodForm], status: int = 200) -> HttpResponse:
    receipts = selectors.portal_receipts_page(request.practice, portal_client_ids(request), request.GET.get("page"))
    context = {
        "title": "Documents",
        "receipts": receipts,
        "several": len(request.portal_clients) > 1,
        "statement_form": forms.get("statement") or _period_form(request, "statement"),
        "superbill_form": forms.get("superbill") or _period_form(request, "superbill"),
    }
    return render(request, "billing/portal/documents.html", context, status=status)


@require_GET
@portal_required
def documents(request: PortalRequest) -> HttpResponse:
    return _page(request, {})


@require_GET
@portal_required
def receipt_pdf(request: PortalRequest, payment_id: int) -> HttpResponse:
    # WeasyPrint is imported on the first PDF, not when every process loads its URLs.
    from ..documents.pdf import page_pdf

    practice = request.practice
    payment = selectors.portal_receipt_payment(practice, portal_client_ids(request), payment_id)
    doc = payment_receipt(practice, payment, practice_selectors.invoice_template_for(practice))
    return _pdf_response(page_pdf("billing/documents/payment_receipt.html", {"doc": doc}), doc.filename)


def _period_pdf(request: PortalRequest, kind: str) -> HttpResponse:
    from ..documents.pdf import page_pdf

    form = _period_form(request, kind, request.GET)
    if not form.is_valid():
        return _page(request, {kind: form}, status=400)
    practice = request.practice
    client = next(c for c in request.portal_clients if c.pk == form.chosen_client())
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    look = practice_selectors.invoice_template_for(practice)
    if kind == "statement":
        statement = client_statement(practice, client, start, end, look)
        return _pdf_response(page_pdf("billing/documents/statement.html", {"doc": statement}), statement.filename)
    superbill = client_superbill(practice, client, start, end, look)
    return _pdf_response(page_pdf("billing/documents/superbill.html", {"doc": superbill}), superbill.filename)


@require_GET
@portal_required
def statement_pdf(request: PortalRequest) -> HttpResponse:
    return _period_pdf(request, "statement")


@require_GET
@portal_required
def superbill_pdf(request: PortalRequest) -> HttpResponse:
    return _period_pdf(request, "superbill")
