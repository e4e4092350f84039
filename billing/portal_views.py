"""The client portal's billing pages: Billing (the portal's home), one invoice's details
(expanded in place by htmx, or a page of its own without JavaScript), the invoice as a
document, its PDF, and Documents.

Every query goes through billing.selectors.portal (clients.portal.portal_scope): a
signed-in client sees their own invoices, a payer those of the clients they pay for;
another client's id is a 404. Paying lives in payments (its panels arrive through
billing.hooks).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clients.portal import PortalRequest, portal_required
from practice import selectors as practice_selectors

from . import hooks
from .documents.content import Document, invoice_document
from .models import Invoice
from .selectors.portal import (
    portal_invoice_get,
    portal_invoice_rows,
    portal_owed,
    portal_status,
    portal_unpaid,
)


def _allow_payment_forms(response: HttpResponse) -> HttpResponse:
    """Let the page's forms be redirected to the hosted payment page (CSP form-action)."""
    if origins := hooks.portal_form_origins():
        response._csp_update = {"form-action": list(origins)}  # type: ignore[attr-defined]
    return response


def _document(request: PortalRequest, invoice: Invoice) -> Document:
    return invoice_document(invoice, practice_selectors.invoice_template_for(request.practice))


def _details_context(request: PortalRequest, invoice: Invoice) -> dict[str, object]:
    status, badge = portal_status(invoice)
    return {
        "invoice": invoice,
        "doc": _document(request, invoice),
        "status": status,
        "badge": badge,
        "panels": hooks.portal_invoice_panels_for(request, invoice),
    }


@require_GET
@portal_required
def billing_home(request: PortalRequest) -> HttpResponse:
    rows = portal_invoice_rows(request)
    open_invoices = list(portal_unpaid(request))
    context = {
        "rows": rows,
        "owed": portal_owed(rows),
        "unpaid_count": len(open_invoices),
        "panels": hooks.portal_billing_panels_for(request, open_invoices),
    }
    return _allow_payment_forms(render(request, "billing/portal/home.html", context))


@require_GET
@portal_required
def invoice_details(request: PortalRequest, invoice_id: int) -> HttpResponse:
    """An invoice's lines, payments, View, Download PDF and Make payment: the part a row of
    Billing expands to (htmx), or, without JavaScript, a page of its own."""
    invoice = portal_invoice_get(request, invoice_id)
    context = _details_context(request, invoice)
    if request.htmx:
        return _allow_payment_forms(render(request, "billing/portal/_invoice_details.html", context))
    return _allow_payment_forms(render(request, "billing/portal/invoice.html", context))


@require_GET
@portal_required
def invoice_view(request: PortalRequest, invoice_id: int) -> HttpResponse:
    """The invoice (or, once paid, the receipt) as a document, on screen."""
    invoice = portal_invoice_get(request, invoice_id)
    document = _document(request, invoice)
    logo_src = reverse("portal:logo") if document.logo_url else ""
    context = {"invoice": invoice, "doc": document, "logo_src": logo_src}
    return render(request, "billing/portal/invoice_view.html", context)


@require_GET
@portal_required
def invoice_pdf(request: PortalRequest, invoice_id: int) -> HttpResponse:
    # WeasyPrint is imported on the first PDF, not when every process starts.
    from .documents.pdf import document_pdf

    invoice = portal_invoice_get(request, invoice_id)
    document = _document(request, invoice)
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response
