"""Payment links (billing.payment_links): pages a client opens without signing in, outside
any practice's /p/<slug>/ so that nothing of a staff page applies to them."""

from django.urls import path

from .views import pay

app_name = "pay"

urlpatterns = [
    path("<str:token>/", pay.pay_invoice, name="invoice"),
    path("<str:token>/pdf/", pay.pay_invoice_pdf, name="invoice_pdf"),
]
