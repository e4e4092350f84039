"""Tasks routed to queues by kind (issue 16 part 7): emails, billing's jobs, PDF documents
and AutoPay each on a queue of their own, and every queue a task can go to is one that
``make run``'s worker and the compose file's worker listen to."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from practice import queues
from practice.celery import app as celery_app
from practice.run import worker_command

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
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
    # AutoPay's tasks, by their name's pattern (the nightly run and its summaries)
    "payments.tasks.autopay_night_run": "autopay",
    "payments.tasks.autopay_charge": "autopay",
    # housekeeping and Stripe's events stay on Celery's default queue
    "practice.tasks.sessions_clear_expired": "celery",
    "payments.tasks.webhook_event_process": "celery",
    "clients.tasks.portal_sign_in_links_prune": "celery",
}


def queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


def project_tasks() -> list[str]:
    celery_app.loader.import_default_modules()
    return sorted(name for name in celery_app.tasks if not name.startswith("celery."))


def listened_to(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(","))


@pytest.mark.parametrize(("task", "queue"), sorted(EXPECTED.items()))
def test_each_task_goes_to_the_queue_of_its_kind(task, queue):
    assert queue_of(task) == queue


def test_every_task_of_the_project_goes_to_a_known_queue():
    tasks = project_tasks()
    assert "practice.tasks.email_send" in tasks and "billing.tasks.export_run" in tasks
    assert {task: queue_of(task) for task in tasks if queue_of(task) not in queues.QUEUES} == {}
    assert set(queues.ROUTES.values()) <= set(queues.QUEUES)


def test_make_runs_worker_listens_to_every_queue():
    command = shlex.split(worker_command("python"))
    assert command[:5] == ["python", "-m", "celery", "-A", "practice"] and "worker" in command
    routed = {queue_of(task) for task in [*project_tasks(), *EXPECTED]}
    assert routed <= listened_to(command) == set(queues.QUEUES)


def test_the_compose_files_worker_listens_to_every_queue():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert listened_to(compose["services"]["worker"]["command"]) == set(queues.QUEUES)
