"""Optional two-step sign-in with an authenticator app (django-otp TOTP), issue 3 part 7."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.auth_views import CODE_EXPIRED
from practice.models import AuditLog
from practice.services import TOTP_BAD_TOKEN
from practice.views import TOTP_REMOVE_NEEDS_PASSWORD
from tests.helpers import PASSWORD, signed_in, url
from tests.practice.helpers import dashboard_url, page_text, sign_in, totp_code

pytestmark = pytest.mark.django_db


def enrol(client: Client, practice) -> TOTPDevice:
    """Settings > Security: start, then confirm with the code the app shows."""
    client.post(url(practice, "security_totp_start"))
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(url(practice, "security"), {"form": "totp", "token": totp_code(device)}, follow=True)
    assert "Two-step sign-in is on" in page_text(response)
    device.refresh_from_db()
    return device


def test_enrolling_shows_a_key_then_a_right_code_turns_it_on(tenant, clock):
    client = signed_in(tenant.owner)
    security = url(tenant.practice, "security")
    assert "Off." in page_text(client.get(security))
    # When she starts set-up, the page shows the key and a QR code
    client.post(url(tenant.practice, "security_totp_start"))
    page = page_text(client.get(security))
    device = TOTPDevice.objects.get(user=tenant.owner)
    assert 'data-testid="totp-secret"' in page
    assert "QR code" in page
    # And a wrong code is refused with a field error
    wrong = client.post(security, {"form": "totp", "token": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert TOTP_BAD_TOKEN in page_text(wrong)
    device.refresh_from_db()
    assert device.confirmed is False
    # And the right code turns it on (after the throttle delay a wrong code causes)
    clock.shift(timedelta(seconds=31))
    response = client.post(security, {"form": "totp", "token": totp_code(device)}, follow=True)
    assert "On: you are asked for a code" in page_text(response)
    assert AuditLog.objects.filter(action="auth.totp_enabled", actor=tenant.owner).exists()


def test_with_totp_on_a_password_alone_does_not_sign_in(tenant, clock):
    device = enrol(signed_in(tenant.owner), tenant.practice)
    clock.shift(timedelta(seconds=31))
    browser = Client()
    # When she signs in with her password
    response = sign_in(browser, tenant.owner.email)
    # Then she is asked for the code, and is not signed in yet
    assert response.url == reverse("signin_code")
    assert "Two-step sign-in" in page_text(browser.get(response.url))
    assert browser.get(dashboard_url(tenant.practice)).status_code == 302
    # A wrong code is refused
    wrong_code = "123456" if totp_code(device) != "123456" else "654321"
    wrong = browser.post(reverse("signin_code"), {"token": wrong_code})
    assert TOTP_BAD_TOKEN in page_text(wrong)
    assert browser.get(dashboard_url(tenant.practice)).status_code == 302
    # The right code signs her in
    clock.shift(timedelta(seconds=31))
    right = browser.post(reverse("signin_code"), {"token": totp_code(device)}, follow=True)
    assert right.redirect_chain[-1][0] == dashboard_url(tenant.practice)
    assert "Harbour Street Therapy" in page_text(right)


def test_the_code_page_without_a_password_first_goes_back_to_sign_in(tenant):
    response = Client().get(reverse("signin_code"))
    assert response.status_code == 302
    assert response.url == reverse("signin")


def test_the_code_step_expires_after_five_minutes(tenant, clock):
    device = enrol(signed_in(tenant.owner), tenant.practice)
    browser = Client()
    sign_in(browser, tenant.owner.email)
    clock.shift(timedelta(minutes=6))
    response = browser.post(reverse("signin_code"), {"token": totp_code(device)}, follow=True)
    assert CODE_EXPIRED in page_text(response)
    assert browser.get(dashboard_url(tenant.practice)).status_code == 302


def test_a_code_is_not_accepted_twice(tenant, clock):
    device = enrol(signed_in(tenant.owner), tenant.practice)
    clock.shift(timedelta(seconds=31))
    code = totp_code(device)
    first = Client()
    sign_in(first, tenant.owner.email)
    assert first.post(reverse("signin_code"), {"token": code}).status_code == 302
    # Someone who saw the code tries it again at once
    second = Client()
    sign_in(second, tenant.owner.email, ip="203.0.113.9")
    replay = second.post(reverse("signin_code"), {"token": code})
    assert TOTP_BAD_TOKEN in page_text(replay)


def test_turning_it_off_lets_the_password_alone_sign_in_again(tenant, clock):
    owner = signed_in(tenant.owner)
    enrol(owner, tenant.practice)
    # Without the current password nothing changes
    refused = owner.post(url(tenant.practice, "security_totp_remove"), {"password": "wrong"}, follow=True)
    assert TOTP_REMOVE_NEEDS_PASSWORD in page_text(refused)
    assert sign_in(Client(), tenant.owner.email).url == reverse("signin_code")
    response = owner.post(url(tenant.practice, "security_totp_remove"), {"password": PASSWORD}, follow=True)
    assert "Two-step sign-in is off." in page_text(response)
    assert "Off." in page_text(owner.get(url(tenant.practice, "security")))
    browser = Client()
    assert sign_in(browser, tenant.owner.email).url != reverse("signin_code")
    assert browser.get(dashboard_url(tenant.practice)).status_code == 200


def test_an_unconfirmed_set_up_does_not_ask_for_a_code(tenant):
    signed_in(tenant.owner).post(url(tenant.practice, "security_totp_start"))
    response = sign_in(Client(), tenant.owner.email)
    assert response.url != reverse("signin_code")


def test_a_wrong_password_never_reaches_the_code_step(tenant, clock):
    enrol(signed_in(tenant.owner), tenant.practice)
    browser = Client()
    response = sign_in(browser, tenant.owner.email, "wrong password!")
    assert response.status_code == 200
    assert browser.get(reverse("signin_code")).url == reverse("signin")
