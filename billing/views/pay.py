"""A payment link's pages, opened without signing in: the invoice and how to pay it, and
its PDF. A link we did not sign (tampered, cut short) is a 404 and an expired one a 410;
both pages say only that the link does not work, never which invoice it named."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from practice import selectors as practice_selectors

from ..documents.content import invoice_document
from ..hooks import pay_online_for
from ..models import Invoice
from ..payment_links import LinkExpired, LinkInvalid, payment_link_read
from ..selectors.sending import invoice_for_link

LINK_INVALID = "This payment link does not work. Check that it was copied whole, or ask for a new one."
LINK_EXPIRED = "This payment link has expired. Ask for a new one."


def _private(response: HttpResponse) -> HttpResponse:
    # The link is the key to the page: keep it out of caches, search engines and the
    # Referer of anything the page links to.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return _private(render(request, "billing/pay_link_refused.html", {"message": message}, status=status))


def _invoice_or_refusal(request: HttpRequest, token: str) -> Invoice | HttpResponse:
    try:
        target = payment_link_read(token)
    except LinkExpired:
        return _refused(request, LINK_EXPIRED, 410)
    except LinkInvalid:
        return _refused(request, LINK_INVALID, 404)
    invoice = invoice_for_link(target.practice_id, target.invoice_id)
    if invoice is None or invoice.status == Invoice.Status.DRAFT or invoice.is_credit:
        return _refused(request, LINK_INVALID, 404)
    return invoice


@require_GET
def pay_invoice(request: HttpRequest, token: str) -> HttpResponse:
    found = _invoice_or_refusal(request, token)
    if isinstance(found, HttpResponse):
        return found
    invoice = found
    document = invoice_document(invoice, practice_selectors.invoice_template_for(invoice.practice))
    pay_online = pay_online_for(invoice, token)
    context = {
        "invoice": invoice,
        "doc": document,
        "practice": invoice.practice,
        "void": invoice.status == Invoice.Status.VOID,
        "paid": invoice.status == Invoice.Status.PAID,
        "token": token,
        "pay_online": pay_online,
    }
    response = render(request, "billing/pay_invoice.html", context)
    if pay_online is not None and pay_online.form_origins:
        response._csp_update = {"form-action": list(pay_online.form_origins)}  # type: ignore[attr-defined]
    return _private(response)


@require_GET
def pay_invoice_pdf(request: HttpRequest, token: str) -> HttpResponse:
    from ..documents.attachments import invoice_pdf_for_link

    found = _invoice_or_refusal(request, token)
    if isinstance(found, HttpResponse):
        return found
    if found.status == Invoice.Status.VOID:
        return _refused(request, LINK_INVALID, 404)
    pdf, filename = invoice_pdf_for_link(found)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response)
