"""Django admin is for platform staff (superusers) only; records are read-only there
(issue 3 part 9)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from practice.admin import ADMIN_PLATFORM_ONLY
from practice.audit import audit_write
from practice.models import AuditLog, StaffInvite, User
from tests.helpers import signed_in
from tests.practice.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("platform@practica.example", "platform-password-long")


@pytest.fixture
def admin_client(superuser) -> Client:
    return signed_in(superuser)


@pytest.fixture
def audit_row(tenant) -> AuditLog:
    return audit_write(
        practice=tenant.practice,
        actor=tenant.owner,
        action="practice.settings_changed",
        obj=tenant.practice,
        changes={"phone": ["", "555"]},
    )


def test_a_superuser_gets_into_admin(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Practica platform admin" in page_text(response)


@pytest.mark.parametrize("staff", [False, True], ids=["owner", "owner-with-is_staff"])
def test_a_practice_owner_does_not_get_in(tenant, staff):
    # Given a practice owner (even one marked is_staff by mistake)
    User.objects.filter(pk=tenant.owner.pk).update(is_staff=staff)
    tenant.owner.refresh_from_db()
    client = signed_in(tenant.owner)
    # When she opens Django admin, she is told it is for platform staff
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403
    assert ADMIN_PLATFORM_ONLY in page_text(response)
    # And no admin page opens for her
    assert client.get(reverse("admin:practice_practice_changelist")).status_code == 302


def test_a_practice_owner_cannot_sign_in_on_the_admin_sign_in_page(tenant):
    client = Client()
    # Admin has no sign-in of its own: posting credentials there signs nobody in
    response = client.post(
        reverse("admin:login"), {"username": tenant.owner.email, "password": "practica-demo", "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response.url.startswith(reverse("signin"))
    assert client.get(reverse("admin:index")).status_code == 302


def test_an_anonymous_visitor_is_sent_to_the_admin_sign_in(db):
    response = Client().get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def registered_changelists() -> list[str]:
    return sorted(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist" for model in admin.site._registry
    )


def test_every_registered_model_changelist_loads_for_a_superuser(admin_client, tenant, other_tenant, audit_row):
    names = registered_changelists()
    assert "admin:practice_auditlog_changelist" in names
    for name in names:
        response = admin_client.get(reverse(name))
        assert response.status_code == 200, name
        # ... and its search box works
        if admin.site._registry[response.context["cl"].model].search_fields:
            assert admin_client.get(reverse(name), {"q": "harbour"}).status_code == 200, name


def test_every_practica_model_is_registered():
    from django.apps import apps

    registered = set(admin.site._registry)
    assert set(apps.get_app_config("practice").get_models()) <= registered


def test_practice_members_and_users_are_listed_with_useful_columns(admin_client, tenant):
    practices = page_text(admin_client.get(reverse("admin:practice_practice_changelist")))
    assert "America/New_York" in practices and "USD" in practices
    users = page_text(admin_client.get(reverse("admin:practice_user_changelist"), {"q": "owner@harbour"}))
    assert "owner@harbour.test" in users
    assert "admin@harbour.test" not in users


def test_audit_rows_are_read_only_in_admin(admin_client, audit_row):
    changelist = page_text(admin_client.get(reverse("admin:practice_auditlog_changelist")))
    assert "practice.settings_changed" in changelist
    assert reverse("admin:practice_auditlog_add") not in changelist
    # No add, no delete
    assert admin_client.get(reverse("admin:practice_auditlog_add")).status_code == 403
    assert admin_client.get(reverse("admin:practice_auditlog_delete", args=[audit_row.pk])).status_code == 403
    delete_url = reverse("admin:practice_auditlog_delete", args=[audit_row.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    # The row can be looked at, but has no save button, and a posted change is refused
    view = admin_client.get(reverse("admin:practice_auditlog_change", args=[audit_row.pk]))
    assert view.status_code == 200
    assert 'name="_save"' not in page_text(view)
    post = admin_client.post(reverse("admin:practice_auditlog_change", args=[audit_row.pk]), {"action": "hacked"})
    assert post.status_code == 403
    # The bulk "delete selected" action is not offered either
    bulk = admin_client.post(
        reverse("admin:practice_auditlog_changelist"),
        {"action": "delete_selected", "_selected_action": [audit_row.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)
    assert AuditLog.objects.get(pk=audit_row.pk).action == "practice.settings_changed"


def test_invites_are_read_only_and_never_show_the_token_hash(admin_client, tenant):
    from datetime import timedelta

    from django.utils import timezone

    invite = StaffInvite.objects.create(
        practice=tenant.practice,
        email="x@example.test",
        role="biller",
        token_hash="f" * 64,
        invited_by=tenant.owner,
        expires_at=timezone.now() + timedelta(days=7),
    )
    view = page_text(admin_client.get(reverse("admin:practice_staffinvite_change", args=[invite.pk])))
    assert "x@example.test" in view
    assert "f" * 64 not in view
    assert admin_client.get(reverse("admin:practice_staffinvite_add")).status_code == 403
