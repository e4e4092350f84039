from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self) -> None:
        from clients import hooks as clients_hooks
        from practice import hooks as practice_hooks

        from . import providers

        practice_hooks.register_dashboard_tiles(providers.dashboard_sessions_tile, order=10)
        clients_hooks.register_record_actions(providers.client_record_book, order=10)
        clients_hooks.register_record_tab("overview", providers.client_overview_context)
        clients_hooks.register_record_tab("appointments", providers.client_appointments_context)
        practice_hooks.register_settings_page(
            label="Services", url_name="appointments:services", help_text="Your price list.", order=50
        )
