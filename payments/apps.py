from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from billing import hooks as billing_hooks
        from clients import hooks as client_hooks
        from practice import hooks as practice_hooks
        from practice.access import BILLING_ROLES
        from practice.jobs import register_job

        from . import (
            autopay_night,
            autopay_views,
            card_charges,
            card_views,
            checkout,
            checkout_views,
            client_tab,
            dashboard,
            disputes,
            gateway,
            own_keys,
            payout_views,
            payouts,
            portal_autopay_views,
            portal_card_views,
            portal_views,
            refund_views,
            refunds,
            services,
            stripe_payments,
            take_payment_views,
            webhooks,
        )

        # Webhook handlers re-read objects through the gateway and know the practices' accounts.
        webhooks.register_reread(gateway.object_retrieve)
        webhooks.register_account_lookup(services.stripe_account_known)
        # A self-hosted practice's own account is called with its own key, not Stripe-Account.
        gateway.register_own_key_lookup(own_keys.own_secret_key)
        webhooks.webhook_handler("account.updated")(services.account_updated_handle)
        webhooks.webhook_handler("checkout.session.completed", "checkout.session.expired")(
            checkout.checkout_session_completed_handle
        )
        # Stripe's fee and status of an online payment; a saved card's charge settling.
        webhooks.webhook_handler("charge.succeeded", "charge.updated")(stripe_payments.stripe_payment_handle)
        webhooks.webhook_handler("payment_intent.succeeded")(
            webhooks.handlers_all(card_charges.payment_intent_handle, stripe_payments.stripe_payment_handle)
        )
        webhooks.webhook_handler("payment_intent.payment_failed")(card_charges.payment_intent_handle)
        # Refunds, whether made here or in the Stripe dashboard, and disputes (refunds.py, disputes.py).
        webhooks.webhook_handler("charge.refunded", "refund.created", "refund.updated")(refunds.refund_event_handle)
        webhooks.webhook_handler("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")(
            disputes.dispute_event_handle
        )
        # Payouts to the bank, read again whenever Stripe reports one (payouts.py).
        webhooks.webhook_handler("payout.created", "payout.updated", "payout.paid", "payout.failed", "payout.canceled")(
            payouts.payout_event_handle
        )
        billing_hooks.register_pay_online(checkout_views.pay_online_offer)
        billing_hooks.register_payment_details(stripe_payments.payment_details)
        billing_hooks.register_payment_panel(stripe_payments.payment_panel)
        # The client's Billing tab: saved cards, then AutoPay's nights (one query says which
        # has anything to show). Pay now with the saved card on the invoice page.
        billing_hooks.register_client_billing_panel(client_tab.client_billing_panels)
        billing_hooks.register_invoice_panel(card_views.pay_now_panel)
        billing_hooks.register_payment_panel(refund_views.refund_panel)
        # Take payment on the invoice page, and card payments held for review.
        billing_hooks.register_invoice_panel(take_payment_views.take_payment_panel)
        billing_hooks.register_invoice_notice(take_payment_views.held_invoice_notice)
        # Held card payments and AutoPay's failed or paused clients (one notice, one query).
        billing_hooks.register_billing_notice(autopay_views.billing_notices)
        # The Payments tab links the Payouts reconciliation report and the Card charges list.
        billing_hooks.register_billing_notice(payout_views.payments_tab_links)
        # ... and the Reports page lists it beside reports' own (billing roles only).
        practice_hooks.register_report(
            "payouts",
            "Payouts reconciliation",
            "Each Stripe payout with the payments, refunds, disputes and fees in it, and what does not match.",
            "payments:payouts_reconciliation",
            BILLING_ROLES,
            order=50,
        )
        # The client portal: Pay with Visa •••• 4242 (the saved card, one click) before Make
        # payment (Checkout) in an invoice's details; on Billing, Pay full balance with the
        # card or through Checkout, and tonight's AutoPay.
        billing_hooks.register_portal_invoice_panel(portal_card_views.portal_card_pay_panel)
        billing_hooks.register_portal_invoice_panel(portal_views.portal_make_payment_panel)
        billing_hooks.register_portal_billing_panel(portal_autopay_views.portal_autopay_notice_panel)
        billing_hooks.register_portal_billing_panel(portal_card_views.portal_card_balance_panel)
        billing_hooks.register_portal_billing_panel(portal_views.portal_pay_balance_panel)
        billing_hooks.register_portal_form_origins(portal_views.portal_form_origins)
        billing_hooks.register_portal_form_origins(portal_card_views.card_form_origins)
        # AutoPay on the client's Settings tab (staff enrol a client with their consent).
        client_hooks.register_settings_panel(autopay_views.autopay_settings_panel)
        # Nightly AutoPay (12 AM to 6 AM local time) and the evening before it (6 PM): the
        # results on the Billing page and the client's Billing tab.
        register_job(
            autopay_night.NIGHT_JOB,
            "Nightly AutoPay (12 AM to 6 AM)",
            autopay_night.autopay_night_due,
            autopay_night.autopay_night_job,
            next_run_at=autopay_night.autopay_night_next_run,
        )
        register_job(
            autopay_night.EVENING_JOB,
            "AutoPay evening notices (6 PM)",
            autopay_night.autopay_evening_due,
            autopay_night.autopay_evening_job,
            next_run_at=autopay_night.autopay_evening_next_run,
        )

        # Last night's AutoPay and the card payments needing staff, on the dashboard.
        practice_hooks.register_dashboard_panels(dashboard.dashboard_panels, order=30)
        practice_hooks.register_settings_page(
            label="Online payments",
            url_name="payments:online_payments",
            help_text="Connect Stripe so clients can pay invoices online.",
            order=32,
        )
