"""Django admin opens only through the staff sign-in: it has no sign-in of its own, and a
superuser who set up two-step sign-in needs the code for it too."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from tests.helpers import PASSWORD, signed_in
from tests.practice.helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    user = UserFactory(email="platform@practica.test", is_superuser=True, is_staff=True)
    return user


def test_admin_has_no_sign_in_of_its_own(superuser):
    browser = Client()
    response = browser.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("signin"))
    # Posting credentials to it signs nobody in
    browser.post("/admin/login/", {"username": superuser.email, "password": PASSWORD})
    assert browser.get("/admin/").status_code == 302


def test_a_superuser_with_two_step_sign_in_needs_the_code_for_admin(superuser):
    device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    # A session that skipped the code (here: forced) does not open admin
    assert signed_in(superuser).get("/admin/").status_code == 302
    # The staff sign-in with the code does
    browser = Client()
    assert sign_in(browser, superuser.email).url == reverse("signin_code")
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    browser.post(reverse("signin_code"), {"token": code})
    assert browser.get("/admin/").status_code == 200


def test_a_superuser_without_two_step_sign_in_opens_admin(superuser):
    assert signed_in(superuser).get("/admin/").status_code == 200
