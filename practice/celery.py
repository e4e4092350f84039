"""The Celery app. Tasks are thin wrappers that load rows by id and call a service."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")

app = Celery("practica")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
