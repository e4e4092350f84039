from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from clients import hooks as clients_hooks
        from practice import hooks as practice_hooks

        from . import hooks, selectors

        practice_hooks.register_dashboard_tiles(hooks.dashboard_money_tiles, order=20)
        practice_hooks.register_numbering_started(selectors.invoice_numbering_started)
        practice_hooks.register_currency_in_use(hooks.currency_in_use)
        clients_hooks.register_record_header(hooks.client_header_money)
        clients_hooks.register_record_tab("overview", hooks.client_overview_context)
        clients_hooks.register_record_tab("billing", hooks.client_billing_tab_context)
