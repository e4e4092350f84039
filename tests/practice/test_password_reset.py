"""Password reset by email (issue 3 part 7)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from practice.models import User

from ..conftest import PASSWORD
from .conftest import dashboard_url, page_text, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "harbour lighthouse 2026"
CHECK_EMAIL = "If that address belongs to an account"


def ask_for_reset(email: str):
    return Client().post(reverse("password_reset"), {"email": email}, follow=True)


def link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_known_address_gets_an_email_with_a_link(tenant):
    response = ask_for_reset(tenant.owner.email)
    assert CHECK_EMAIL in page_text(response)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [tenant.owner.email]
    assert mail.outbox[0].subject == "Reset your Practica password"
    assert "/password-reset/" in mail.outbox[0].body


def test_an_unknown_address_sees_the_same_page_and_no_email_is_sent(tenant):
    known = ask_for_reset(tenant.owner.email)
    unknown = ask_for_reset("nobody@harbour.test")
    assert CHECK_EMAIL in page_text(unknown)
    assert known.redirect_chain == unknown.redirect_chain
    assert len(mail.outbox) == 1  # only the known address's email


def test_an_inactive_account_gets_no_email(tenant):
    User.objects.filter(pk=tenant.admin.pk).update(is_active=False)
    response = ask_for_reset(tenant.admin.email)
    assert CHECK_EMAIL in page_text(response)
    assert mail.outbox == []


def test_the_link_sets_a_new_password_and_ends_old_sessions(tenant):
    # Given the owner signed in on an old device, who forgot her password elsewhere
    old_device = Client()
    sign_in(old_device, tenant.owner.email)
    assert old_device.get(dashboard_url(tenant.practice)).status_code == 200
    ask_for_reset(tenant.owner.email)
    # When she opens the link and chooses a new password
    browser = Client()
    form_page = browser.get(link_in(mail.outbox[0]), follow=True)
    assert "Choose a new password" in page_text(form_page)
    done = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Password saved" in page_text(done)
    # Then the new password signs in and the old one does not
    assert sign_in(Client(), tenant.owner.email, PASSWORD).status_code == 200
    assert sign_in(Client(), tenant.owner.email, NEW_PASSWORD).status_code == 302
    # And the old device is signed out
    assert old_device.get(dashboard_url(tenant.practice)).status_code == 302


def test_the_link_works_only_once(tenant):
    ask_for_reset(tenant.owner.email)
    link = link_in(mail.outbox[0])
    browser = Client()
    form_page = browser.get(link, follow=True)
    browser.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client().get(link, follow=True)
    assert "This link has expired" in page_text(again)


def test_a_short_new_password_is_refused_with_a_field_error(tenant):
    ask_for_reset(tenant.owner.email)
    browser = Client()
    form_page = browser.get(link_in(mail.outbox[0]), follow=True)
    response = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Tr0ub4dor&3", "new_password2": "Tr0ub4dor&3"}
    )
    assert response.status_code == 200
    assert "at least 12 characters" in page_text(response)
    assert sign_in(Client(), tenant.owner.email, PASSWORD).status_code == 302
