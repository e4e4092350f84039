"""Staff sign-in: email and password, one generic error, and throttling (issue 3 part 7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from practice.forms import SIGN_IN_FAILED
from practice.models import User
from practice.throttle import ACCOUNT_LOCKED, ADDRESS_LOCKED
from tests.helpers import PASSWORD
from tests.practice.helpers import dashboard_url, page_text, sign_in

pytestmark = pytest.mark.django_db

LOCKED = "locked for 15 minutes"


def test_owner_signs_in_with_email_and_password_and_lands_on_the_dashboard(tenant):
    # Given the owner of one practice
    client = Client()
    # When she signs in with her email and password
    response = sign_in(client, tenant.owner.email)
    # Then she is taken to her practice's dashboard, which shows its name
    assert response.status_code == 302
    dashboard = client.get(response.url, follow=True)
    assert dashboard.redirect_chain[-1][0] == dashboard_url(tenant.practice)
    assert "Harbour Street Therapy" in page_text(dashboard)


def test_email_is_matched_whatever_its_case(tenant):
    response = sign_in(Client(), "  Owner@Harbour.TEST ")
    assert response.status_code == 302


def test_stored_passwords_are_argon2_hashes(tenant, settings):
    # Given the production hasher list (the suite uses a fast hasher elsewhere)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = User.objects.create_user("new@harbour.test", "a long enough password")
    assert user.password.startswith("argon2")


@pytest.mark.parametrize(
    "email,password",
    [
        ("owner@harbour.test", "not the password"),  # wrong password
        ("nobody@harbour.test", PASSWORD),  # unknown email
        ("", ""),  # nothing typed
    ],
    ids=["wrong-password", "unknown-email", "empty"],
)
def test_a_failed_sign_in_shows_one_generic_message(tenant, email, password):
    client = Client()
    response = sign_in(client, email, password)
    assert response.status_code == 200
    if email:
        assert SIGN_IN_FAILED in page_text(response)
    assert "_auth_user_id" not in client.session


def test_inactive_account_gets_the_same_message_as_a_wrong_password(tenant):
    # Given a deactivated account
    User.objects.filter(pk=tenant.admin.pk).update(is_active=False)
    # When it signs in with the right password
    inactive = sign_in(Client(), tenant.admin.email)
    wrong = sign_in(Client(), tenant.owner.email, "wrong password!")
    # Then the page says exactly what a wrong password says
    assert SIGN_IN_FAILED in page_text(inactive)
    assert page_text(inactive).count('role="alert"') == page_text(wrong).count('role="alert"')
    assert "inactive" not in page_text(inactive).lower()


def test_the_error_does_not_reveal_whether_the_email_exists(tenant):
    known = page_text(sign_in(Client(), tenant.owner.email, "wrong password!"))
    unknown = page_text(sign_in(Client(), "ghost@harbour.test", "wrong password!"))
    strip = lambda html: html.replace("owner@harbour.test", "X").replace("ghost@harbour.test", "X")  # noqa: E731
    # Everything but the CSRF token and the echoed email is the same page.
    import re

    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')
    assert token.sub("", strip(known)) == token.sub("", strip(unknown))


def test_signed_in_user_opening_sign_in_goes_home(tenant):
    client = Client()
    sign_in(client, tenant.owner.email)
    response = client.get(reverse("signin"))
    assert response.status_code == 302


def test_next_is_followed_only_inside_the_site(tenant):
    client = Client()
    response = client.post(
        reverse("signin"),
        {"username": tenant.owner.email, "password": PASSWORD, "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.url

    client = Client()
    target = reverse("staff", kwargs={"practice_slug": tenant.practice.slug})
    response = client.post(reverse("signin"), {"username": tenant.owner.email, "password": PASSWORD, "next": target})
    assert response.url == target


def test_an_anonymous_visitor_is_sent_to_sign_in(tenant):
    response = Client().get(dashboard_url(tenant.practice))
    assert response.status_code == 302
    assert response.url.startswith(reverse("signin"))


# Throttling -------------------------------------------------------------------------


def test_five_failures_for_an_account_lock_it_even_for_the_right_password(tenant, clock):
    client = Client()
    # Given five wrong passwords for the owner's account
    for _ in range(5):
        sign_in(client, tenant.owner.email, "wrong password!")
    # When the sixth attempt has the right password
    response = sign_in(client, tenant.owner.email)
    # Then the lockout page says so, and nobody is signed in
    assert LOCKED in page_text(response)
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_four_failures_do_not_lock(tenant, clock):
    client = Client()
    for _ in range(4):
        sign_in(client, tenant.owner.email, "wrong password!")
    response = sign_in(client, tenant.owner.email)
    assert response.status_code == 302


def test_a_strangers_five_failures_do_not_lock_the_real_user_out_from_her_own_address(tenant, clock):
    # Given a stranger at 203.0.113.9 who guesses the owner's password five times
    for _ in range(5):
        sign_in(Client(), tenant.owner.email, "wrong password!", ip="203.0.113.9")
    # When the owner signs in with her password from her own address
    response = sign_in(Client(), tenant.owner.email, ip="192.0.2.200")
    # Then she is signed in
    assert response.status_code == 302


def test_five_failures_lock_that_email_from_that_address(tenant, clock):
    # Given five wrong passwords for the owner from 203.0.113.9
    for _ in range(5):
        sign_in(Client(), tenant.owner.email, "wrong password!", ip="203.0.113.9")
    # When the right password comes from that same address
    response = sign_in(Client(), tenant.owner.email, ip="203.0.113.9")
    # Then the lockout page answers and nobody is signed in
    assert response.status_code == 429
    assert ACCOUNT_LOCKED in page_text(response)
    # And another account from that address is not locked by it
    assert sign_in(Client(), tenant.admin.email, ip="203.0.113.9").status_code == 302


def test_failures_across_a_few_accounts_from_one_address_do_not_lock_the_address(tenant, clock):
    # Given five failures from one address, each for a different (or unknown) email
    for n in range(5):
        sign_in(Client(), f"guess{n}@harbour.test", "wrong password!", ip="203.0.113.50")
    # When that address signs in to a real account with the right password
    response = sign_in(Client(), tenant.admin.email, ip="203.0.113.50")
    # Then it is signed in: five typos over a shared office address lock nobody out
    assert response.status_code == 302


def test_fifty_failures_in_an_hour_from_one_address_lock_it_for_every_account(tenant, clock):
    # Given 50 failures from one address, spread over 25 emails (two each, under the per-email limit)
    for n in range(50):
        sign_in(Client(), f"guess{n % 25}@harbour.test", "wrong password!", ip="203.0.113.50")
    # When that address signs in to a real account with the right password
    response = sign_in(Client(), tenant.admin.email, ip="203.0.113.50")
    # Then it is refused with the address lockout page
    assert response.status_code == 429
    assert ADDRESS_LOCKED in page_text(response)
    # And the same account from another address still signs in
    assert sign_in(Client(), tenant.admin.email, ip="192.0.2.9").status_code == 302
    # And an hour after those failures the address may sign in again
    clock.shift(timedelta(hours=1, seconds=1))
    assert sign_in(Client(), tenant.admin.email, ip="203.0.113.50").status_code == 302


def test_forty_nine_failures_from_one_address_do_not_lock_it(tenant, clock):
    for n in range(49):
        sign_in(Client(), f"guess{n % 25}@harbour.test", "wrong password!", ip="203.0.113.50")
    assert sign_in(Client(), tenant.admin.email, ip="203.0.113.50").status_code == 302


def test_a_locked_account_can_sign_in_again_after_15_minutes(tenant, clock):
    for _ in range(5):
        sign_in(Client(), tenant.owner.email, "wrong password!")
    clock.shift(timedelta(minutes=14))
    assert LOCKED in page_text(sign_in(Client(), tenant.owner.email))
    # When a further minute and a bit has passed
    clock.shift(timedelta(minutes=1, seconds=5))
    response = sign_in(Client(), tenant.owner.email)
    # Then the right password signs her in
    assert response.status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(tenant, clock):
    for _ in range(4):
        sign_in(Client(), tenant.owner.email, "wrong password!")
    assert sign_in(Client(), tenant.owner.email).status_code == 302
    for _ in range(4):
        sign_in(Client(), tenant.owner.email, "wrong password!")
    assert sign_in(Client(), tenant.owner.email).status_code == 302


def test_a_locked_account_is_locked_whatever_the_case_of_its_email(tenant, clock):
    for n in range(5):
        sign_in(Client(), "OWNER@harbour.test" if n % 2 else "owner@harbour.test", "wrong!", ip="203.0.113.1")
    response = sign_in(Client(), "Owner@Harbour.test", ip="203.0.113.1")
    assert LOCKED in page_text(response)
