from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self) -> None:
        from practice import hooks as practice_hooks

        from . import hooks

        practice_hooks.register_dashboard_tiles(hooks.dashboard_sessions_tile, order=10)
