"""Settings of the gunicorn the webhook benchmark starts: the project's, plus a bare view
(the floor), known webhook secrets, and a queue of its own that no worker reads."""

from practice.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.webhook_urls"
STRIPE_WEBHOOK_SECRET = "whsec_bench_platform"
STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_bench_connect"
BENCH_QUEUE = "bench-webhooks"
CELERY_TASK_ROUTES = {"payments.tasks.webhook_event_process": {"queue": BENCH_QUEUE}}
CELERY_TASK_ALWAYS_EAGER = False
