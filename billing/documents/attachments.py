"""The invoice PDF outside a staff page: as an email attachment (practice.mail calls
``invoice_pdf_attachment``, registered as "billing.invoice_pdf" in BillingConfig.ready, in
the worker when the email goes out, so the request that queued it never waits for
WeasyPrint) and from a payment link's Download PDF."""

from __future__ import annotations

from practice import selectors as practice_selectors

from ..models import Invoice
from ..selectors.sending import invoice_for_link
from .content import Document, invoice_document


def _document(invoice: Invoice) -> Document:
    return invoice_document(invoice, practice_selectors.invoice_template_for(invoice.practice))


def invoice_pdf_attachment(invoice_id: int) -> bytes:
    # WeasyPrint is imported on the first PDF, not when every process starts.
    from .pdf import document_pdf

    practice_id = Invoice.objects.values_list("practice_id", flat=True).get(pk=invoice_id)
    invoice = invoice_for_link(practice_id, invoice_id)
    assert invoice is not None  # just read by id
    return document_pdf(_document(invoice))


def invoice_pdf_for_link(invoice: Invoice) -> tuple[bytes, str]:
    """The PDF and its file name of an invoice read by ``invoice_for_link``."""
    from .pdf import document_pdf

    document = _document(invoice)
    return document_pdf(document), document.filename
