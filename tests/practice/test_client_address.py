"""The client's address behind a proxy: lockouts and audit rows use the address the trusted
proxy reports, and without a trusted proxy a forwarded header is ignored."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from practice.models import AuditLog
from tests.helpers import PASSWORD
from tests.practice.helpers import sign_in

pytestmark = pytest.mark.django_db


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_lockouts_and_audit_rows_use_the_client_address(tenant):
    proxy = "10.0.0.5"
    # Someone at 198.51.100.66 fails five times on the admin's account
    for _ in range(5):
        Client().post(
            reverse("signin"),
            {"username": tenant.admin.email, "password": "wrong-password-123"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    # ... which locks the admin from that address, not from the proxy: another client still signs in
    other = Client()
    response = other.post(
        reverse("signin"),
        {"username": tenant.owner.email, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="spoofed-by-client, 203.0.113.20",
    )
    assert response.status_code == 302
    row = AuditLog.objects.filter(action="auth.signed_in", actor=tenant.owner).latest("id")
    assert row.ip_address == "203.0.113.20"
    locked = Client().post(
        reverse("signin"),
        {"username": tenant.admin.email, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    assert locked.status_code in (403, 429)
    assert "locked for 15 minutes" in locked.content.decode()
    # ... while the admin herself, at her own address behind the same proxy, still signs in
    own = Client().post(
        reverse("signin"),
        {"username": tenant.admin.email, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.21",
    )
    assert own.status_code == 302


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(tenant):
    sign_in(Client(), tenant.owner.email, ip="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    row = AuditLog.objects.filter(action="auth.signed_in", actor=tenant.owner).latest("id")
    assert row.ip_address == "198.51.100.7"
