from django.urls import include, path

from .views import (
    appointments,
    documents,
    exports,
    home,
    invoice_creation,
    invoice_template,
    invoices,
    packages,
    payments,
    refunds,
    reminders,
    search,
    sending,
    settings,
    statements,
)

app_name = "billing"

# practice.urls includes this at the practice's root: most pages are under billing/, the
# settings pages under settings/ beside the practice's own, and a session's billing
# detail under its appointment.
billing_patterns = [
    path("invoices/new/", invoices.invoice_new, name="invoice_new"),
    path("invoices/new/items/", invoices.invoice_new_items, name="invoice_new_items"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail, name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", documents.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/edit/", invoices.invoice_edit, name="invoice_edit"),
    path("invoices/<int:invoice_id>/issue/", invoices.invoice_issue, name="invoice_issue"),
    path("invoices/<int:invoice_id>/delete/", invoices.invoice_delete, name="invoice_delete"),
    path("invoices/<int:invoice_id>/void/", invoices.invoice_void, name="invoice_void"),
    path("invoices/<int:invoice_id>/apply-credit/", invoices.invoice_apply_credit, name="invoice_apply_credit"),
    path("invoices/<int:invoice_id>/mark-paid/", invoices.invoice_mark_paid, name="invoice_mark_paid"),
    path("invoices/<int:invoice_id>/send/", sending.invoice_send, name="invoice_send"),
    path("invoices/<int:invoice_id>/send-link/", sending.invoice_send_link, name="invoice_send_link"),
    path("invoices/<int:invoice_id>/send-retry/", sending.invoice_send_retry, name="invoice_send_retry"),
    path("invoices/<int:invoice_id>/send-reminder/", reminders.invoice_send_reminder, name="invoice_send_reminder"),
    path("search/", search.search, name="search"),
    path("payments/new/", payments.payment_new, name="payment_new"),
    path("payments/new/client/", payments.payment_client_pick, name="payment_client_pick"),
    path("clients/search/", payments.client_search, name="client_search"),
    path("payments/<int:payment_id>/", payments.payment_detail, name="payment"),
    path("payments/<int:payment_id>/delete/", payments.payment_delete, name="payment_delete"),
    path("clients/<int:client_id>/credit/new/", invoices.credit_new, name="credit_new"),
    path("clients/<int:client_id>/statement/", statements.client_statement_pdf, name="client_statement"),
    path("clients/<int:client_id>/statement/send/", statements.client_statement_send, name="client_statement_send"),
    path("clients/<int:client_id>/superbill/", statements.client_superbill_pdf, name="client_superbill"),
    path("clients/<int:client_id>/create-invoice/", invoices.client_create_invoice, name="client_create_invoice"),
    path(
        "appointments/<int:appointment_id>/create-invoice/",
        appointments.appointment_create_invoice,
        name="appointment_create_invoice",
    ),
    # --- the Billing page and packages (views/home.py, views/packages.py) ---
    path("", home.billing_home, name="home"),
    path("invoices/", home.billing_invoices, name="invoices"),
    path("invoices/bulk/", home.billing_invoices_bulk, name="invoices_bulk"),
    path("payments/", home.billing_payments, name="payments"),
    path("credits/", home.billing_credits, name="credits"),
    path("invoice-all/", home.invoice_all, name="invoice_all"),
    # --- billing documents export (views/exports.py) ---
    path("exports/new/", exports.export_new, name="export_new"),
    path("clients/<int:client_id>/export/", exports.client_export_new, name="client_export_new"),
    path("exports/<int:export_id>/", exports.export_detail, name="export"),
    path("exports/<int:export_id>/progress/", exports.export_progress, name="export_progress"),
    path("exports/<int:export_id>/download/", exports.export_download, name="export_download"),
    path("exports/<int:export_id>/start-again/", exports.export_start_again, name="export_start_again"),
    path("packages/", packages.package_list, name="packages"),
    path("packages/new/", packages.package_new, name="package_new"),
    path("packages/<int:package_id>/", packages.package_edit, name="package_edit"),
    path("packages/<int:package_id>/archive/", packages.package_archive, name="package_archive"),
    path("clients/<int:client_id>/sell-package/", packages.package_sell_view, name="package_sell"),
    path("package-purchases/<int:purchase_id>/refund/", packages.package_refund, name="package_refund"),
    # --- refunds, write-offs, insurance sessions billed to the client ---
    path("payments/<int:payment_id>/refund/", refunds.payment_refund, name="payment_refund"),
    path("invoices/<int:invoice_id>/write-off/", refunds.invoice_write_off, name="invoice_write_off"),
    path(
        "appointments/<int:appointment_id>/bill-client/",
        appointments.appointment_bill_client,
        name="appointment_bill_client",
    ),
]

urlpatterns = [
    path("billing/", include(billing_patterns)),
    path("settings/billing-details/", settings.billing_details, name="billing_details"),
    path("settings/billing-details/tax-rates/new/", settings.tax_rate_new, name="tax_rate_new"),
    path("settings/billing-details/tax-rates/<int:tax_rate_id>/", settings.tax_rate_edit, name="tax_rate_edit"),
    path("settings/payments/", settings.invoice_numbering, name="invoice_numbering"),
    path("settings/invoice-template/", invoice_template.invoice_template, name="invoice_template"),
    path(
        "settings/invoice-template/preview/",
        invoice_template.invoice_template_preview,
        name="invoice_template_preview",
    ),
    path("settings/invoice-reminders/", reminders.reminder_rules, name="reminder_rules"),
    path("settings/invoice-creation/", invoice_creation.invoice_creation, name="invoice_creation"),
    path(
        "appointments/<int:appointment_id>/billing-details/<int:detail_id>/",
        appointments.billing_detail_edit,
        name="billing_detail_edit",
    ),
]
