"""Helpers every app's tests share: the test client signed in as a member, the staff
password, and the URLs of a practice's pages."""

from __future__ import annotations

from django.test import Client
from django.test.client import MULTIPART_CONTENT
from django.urls import reverse

from billing.submission import FIELD, submission_key_new
from practice.models import Practice, User

# The password every factory-made user has (settings.DEMO_PASSWORD).
PASSWORD = "practica-demo"


class PageClient(Client):
    """The test client as a browser that has just loaded the form it posts: each POST carries
    a fresh one-time submission key (billing/submission.py), unless the test gives one (or
    its data is not a form). Tests of the key itself pass ``submission_key`` or use a plain
    ``Client``."""

    def post(self, path, data=None, content_type=MULTIPART_CONTENT, *args, **kwargs):  # type: ignore[no-untyped-def]
        if content_type == MULTIPART_CONTENT and (data is None or isinstance(data, dict)):
            data = {FIELD: submission_key_new(), **(data or {})}
        return super().post(path, data, content_type, *args, **kwargs)


def signed_in(user: User) -> Client:
    client = PageClient()
    client.force_login(user)
    return client


def url(where, name: str, **kwargs) -> str:
    """The URL of the page ``name`` of a practice, given as the practice or as a ``tenant``."""
    practice = where if isinstance(where, Practice) else where.practice
    return reverse(name, kwargs={"practice_slug": practice.slug, **kwargs})
