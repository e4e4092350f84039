"""Every model of the project's apps is in admin (read-only where it is a record), and
every changelist loads, with rows, for a superuser."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client as HttpClient
from django.urls import reverse

from billing.models import PackageDraw

pytestmark = pytest.mark.django_db

PROJECT_APPS = ["practice", "clients", "appointments", "billing", "payments"]

# Known gaps outside billing's ownership: appointments/admin.py does not register these
# yet. Listed so this test still guards every other model; remove them once registered.


def project_models() -> list[type]:
    return [model for app in PROJECT_APPS for model in apps.get_app_config(app).get_models()]


def test_every_model_of_the_project_apps_is_registered_in_admin():
    missing = {model for model in project_models() if model not in admin.site._registry}
    assert not missing, sorted(m._meta.label for m in missing)


def test_every_project_changelist_loads_for_a_superuser(superuser_client: HttpClient, books):
    for model in project_models():
        if model not in admin.site._registry:
            continue
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        response = superuser_client.get(reverse(name))
        assert response.status_code == 200, name
        if admin.site._registry[model].search_fields:
            assert superuser_client.get(reverse(name), {"q": "ana"}).status_code == 200, name


def test_package_draws_are_read_only(root):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = root
    model_admin = admin.site._registry[PackageDraw]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
