from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "Practices and staff"

    def ready(self) -> None:
        from . import hooks

        # Settings pages: practice's own here; billing and appointments add theirs from
        # their ready(). Who sees each link is read from its view (practice.access).
        for order, label, url_name, help_text in (
            (10, "Practice", "settings_practice", "Name, address, timezone and session timeout."),
            (20, "Staff", "staff", "Invite staff and choose their roles."),
            (70, "Security", "security", "Your password and two-step sign-in."),
            (80, "Audit log", "audit_log", "Who changed what, and when."),
            (85, "Automations", "automations", "Daily jobs, their last runs, and Run now."),
        ):
            hooks.register_settings_page(label=label, url_name=url_name, help_text=help_text, order=order)
