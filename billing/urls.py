from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("invoices/new/", views.invoice_new, name="invoice_new"),
    path("invoices/new/items/", views.invoice_new_items, name="invoice_new_items"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice"),
    path("invoices/<int:invoice_id>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:invoice_id>/issue/", views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:invoice_id>/delete/", views.invoice_delete, name="invoice_delete"),
    path("invoices/<int:invoice_id>/void/", views.invoice_void, name="invoice_void"),
    path("invoices/<int:invoice_id>/apply-credit/", views.invoice_apply_credit, name="invoice_apply_credit"),
    path("invoices/<int:invoice_id>/mark-paid/", views.invoice_mark_paid, name="invoice_mark_paid"),
    path("payments/new/", views.payment_new, name="payment_new"),
    path("payments/new/client/", views.payment_client_pick, name="payment_client_pick"),
    path("clients/search/", views.client_search, name="client_search"),
    path("payments/<int:payment_id>/", views.payment_detail, name="payment"),
    path("payments/<int:payment_id>/delete/", views.payment_delete, name="payment_delete"),
    path("clients/<int:client_id>/credit/new/", views.credit_new, name="credit_new"),
    path("clients/<int:client_id>/create-invoice/", views.client_create_invoice, name="client_create_invoice"),
    path(
        "appointments/<int:appointment_id>/create-invoice/",
        views.appointment_create_invoice,
        name="appointment_create_invoice",
    ),
]

# --- Billing page, packages and billing admin (views_home.py, views_packages.py) -------------
# The other billing engineer appends their patterns below this line.
from . import views_home, views_packages  # noqa: E402 - this section is appended to the list above

urlpatterns += [
    path("", views_home.billing_home, name="home"),
    path("invoices/", views_home.billing_invoices, name="invoices"),
    path("payments/", views_home.billing_payments, name="payments"),
    path("credits/", views_home.billing_credits, name="credits"),
    path("invoice-all/", views_home.invoice_all, name="invoice_all"),
    path("packages/", views_packages.package_list, name="packages"),
    path("packages/new/", views_packages.package_new, name="package_new"),
    path("packages/<int:package_id>/", views_packages.package_edit, name="package_edit"),
    path("packages/<int:package_id>/archive/", views_packages.package_archive, name="package_archive"),
    path("clients/<int:client_id>/sell-package/", views_packages.package_sell_view, name="package_sell"),
    path("package-purchases/<int:purchase_id>/refund/", views_packages.package_refund, name="package_refund"),
]

# --- refunds, write-offs, insurance sessions billed to the client (views_ledger.py) ---------
from . import views_ledger  # noqa: E402 - this section is appended to the list above

urlpatterns += [
    path("payments/<int:payment_id>/refund/", views_ledger.payment_refund, name="payment_refund"),
    path("invoices/<int:invoice_id>/write-off/", views_ledger.invoice_write_off, name="invoice_write_off"),
    path(
        "appointments/<int:appointment_id>/bill-client/",
        views_ledger.appointment_bill_client,
        name="appointment_bill_client",
    ),
]
