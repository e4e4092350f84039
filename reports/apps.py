from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from practice import hooks as practice_hooks
        from practice.access import ALL_ROLES
        from practice.jobs import register_job

        from . import jobs

        # Nothing is gained by working out a missed night late: the next report does it.
        register_job(
            "revenue_figures",
            "Revenue report figures",
            jobs.REVENUE_FIGURES_AT,
            jobs.revenue_figures_job,
            catch_up_days=1,
        )

        # Every role opens these four: a clinician sees only their own sessions' share
        # (reports.scope). Payments adds Payouts reconciliation the same way.
        for order, slug, label, url_name, description in (
            (
                10,
                "aging",
                "Aging",
                "reports:aging",
                "Open balances per client by how long ago each invoice was issued.",
            ),
            (
                20,
                "revenue",
                "Revenue",
                "reports:revenue",
                "Invoiced against collected by month, service and clinician, with credits, refunds and write-offs.",
            ),
            (
                30,
                "payments",
                "Payments",
                "reports:payments",
                "Money received by method and by day, with Stripe's fees.",
            ),
            (
                40,
                "balances",
                "Outstanding balances and credits",
                "reports:balances",
                "What each client owes, how much is overdue, and the credit they hold.",
            ),
        ):
            practice_hooks.register_report(slug, label, description, url_name, ALL_ROLES, order=order)
