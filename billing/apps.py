from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from appointments import hooks as appointments_hooks
        from clients import hooks as clients_hooks
        from practice import hooks as practice_hooks
        from practice.jobs import register_job
        from practice.mail import attachment_renderer

        from . import dashboard, jobs, providers, selectors
        from .documents.attachments import invoice_pdf_attachment
        from .services import items

        practice_hooks.register_dashboard_panels(dashboard.dashboard_panels, order=20)
        clients_hooks.register_record_header(providers.client_header_money)
        clients_hooks.register_record_actions(providers.client_record_actions, order=20)
        clients_hooks.register_list_columns(selectors.clients_with_money, providers.CLIENT_LIST_COLUMNS)
        clients_hooks.register_record_tab("overview", providers.client_overview_context)
        clients_hooks.register_record_tab("billing", providers.client_billing_tab_context)
        appointments_hooks.register_billing_items_sync(items.billing_items_sync_for_appointment)
        appointments_hooks.register_billing_items_release(items.billing_items_release_for_appointment)
        appointments_hooks.register_appointment_page_billing(providers.appointment_page_billing)
        # Daily jobs, run by the scheduler in each practice's local day (billing/jobs.py).
        register_job(
            "invoice_creation",
            "Invoice creation",
            jobs.invoice_creation_day,
            jobs.invoice_creation_job,
            next_run_at=jobs.invoice_creation_next_run,
        )
        register_job("invoice_reminders", "Invoice reminders", jobs.REMINDERS_AT, jobs.invoice_reminders_job)
        register_job("overdue_invoices", "Overdue invoices", jobs.OVERDUE_AT, jobs.overdue_invoices_job)
        # The worker renders an emailed invoice's PDF when the email goes out.
        attachment_renderer("billing.invoice_pdf")(invoice_pdf_attachment)
        for order, label, url_name, help_text in (
            (30, "Invoice numbering and terms", "billing:invoice_numbering", "Payment terms and invoice numbering."),
            (35, "Invoice template", "billing:invoice_template", "Logo, colour, layout and what invoices print."),
            (36, "Invoice creation", "billing:invoice_creation", "Invoices made daily, weekly or monthly."),
            (37, "Invoice reminders", "billing:reminder_rules", "Emails about invoices coming due or overdue."),
            (40, "Billing details", "billing:billing_details", "Currency, tax rates and no-show policy."),
            (60, "Packages", "billing:packages", "Prepaid bundles of sessions."),
        ):
            practice_hooks.register_settings_page(label=label, url_name=url_name, help_text=help_text, order=order)
