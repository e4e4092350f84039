"""The client portal's payment pages (mounted by clients.portal_urls in the ``portal``
namespace): paying invoices through Checkout, Payment methods and AutoPay."""

from django.urls import path

from . import portal_views

urlpatterns = [
    path("invoices/<int:invoice_id>/pay/", portal_views.invoice_pay, name="invoice_pay"),
    path("pay-balance/", portal_views.pay_balance, name="pay_balance"),
    path("checkout/<str:token>/return/", portal_views.checkout_return, name="checkout_return"),
    path("checkout/<str:token>/cancel/", portal_views.checkout_cancel, name="checkout_cancel"),
    path("payment-methods/", portal_views.payment_methods, name="payment_methods"),
    path("autopay/", portal_views.autopay, name="autopay"),
]
