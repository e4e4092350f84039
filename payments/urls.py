from django.urls import path

from . import checkout_views, views

urlpatterns = [
    path("webhook/", views.stripe_webhook, name="stripe_webhook"),
    # Pay online from a payment link (its token), and back from Stripe Checkout (the attempt's).
    path("checkout/<str:token>/start/", checkout_views.checkout_start_view, name="checkout_start"),
    path("checkout/<str:token>/return/", checkout_views.checkout_return_view, name="checkout_return"),
    path("checkout/<str:token>/cancel/", checkout_views.checkout_cancel_view, name="checkout_cancel"),
]
