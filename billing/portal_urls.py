"""The client portal's billing pages (mounted by clients.portal_urls in the ``portal``
namespace): Billing, the portal's home, an invoice's details, document and PDF, and
Documents."""

from django.urls import path

from . import portal_views
from .views import portal_documents

urlpatterns = [
    path("", portal_views.billing_home, name="home"),
    path("invoices/<int:invoice_id>/", portal_views.invoice_details, name="invoice"),
    path("invoices/<int:invoice_id>/view/", portal_views.invoice_view, name="invoice_view"),
    path("invoices/<int:invoice_id>/pdf/", portal_views.invoice_pdf, name="invoice_pdf"),
    path("documents/", portal_documents.documents, name="documents"),
    path("documents/receipts/<int:payment_id>/", portal_documents.receipt_pdf, name="receipt_pdf"),
    path("documents/statement/", portal_documents.statement_pdf, name="statement_pdf"),
    path("documents/superbill/", portal_documents.superbill_pdf, name="superbill_pdf"),
]
