from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from billing import hooks as billing_hooks
        from practice import hooks as practice_hooks

        from . import checkout, checkout_views, gateway, services, stripe_payments, webhooks

        # Webhook handlers re-read objects through the gateway and know the practices' accounts.
        webhooks.register_reread(gateway.object_retrieve)
        webhooks.register_account_lookup(services.stripe_account_known)
        webhooks.webhook_handler("account.updated")(services.account_updated_handle)
        webhooks.webhook_handler("checkout.session.completed", "checkout.session.expired")(
            checkout.checkout_session_completed_handle
        )
        webhooks.webhook_handler("charge.succeeded", "charge.updated", "payment_intent.succeeded")(
            stripe_payments.stripe_payment_handle
        )
        billing_hooks.register_pay_online(checkout_views.pay_online_offer)
        billing_hooks.register_payment_details(stripe_payments.payment_details)
        billing_hooks.register_payment_panel(stripe_payments.payment_panel)

        practice_hooks.register_settings_page(
            label="Online payments",
            url_name="payments:online_payments",
            help_text="Connect Stripe so clients can pay invoices online.",
            order=32,
        )
