"""Settings of the Celery worker the invoice run benchmark starts: the project's, with the
daily jobs on a queue of the benchmark's own and emails on one that no worker reads (the
run queues them; sending them is not what is timed)."""

from practice.settings import *  # noqa: F403

BENCH_QUEUE = "bench-jobs"
BENCH_EMAIL_QUEUE = "bench-emails"
CELERY_TASK_DEFAULT_QUEUE = BENCH_QUEUE
CELERY_TASK_ROUTES = {"practice.tasks.email_send": {"queue": BENCH_EMAIL_QUEUE}}
CELERY_TASK_ALWAYS_EAGER = False
