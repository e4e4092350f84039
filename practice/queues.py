"""Celery queues by kind of work, so each kind can have workers of its own (README,
"Running on several machines"): AutoPay's charges scale apart from emails, and a long
invoice run or a 500-document export holds up neither.

- ``email``: sending queued emails (and the tasks that only queue one);
- ``billing``: the scheduler's tick and the daily jobs it runs (invoice creation,
  reminders, overdue), and Invoice all in the background;
- ``documents``: PDF exports too large for a request;
- ``autopay``: AutoPay's nightly charges and what goes with them (payments.tasks.autopay_*);
- ``celery`` (Celery's default): everything else, housekeeping and Stripe webhook events.

Read by settings (CELERY_TASK_ROUTES) and by ``make run`` (practice/run.py), whose worker
listens to every queue in ``QUEUES``; a test checks that each task routes to one of them.
A plain module, so that reading it starts neither Django nor Celery.
"""

from __future__ import annotations

DEFAULT_QUEUE = "celery"
QUEUES = (DEFAULT_QUEUE, "email", "billing", "documents", "autopay")

# Task name (or a glob of names) -> queue. A task not listed goes to DEFAULT_QUEUE.
ROUTES: dict[str, str] = {
    "practice.tasks.email_send": "email",
    "practice.tasks.emails_sweep": "email",
    "practice.tasks.send_staff_invite_email": "email",
    "practice.tasks.password_reset_email": "email",
    "clients.tasks.portal_sign_in_email": "email",
    "practice.tasks.jobs_tick": "billing",
    "practice.tasks.job_run": "billing",
    "billing.tasks.invoice_all_uninvoiced": "billing",
    "billing.tasks.export_run": "documents",
    "billing.tasks.exports_clean": "documents",
    "payments.tasks.autopay_*": "autopay",
}


def task_routes() -> dict[str, dict[str, str]]:
    return {name: {"queue": queue} for name, queue in ROUTES.items()}
