"""Settings of the Celery worker processes the fault tests start (tests/worker_processes.py):
the project's own, with three changes that keep a test's work with that test.

- Every task goes to the test's queue (PRACTICA_TEST_QUEUE): the job a tick queues, the
  rerun, whatever a job queues next. Emails go to a queue beside it that no worker reads:
  the test compares the OutgoingEmail rows a run queued, not the sending.
- The broker's visibility timeout (PRACTICA_VISIBILITY_TIMEOUT seconds, production's hour
  by default), and the sweep that gives an unacknowledged message back to its queue looks
  every second instead of every 100, so a killed worker's message comes back while the
  test waits.
"""

import os

from practice.settings import *  # noqa: F403
from practice.settings import CELERY_BROKER_TRANSPORT_OPTIONS

TEST_QUEUE = os.environ["PRACTICA_TEST_QUEUE"]
CELERY_TASK_DEFAULT_QUEUE = TEST_QUEUE
CELERY_TASK_ROUTES = {"practice.tasks.email_send": {"queue": f"{TEST_QUEUE}.emails"}}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": int(os.environ.get("PRACTICA_VISIBILITY_TIMEOUT", 60 * 60)),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
