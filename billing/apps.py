from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from practice import hooks as practice_hooks

        from . import hooks, selectors

        practice_hooks.register_dashboard_tiles(hooks.dashboard_money_tiles, order=20)
        practice_hooks.register_numbering_started(selectors.invoice_numbering_started)
