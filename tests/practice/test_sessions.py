"""Sessions: a new id at sign-in, idle expiry, an absolute lifetime, and sign-out or a
password change ending the user's other sessions (issue 3 part 7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from practice.middleware import IDLE_SIGNED_OUT, LIFETIME_SIGNED_OUT
from practice.models import AuditLog, Practice
from tests.helpers import PASSWORD, url
from tests.practice.helpers import dashboard_url, page_text, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new harbour password"


def signed_in_client(user) -> Client:
    client = Client()
    assert sign_in(client, user.email).status_code == 302
    return client


def test_sign_in_gives_the_session_a_new_id(tenant):
    # Given a visitor whose browser already holds a session (perhaps one planted on it)
    client = Client()
    session = client.session
    session["planted"] = "yes"
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    # When she signs in
    sign_in(client, tenant.owner.email)
    # Then the browser holds a different session id, and the old one is worthless
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = before
    assert attacker.get(dashboard_url(tenant.practice)).status_code == 302


def test_an_active_session_stays_signed_in(tenant, clock):
    client = signed_in_client(tenant.owner)
    for _ in range(6):
        clock.shift(timedelta(minutes=10))
        assert client.get(dashboard_url(tenant.practice)).status_code == 200


def test_fourteen_idle_minutes_are_fine(tenant, clock):
    client = signed_in_client(tenant.owner)
    client.get(dashboard_url(tenant.practice))
    clock.shift(timedelta(minutes=14))
    assert client.get(dashboard_url(tenant.practice)).status_code == 200


def test_after_15_idle_minutes_the_next_request_goes_to_sign_in_with_a_message(tenant, clock):
    # Given the owner signed in and looking at the dashboard
    client = signed_in_client(tenant.owner)
    client.get(dashboard_url(tenant.practice))
    # When she comes back after 16 minutes away
    clock.shift(timedelta(minutes=16))
    response = client.get(dashboard_url(tenant.practice))
    # Then she is sent to sign in, told why, and signed out
    assert response.status_code == 302
    assert response.url.startswith(reverse("signin"))
    signin_page = client.get(response.url)
    assert IDLE_SIGNED_OUT in page_text(signin_page)
    assert client.get(dashboard_url(tenant.practice)).status_code == 302


def test_idle_expiry_is_also_measured_right_after_sign_in(tenant, clock):
    client = signed_in_client(tenant.owner)
    clock.shift(timedelta(minutes=16))
    response = client.get(dashboard_url(tenant.practice))
    assert response.status_code == 302
    assert response.url.startswith(reverse("signin"))


def test_a_practice_may_lengthen_the_idle_limit(tenant, clock):
    # Given a practice that signs idle staff out after 60 minutes
    Practice.objects.filter(pk=tenant.practice.pk).update(session_idle_minutes=60)
    client = signed_in_client(tenant.owner)
    client.get(dashboard_url(tenant.practice))
    # When she is away for 50 minutes, she is still signed in
    clock.shift(timedelta(minutes=50))
    assert client.get(dashboard_url(tenant.practice)).status_code == 200
    # And after a further 61 minutes away she is signed out
    clock.shift(timedelta(minutes=61))
    response = client.get(dashboard_url(tenant.practice))
    assert response.status_code == 302
    assert IDLE_SIGNED_OUT in page_text(client.get(response.url))


def test_the_owner_sets_the_idle_limit_in_practice_settings(tenant, clock):
    client = signed_in_client(tenant.owner)
    settings_url = url(tenant.practice, "settings_practice")
    response = client.post(
        settings_url,
        {
            "name": "Harbour Street Therapy",
            "timezone": "America/New_York",
            "address": "",
            "phone": "",
            "email": "",
            "session_idle_minutes": "120",
        },
    )
    assert response.status_code == 302
    client.get(dashboard_url(tenant.practice))
    clock.shift(timedelta(minutes=100))
    assert client.get(dashboard_url(tenant.practice)).status_code == 200


@pytest.mark.parametrize("minutes", ["4", "481"])
def test_the_idle_limit_stays_between_5_minutes_and_8_hours(tenant, minutes):
    client = signed_in_client(tenant.owner)
    response = client.post(
        url(tenant.practice, "settings_practice"),
        {"name": "Harbour Street Therapy", "timezone": "America/New_York", "session_idle_minutes": minutes},
    )
    assert response.status_code == 200
    assert 'class="error"' in page_text(response)
    tenant.practice.refresh_from_db()
    assert tenant.practice.session_idle_minutes == 15


def test_an_active_session_still_ends_after_its_absolute_lifetime(tenant, clock):
    # Given a practice with the longest idle limit, and the owner busy all day
    Practice.objects.filter(pk=tenant.practice.pk).update(session_idle_minutes=480)
    client = signed_in_client(tenant.owner)
    lifetime = settings.SESSION_ABSOLUTE_LIFETIME
    assert lifetime == timedelta(hours=12)
    elapsed = timedelta(0)
    # When she keeps clicking every 10 minutes until just before 12 hours
    while elapsed + timedelta(minutes=10) < lifetime:
        clock.shift(timedelta(minutes=10))
        elapsed += timedelta(minutes=10)
        assert client.get(dashboard_url(tenant.practice)).status_code == 200, elapsed
    # Then the first request after 12 hours signs her out, with a message
    clock.shift(lifetime - elapsed + timedelta(minutes=1))
    response = client.get(dashboard_url(tenant.practice))
    assert response.status_code == 302
    assert LIFETIME_SIGNED_OUT in page_text(client.get(response.url))


def test_an_htmx_request_of_an_expired_session_is_told_to_redirect(tenant, clock):
    client = signed_in_client(tenant.owner)
    clock.shift(timedelta(minutes=16))
    response = client.get(dashboard_url(tenant.practice), HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"] == reverse("signin")


def test_sign_out_ends_the_users_other_sessions(tenant):
    # Given the owner signed in on a laptop and on a phone, and the admin elsewhere
    laptop = signed_in_client(tenant.owner)
    phone = signed_in_client(tenant.owner)
    colleague = signed_in_client(tenant.admin)
    assert phone.get(dashboard_url(tenant.practice)).status_code == 200
    # When she signs out on the laptop
    response = laptop.post(reverse("signout"))
    assert response.status_code == 302
    assert "You have signed out." in page_text(laptop.get(response.url))
    # Then the phone is sent to sign in, and the laptop too
    phone_response = phone.get(dashboard_url(tenant.practice))
    assert phone_response.status_code == 302
    assert phone_response.url.startswith(reverse("signin"))
    assert laptop.get(dashboard_url(tenant.practice)).status_code == 302
    # But the colleague is unaffected
    assert colleague.get(dashboard_url(tenant.practice)).status_code == 200


def test_sign_out_is_post_only(tenant):
    client = signed_in_client(tenant.owner)
    assert client.get(reverse("signout")).status_code == 405
    assert client.get(dashboard_url(tenant.practice)).status_code == 200


def test_password_change_keeps_this_session_and_ends_the_others(tenant):
    # Given the owner signed in on two devices
    here = signed_in_client(tenant.owner)
    elsewhere = signed_in_client(tenant.owner)
    # When she changes her password in Settings > Security on one of them
    response = here.post(
        url(tenant.practice, "security"),
        {"form": "password", "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    # Then she is told, and stays signed in here
    assert "Your password was changed" in page_text(response)
    assert here.get(dashboard_url(tenant.practice)).status_code == 200
    # And the other device is signed out
    assert elsewhere.get(dashboard_url(tenant.practice)).status_code == 302
    # And the change is in the audit log
    assert AuditLog.objects.filter(action="auth.password_changed", actor=tenant.owner).count() == 1
    # And only the new password signs in
    assert sign_in(Client(), tenant.owner.email, PASSWORD).status_code == 200
    assert sign_in(Client(), tenant.owner.email, NEW_PASSWORD).status_code == 302


def test_a_password_shorter_than_12_characters_is_refused_with_a_field_error(tenant):
    client = signed_in_client(tenant.owner)
    response = client.post(
        url(tenant.practice, "security"),
        {"form": "password", "old_password": PASSWORD, "new_password1": "Xq7#short1", "new_password2": "Xq7#short1"},
    )
    assert response.status_code == 400
    assert "at least 12 characters" in page_text(response)
    assert 'class="error"' in page_text(response)
    assert sign_in(Client(), tenant.owner.email, PASSWORD).status_code == 302


def test_password_change_needs_the_current_password(tenant):
    client = signed_in_client(tenant.owner)
    response = client.post(
        url(tenant.practice, "security"),
        {
            "form": "password",
            "old_password": "not my password",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert sign_in(Client(), tenant.owner.email, PASSWORD).status_code == 302


def test_a_page_view_does_not_write_the_session_each_time(tenant, clock):
    # Given a signed-in owner who has opened the dashboard once
    client = signed_in_client(tenant.owner)
    assert client.get(dashboard_url(tenant.practice)).status_code == 200
    # When she opens it again a few seconds later
    clock.shift(5)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(dashboard_url(tenant.practice)).status_code == 200
    # Then her session is read but not written back: nothing in it changed
    writes = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]]
    assert writes == []
    # And after half a minute her last-seen time is written, so idle expiry still counts from it
    clock.shift(31)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(dashboard_url(tenant.practice)).status_code == 200
    assert any("django_session" in q["sql"] and q["sql"].startswith("UPDATE") for q in queries.captured_queries)
