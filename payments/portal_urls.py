"""The client portal's payment pages (mounted by clients.portal_urls in the ``portal``
namespace): paying invoices through Checkout or with a saved card, Payment methods and
AutoPay."""

from django.urls import path

from . import portal_autopay_views, portal_card_views, portal_views

urlpatterns = [
    path("invoices/<int:invoice_id>/pay/", portal_views.invoice_pay, name="invoice_pay"),
    path("pay-balance/", portal_views.pay_balance, name="pay_balance"),
    path("checkout/<str:token>/return/", portal_views.checkout_return, name="checkout_return"),
    path("checkout/<str:token>/cancel/", portal_views.checkout_cancel, name="checkout_cancel"),
    # Pay with the saved card in one click (the client present), and back from the bank.
    path("invoices/<int:invoice_id>/pay/card/", portal_card_views.pay_invoice_card, name="pay_invoice_card"),
    path("pay-balance/card/", portal_card_views.pay_balance_card, name="pay_balance_card"),
    path("card-charges/<int:attempt_id>/return/", portal_card_views.card_charge_return, name="card_charge_return"),
    path("card-charges/<int:attempt_id>/check/", portal_card_views.card_charge_check, name="card_charge_check"),
    path("card-charges/<int:attempt_id>/stop/", portal_card_views.card_charge_stop, name="card_charge_stop"),
    # Payment methods: add a card (Checkout in setup mode, back here), default, remove.
    path("payment-methods/", portal_card_views.payment_methods, name="payment_methods"),
    path("payment-methods/add/", portal_card_views.card_add, name="card_add"),
    path("payment-methods/setup/<str:token>/return/", portal_card_views.card_setup_return, name="card_setup_return"),
    path("payment-methods/setup/<str:token>/cancel/", portal_card_views.card_setup_cancel, name="card_setup_cancel"),
    path("payment-methods/<int:card_id>/default/", portal_card_views.card_default, name="card_default"),
    path("payment-methods/<int:card_id>/remove/", portal_card_views.card_remove, name="card_remove"),
    # AutoPay: on (with consent), off, Skip tonight, approve a night above the maximum.
    path("autopay/", portal_autopay_views.autopay_view, name="autopay"),
    path("autopay/on/", portal_autopay_views.autopay_on, name="autopay_on"),
    path("autopay/off/", portal_autopay_views.autopay_off, name="autopay_off"),
    path("autopay/skip/", portal_autopay_views.autopay_skip, name="autopay_skip"),
    path("autopay/approve/", portal_autopay_views.autopay_approve, name="autopay_approve"),
    path("autopay/maximum/", portal_autopay_views.autopay_cap, name="autopay_cap"),
    path("autopay/resume/", portal_autopay_views.autopay_resume, name="autopay_resume"),
]
