"""The client portal's payment pages (mounted by clients.portal_urls in the ``portal``
namespace): Payment methods, AutoPay and paying invoices online."""

from django.urls import path

from . import portal_views

urlpatterns = [
    path("payment-methods/", portal_views.payment_methods, name="payment_methods"),
    path("autopay/", portal_views.autopay, name="autopay"),
]
