from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from practice import hooks as practice_hooks

        practice_hooks.register_settings_page(
            label="Online payments",
            url_name="payments:online_payments",
            help_text="Connect Stripe so clients can pay invoices online.",
            order=32,
        )
