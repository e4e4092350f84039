"""The client portal's billing pages (mounted by clients.portal_urls in the ``portal``
namespace): Billing, the portal's home, and Documents."""

from django.urls import path

from . import portal_views

urlpatterns = [
    path("", portal_views.billing_home, name="home"),
    path("documents/", portal_views.documents, name="documents"),
]
