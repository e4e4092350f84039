"""Documents of an invoice as files: the PDF of an invoice, a credit invoice or a
receipt (a paid invoice), in the practice's invoice template. Whoever may open the
invoice's page may download its PDF; another practice's invoice is the same 404."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from practice import selectors as practice_selectors
from practice.types import PracticeRequest

from ..documents.content import invoice_document
from .common import _invoice


@require_GET
def invoice_pdf(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    # WeasyPrint is imported on the first PDF, not when every process loads its URLs.
    from ..documents.pdf import document_pdf

    invoice = _invoice(request, invoice_id)
    document = invoice_document(invoice, practice_selectors.invoice_template_for(request.practice))
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    # An invoice changes (a payment makes it a receipt): never serve a stale copy.
    response["Cache-Control"] = "private, no-store"
    return response
