from django.urls import path

from . import autopay_views, card_views, charge_list_views, payout_views, refund_views, take_payment_views
from . import settings_views as views

app_name = "payments"

urlpatterns = [
    path("settings/online-payments/", views.online_payments, name="online_payments"),
    path("settings/online-payments/setup/", views.connect_start, name="connect_start"),
    path("settings/online-payments/setup/return/", views.connect_return, name="connect_return"),
    path("settings/online-payments/setup/refresh/", views.connect_refresh, name="connect_refresh"),
    path("settings/online-payments/dashboard/", views.connect_dashboard, name="connect_dashboard"),
    path("settings/online-payments/disconnect/", views.connect_disconnect, name="connect_disconnect"),
    # A self-hosted practice's own Stripe keys instead of a connected account (payments/own_keys.py).
    path("settings/online-payments/own-keys/", views.own_keys_save, name="own_keys_save"),
    path("settings/online-payments/own-keys/remove/", views.own_keys_remove, name="own_keys_remove"),
    # Saved cards (payments/cards.py) and Pay now with one (payments/card_charges.py).
    path("clients/<int:client_id>/cards/request/", card_views.card_request, name="card_request"),
    path("clients/<int:client_id>/cards/default/", card_views.card_default, name="card_default"),
    path("clients/<int:client_id>/cards/remove/", card_views.card_remove, name="card_remove"),
    # AutoPay from the client's Settings tab (payments/autopay.py), with the client's consent.
    path("clients/<int:client_id>/autopay/on/", autopay_views.autopay_enrol, name="autopay_enrol"),
    path("clients/<int:client_id>/autopay/off/", autopay_views.autopay_end, name="autopay_end"),
    path("clients/<int:client_id>/autopay/resume/", autopay_views.autopay_resume, name="autopay_resume"),
    path("billing/invoices/<int:invoice_id>/pay-now/", card_views.pay_now, name="pay_now"),
    # Every card charge, filtered (the list behind the dashboard's AutoPay and attention figures).
    path("billing/card-charges/", charge_list_views.card_charges, name="card_charges"),
    # Stripe's payouts matched to the app's records (payments/payout_report.py); the Reports
    # index links it.
    path("reports/payouts/", payout_views.payouts_reconciliation, name="payouts_reconciliation"),
    path("reports/payouts/refresh/", payout_views.payouts_refresh, name="payouts_refresh"),
    path("billing/invoices/<int:invoice_id>/pay-now/check/", card_views.pay_now_check, name="pay_now_check"),
    # Refund through Stripe, from an online payment's page (billing's, with payments' panel).
    path("billing/payments/<int:payment_id>/stripe-refund/", refund_views.stripe_refund, name="stripe_refund"),
    path(
        "billing/payments/<int:payment_id>/stripe-refund/check/",
        refund_views.stripe_refund_check,
        name="stripe_refund_check",
    ),
    path("settings/online-payments/part-payments/", views.part_payments_save, name="part_payments"),
    # Take payment on the invoice page, the page Stripe sends the browser back to, and
    # recording a card payment held for review.
    path("invoices/<int:invoice_id>/take-payment/", take_payment_views.take_payment, name="take_payment"),
    path(
        "invoices/<int:invoice_id>/take-payment/return/",
        take_payment_views.take_payment_return,
        name="take_payment_return",
    ),
    path("invoices/<int:invoice_id>/held-payment/record/", take_payment_views.held_record, name="held_record"),
]
