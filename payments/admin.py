"""Platform admins see the Stripe records read only: accounts change through Connect
onboarding and account.updated, events arrive through the webhook endpoint, checkout
attempts through Pay online and Take payment, the online payment settings and a self-hosted
practice's own keys through Settings > Online payments, Stripe's details of payments from
its charge events, saved cards through Save a card, card charges (and the invoices each
pays) through Pay now and the portal, refund attempts through Refund through Stripe,
AutoPay's nightly charges through the nightly run, and payouts and their lines from
Stripe's own (the Payouts report's refresh and payout.*)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from practice.admin import ReadOnlyAdmin

from .models import (
    AutoPayCharge,
    CardChargeAllocation,
    CardChargeAttempt,
    CardSetup,
    CheckoutAttempt,
    CheckoutAttemptInvoice,
    ConnectOnboarding,
    OnlinePaymentSettings,
    Payout,
    PayoutLine,
    RefundAttempt,
    SavedCard,
    StripeAccount,
    StripeCustomer,
    StripeOwnKeys,
    StripePayment,
    WebhookEvent,
)


@admin.register(StripeAccount)
class StripeAccountAdmin(ReadOnlyAdmin):
    list_display = ["practice", "stripe_account_id", "charges_enabled", "payouts_enabled", "disconnected_at"]
    list_filter = ["charges_enabled", "payouts_enabled"]
    search_fields = ["stripe_account_id", "practice__name"]
    list_select_related = ["practice"]


@admin.register(StripeOwnKeys)
class StripeOwnKeysAdmin(ReadOnlyAdmin):
    """Shown masked: the encrypted columns are left out (they open nothing without the
    environment's key, but a token on a page invites copying it around)."""

    list_display = ["account", "livemode", "secret_key_masked", "webhook_token", "updated_at"]
    list_select_related = ["account"]
    fields = ["account", "livemode", "secret_key_masked", "publishable_key_masked", "webhook_secret_masked"]
    readonly_fields = ["account", "livemode", "secret_key_masked", "publishable_key_masked", "webhook_secret_masked"]


@admin.register(ConnectOnboarding)
class ConnectOnboardingAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "practice", "created_by", "stripe_account_id", "creates_account"]
    list_filter = ["practice"]
    list_select_related = ["practice", "created_by"]
    date_hierarchy = "created_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "stripe_id", "type", "account", "status", "attempts", "processed_at"]
    list_filter = ["status", "type"]
    search_fields = ["stripe_id", "account"]
    date_hierarchy = "received_at"


class CheckoutAttemptInvoiceInline(admin.TabularInline):
    model = CheckoutAttemptInvoice
    extra = 0
    can_delete = False
    readonly_fields = ["position", "invoice_id", "amount"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CheckoutAttempt)
class CheckoutAttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "practice",
        "client",
        "amount",
        "currency",
        "source",
        "status",
        "stripe_checkout_session_id",
    ]
    list_filter = ["status", "source", "practice"]
    inlines = [CheckoutAttemptInvoiceInline]
    search_fields = ["stripe_checkout_session_id"]
    list_select_related = ["practice", "client"]
    date_hierarchy = "created_at"


@admin.register(StripePayment)
class StripePaymentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "practice", "payment_intent_id", "charge_id", "status", "fee", "net", "currency"]
    list_filter = ["status", "practice"]
    search_fields = ["payment_intent_id", "charge_id"]
    list_select_related = ["practice"]
    date_hierarchy = "created_at"


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "practice", "client", "stripe_account_id", "stripe_customer_id"]
    list_filter = ["practice"]
    search_fields = ["stripe_customer_id", "stripe_account_id"]
    list_select_related = ["practice", "client"]


@admin.register(SavedCard)
class SavedCardAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "practice",
        "client",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "is_default",
        "removed_at",
    ]
    list_filter = ["practice", "is_default"]
    search_fields = ["stripe_payment_method_id"]
    list_select_related = ["practice", "client"]
    date_hierarchy = "created_at"


@admin.register(CardSetup)
class CardSetupAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "practice", "client", "status", "stripe_checkout_session_id"]
    list_filter = ["status", "practice"]
    search_fields = ["stripe_checkout_session_id"]
    list_select_related = ["practice", "client"]
    date_hierarchy = "created_at"


@admin.register(CardChargeAttempt)
class CardChargeAttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "practice",
        "invoice",
        "client",
        "amount",
        "currency",
        "status",
        "decline_code",
        "on_session",
        "stripe_payment_intent_id",
    ]
    list_filter = ["status", "on_session", "practice"]
    search_fields = ["stripe_payment_intent_id"]
    list_select_related = ["practice", "invoice", "client"]


@admin.register(CardChargeAllocation)
class CardChargeAllocationAdmin(ReadOnlyAdmin):
    list_display = ["attempt", "invoice", "amount", "in_flight"]
    list_filter = ["in_flight"]
    list_select_related = ["attempt", "invoice"]


@admin.register(AutoPayCharge)
class AutoPayChargeAdmin(ReadOnlyAdmin):
    list_display = ["night", "practice", "client", "amount", "currency", "status", "reason", "attempt", "settled_at"]
    list_filter = ["status", "practice"]
    date_hierarchy = "night"
    list_select_related = ["practice", "client", "attempt"]


@admin.register(RefundAttempt)
class RefundAttemptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "practice", "payment", "amount", "currency", "status", "stripe_refund_id"]
    list_filter = ["status", "practice"]
    search_fields = ["stripe_refund_id"]
    list_select_related = ["practice", "payment"]
    date_hierarchy = "created_at"


@admin.register(OnlinePaymentSettings)
class OnlinePaymentSettingsAdmin(ReadOnlyAdmin):
    list_display = ["practice", "part_payments_allowed", "part_payment_minimum", "updated_at"]
    list_select_related = ["practice"]


@admin.register(CheckoutAttemptInvoice)
class CheckoutAttemptInvoiceAdmin(ReadOnlyAdmin):
    list_display = ["attempt", "position", "invoice_id", "amount"]
    list_select_related = ["attempt"]


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["created", "practice", "stripe_payout_id", "amount", "currency", "status", "lines_synced_at"]
    list_filter = ["status", "practice"]
    search_fields = ["stripe_payout_id"]
    list_select_related = ["practice"]
    date_hierarchy = "created"


@admin.register(PayoutLine)
class PayoutLineAdmin(ReadOnlyAdmin):
    list_display = ["created", "payout", "kind", "amount", "fee", "net", "currency", "payment_intent_id"]
    list_filter = ["kind"]
    search_fields = ["stripe_balance_transaction_id", "payment_intent_id", "charge_id", "source_id"]
    list_select_related = ["payout"]
