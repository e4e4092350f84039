"""The 500 page says something went wrong and leaks nothing of the error."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@override_settings(ROOT_URLCONF="tests.practice.urls_error", DEBUG=False)
def test_the_500_page_leaks_nothing():
    browser = Client(raise_request_exception=False)
    response = browser.get("/fail/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    for secret in ("hunter2", "RuntimeError", "Traceback", "settings"):
        assert secret not in page
