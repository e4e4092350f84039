"""Invoices, credit invoices and receipts as documents: content.py says what one reads
(from an invoice and the practice's invoice template), pdf.py renders it with WeasyPrint
from local files only. The markup is templates/billing/documents/, the look
static/css/documents.css, shared with the settings page's preview."""
