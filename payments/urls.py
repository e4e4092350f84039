from django.urls import path

from . import card_views, checkout_views, views

urlpatterns = [
    path("webhook/", views.stripe_webhook, name="stripe_webhook"),
    # A self-hosted practice's own endpoint (its own Stripe account's events; payments/own_keys.py).
    path("webhook/<str:token>/", views.stripe_webhook_practice, name="stripe_webhook_practice"),
    # Pay online from a payment link (its token), and back from Stripe Checkout (the attempt's).
    path("checkout/<str:token>/start/", checkout_views.checkout_start_view, name="checkout_start"),
    path("checkout/<str:token>/return/", checkout_views.checkout_return_view, name="checkout_return"),
    path("checkout/<str:token>/cancel/", checkout_views.checkout_cancel_view, name="checkout_cancel"),
    # Save a card from a Request card details link (its token), and back from Checkout (the setup's).
    path("cards/<str:token>/", card_views.card_link, name="card_link"),
    path("cards/<str:token>/start/", card_views.card_link_start, name="card_link_start"),
    path("cards/setup/<str:token>/return/", card_views.card_setup_return, name="card_setup_return"),
    path("cards/setup/<str:token>/cancel/", card_views.card_setup_cancel, name="card_setup_cancel"),
]
